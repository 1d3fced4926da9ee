/**
 * Answers given again over HTTP (src/cache/response-cache.ts): the middleware in front of Apollo
 * that answers a request whose exact body the same caller sent before, and the step after each
 * response that keeps it when it may be kept.
 */
import type * as http from 'node:http';
import type express from 'express';
import { FormattedExecutionResult, Kind, OperationDefinitionNode } from 'graphql';
import { wantsNoCache } from '../cache/cache';
import { ResponseCache } from '../cache/response-cache';
import type { Scope } from '../query/guards';
import { QueryReport, QueryRunner, cachedReport } from '../query/runner';
import { wantsExplain } from '../query/explain';
import { RequestLogOptions, logReusedAnswer, requestIdOf } from '../ops/request-log';

const rawBodies = new WeakMap<http.IncomingMessage, Buffer>();

/** `verify` of `express.json`: keeps the bytes a body was parsed from (the answer's key). */
export function keepRawBody(req: http.IncomingMessage, _res: http.ServerResponse, body: Buffer): void {
  rawBodies.set(req, body);
}

/** What the middleware learnt of a request it could not answer: the caller, and the key to keep its answer under. */
export interface PreparedRequest {
  readonly scope: Scope;
  readonly responseKey?: string;
}

const prepared = new WeakMap<http.IncomingMessage, PreparedRequest>();

export function preparedRequest(req: http.IncomingMessage): PreparedRequest | undefined {
  return prepared.get(req);
}

/**
 * Root fields whose answers come from the trail's statements alone. Others (`trailHealth`,
 * introspection) answer from the service's own state, which no fingerprint follows.
 */
const REUSABLE_ROOTS: ReadonlySet<string> = new Set([
  'actions',
  'activity',
  'apiCall',
  'apiCalls',
  'caller',
  'callers',
  'insights',
  'node',
  'nodes',
  'resource',
  'sourceIp',
  'sourceIps',
  'untimedRecords',
]);

function onlyReusableRoots(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && (REUSABLE_ROOTS.has(s.name.value) || s.name.value === '__typename'));
}

/**
 * Whether the request accepts the plain JSON a kept answer is written as, as Apollo would answer
 * it: no Accept header, or one naming `application/json` or anything. Others (the GraphQL
 * response media type, multipart, types Apollo refuses with 406) are left to Apollo.
 */
function acceptsPlainJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const types = accept.toLowerCase();
  if (types.includes('graphql-response') || types.includes('multipart')) return false;
  return types.includes('application/json') || types.includes('*/*');
}

export interface AnswerAgainOptions {
  readonly cache: ResponseCache;
  readonly authenticate: (authorization: string | undefined) => Promise<Scope>;
  readonly log: RequestLogOptions;
}

/**
 * Answers a POSTed GraphQL request from the response cache when it can; otherwise passes it on
 * to Apollo with the caller already authenticated. A request that fails authentication here is
 * passed on too, and refused there as every other one is.
 */
export function answerAgain(options: AnswerAgainOptions): express.RequestHandler {
  return (req, res, next) => {
    const body = rawBodies.get(req);
    if (req.method !== 'POST' || body === undefined || wantsExplain(req) || !acceptsPlainJson(req.headers.accept)) return next();
    const started = performance.now();
    options.authenticate(req.headers.authorization).then(
      async (scope) => {
        // A bypass asks for fresh answers: none is looked up, and the kept one is dropped (the
        // statements' fresh answers are kept, so the next ask is answered from those).
        const key = options.cache.keyOf(scope, body);
        if (scope.admin && wantsNoCache(req)) {
          options.cache.delete(key);
          prepared.set(req, { scope });
          return next();
        }
        prepared.set(req, { scope, responseKey: key });
        const hit = await options.cache.get(key);
        if (!hit) return next();
        const requestId = requestIdOf(req);
        res.status(200);
        res.set({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-request-id': requestId });
        res.end(hit.head + JSON.stringify(requestId) + hit.tail);
        logReusedAnswer(options.log, { requestId, operationName: hit.operationName, seconds: (performance.now() - started) / 1000, queries: hit.queries, rows: hit.rows });
      },
      () => next(),
    ).catch(next);
  };
}

/** The cost report of an answer given again: its statements, each a cache hit that read nothing. */
export function reusedReports(reports: readonly QueryReport[]): QueryReport[] {
  return reports.map(cachedReport);
}

export interface FinishedResponse {
  readonly responseKey: string | undefined;
  readonly runner: QueryRunner;
  readonly operation: OperationDefinitionNode | undefined;
  readonly operationName: string | null;
  readonly status: number | undefined;
  readonly result: FormattedExecutionResult;
  /** The `extensions` an answer given again carries after its request id (completeness, cost). */
  readonly reusedExtensions: () => Record<string, unknown>;
}

/**
 * Keeps a response for the same caller's same request when it can no longer change: a query
 * answered 200 without errors, asking only statement-backed root fields, every statement's answer
 * complete and over an ended window (`QueryRunner.reuse`).
 */
export function keepAnswer(cache: ResponseCache, r: FinishedResponse): void {
  if (r.responseKey === undefined || (r.status !== undefined && r.status !== 200)) return;
  if (r.result.errors?.length || r.result.data == null) return;
  if (!r.operation || r.operation.operation !== 'query' || !onlyReusableRoots(r.operation)) return;
  const reuse = r.runner.reuse();
  if (!reuse) return;
  // `{"complete":…,"cost":…}` continues the extensions after the request id.
  const extensions = JSON.stringify(r.reusedExtensions()).slice(1);
  cache.set(
    r.responseKey,
    {
      head: `{"data":${JSON.stringify(r.result.data)},"extensions":{"requestId":`,
      tail: `,${extensions}}\n`,
      operationName: r.operationName,
      queries: r.runner.reports.length,
      rows: r.runner.reports.reduce((a, q) => a + q.rows, 0),
    },
    reuse,
  );
}
