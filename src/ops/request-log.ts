/**
 * One log line and one metrics sample per GraphQL operation, and what may be logged of a failure.
 *
 * A request log line carries what the operation was and what it cost, never what it asked for:
 * no variables, no query text, no headers, no SQL parameters.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { costTotals } from '../query/runner';
import { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler } from 'express';
import { DocumentNode, GraphQLError, getOperationAST } from 'graphql';
import { CompiledQuery } from '../query/engine';
import { RequestContext } from '../graphql/context';
import { Logger } from '../logger';
import { Metrics } from './metrics';

/** A GraphQL Name; any other operation name a client sends is logged as "(invalid)". */
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;
/** Error codes are ours or Apollo's: upper case words. Anything else is reported as "ERROR". */
const ERROR_CODE = /^[A-Z][A-Z_]{1,39}$/;

function errorCode(extensions: Record<string, unknown> | undefined): string {
  const code = extensions?.code;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'ERROR';
}

export interface RequestLogOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

/**
 * Logs `graphql request` at info when each operation's response is sent: requestId,
 * operationName, operationType, status, durationMs, outcome (`ok`, or the first error code),
 * errorCodes, queries, engineQueries, cacheHits, rows, bytesScanned, engineMs; and records the
 * request metrics.
 */
export function requestLogPlugin(options: RequestLogOptions): ApolloServerPlugin<RequestContext> {
  const { logger, metrics } = options;
  /** A request refused before an operation could start (no context, or not a GraphQL request). */
  const refused = (error: Error, stage: string) => {
    const code = error instanceof GraphQLError ? errorCode(error.extensions) : 'INTERNAL_SERVER_ERROR';
    metrics?.refused(code);
    if (code === 'INTERNAL_SERVER_ERROR') logger.error({ stage, outcome: code, errName: error.name }, 'graphql request failed before execution');
    else logger.info({ stage, outcome: code }, 'graphql request refused');
  };
  return {
    async contextCreationDidFail({ error }) {
      refused(error, 'context');
    },
    async invalidRequestWasReceived({ error }) {
      refused(error, 'http');
    },
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, response, operationName, request, operation, document }) {
          const seconds = (performance.now() - started) / 1000;
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const codes = [...new Set(errors.map((e) => errorCode(e.extensions)))];
          const outcome = codes[0] ?? 'ok';
          const name = operationName ?? nameInDocument(document, request.operationName) ?? request.operationName ?? null;
          metrics?.request(name, outcome, seconds);
          const totals = costTotals(contextValue.runner?.reports ?? []);
          logger.info(
            {
              requestId: contextValue.requestId,
              operationName: name === null ? null : OPERATION_NAME.test(name) ? name : '(invalid)',
              operationType: operation?.operation ?? null,
              status: response.http.status ?? 200,
              durationMs: Math.round(seconds * 1000),
              outcome,
              ...(codes.length ? { errorCodes: codes } : {}),
              ...totals,
            },
            'graphql request',
          );
        },
      };
    },
  };
}

/**
 * The log line and metrics sample of an answer given whole from the response cache
 * (src/cache/response-cache.ts): the same fields, every statement a cache hit.
 */
export function logReusedAnswer(
  options: RequestLogOptions,
  answer: { readonly requestId: string; readonly operationName: string | null; readonly seconds: number; readonly queries: number; readonly rows: number },
): void {
  const name = answer.operationName;
  options.metrics?.request(name, 'ok', answer.seconds);
  options.logger.info(
    {
      requestId: answer.requestId,
      operationName: name === null ? null : OPERATION_NAME.test(name) ? name : '(invalid)',
      operationType: 'query',
      status: 200,
      durationMs: Math.round(answer.seconds * 1000),
      outcome: 'ok',
      answeredFrom: 'response cache',
      queries: answer.queries,
      engineQueries: 0,
      cacheHits: answer.queries,
      rows: answer.rows,
      bytesScanned: 0,
      engineMs: 0,
    },
    'graphql request',
  );
}

/** The operation's name when the document parsed but did not validate (no operation resolved). */
function nameInDocument(document: DocumentNode | undefined, requested: string | undefined): string | undefined {
  if (!document) return undefined;
  try {
    return getOperationAST(document, requested)?.name?.value;
  } catch {
    return undefined;
  }
}

/**
 * Text of an error from an engine or the service, fit for the log: every string parameter the
 * request bound to its queries (filter values, ids, addresses) and every single-quoted literal are
 * replaced, since engines quote offending values in their messages (`Could not convert string
 * 'x' to ...`). Double-quoted identifiers (column names) are kept.
 */
export function scrubForLog(text: string, compiled: readonly Pick<CompiledQuery, 'params'>[]): string {
  const values = new Set<string>();
  for (const q of compiled) for (const p of q.params) if (typeof p === 'string' && p.length >= 2) values.add(p);
  let out = text;
  // Longest first, so a value containing another is replaced whole.
  for (const v of [...values].sort((a, b) => b.length - a.length)) out = out.split(v).join('[param]');
  return out.replace(/'(?:[^'\\\n]|\\.|'')*'/g, "'?'");
}

/** An error as the log may show it: name, scrubbed message and stack, and (engines) query id. */
export function errorForLog(err: unknown, compiled: readonly Pick<CompiledQuery, 'params'>[]): Record<string, unknown> | string {
  if (!(err instanceof Error)) return scrubForLog(String(err), compiled);
  const queryId = (err as { options?: { queryId?: unknown } }).options?.queryId;
  return {
    name: err.name,
    message: scrubForLog(err.message, compiled),
    ...(err.stack ? { stack: scrubForLog(err.stack, compiled) } : {}),
    ...(typeof queryId === 'string' ? { queryId } : {}),
  };
}

/**
 * Errors raised before a request reaches GraphQL (a body that is not JSON, too large, ...):
 * answered as JSON with the request id, logged by type and status only. Express' default handler
 * would print the raw body to stderr and send a stack trace to the client.
 */
/** The caller's `x-request-id` when it is a plain token, else a new id. */
export function requestIdOf(req: { readonly headers: IncomingHttpHeaders }): string {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(header) ? header : randomUUID();
}

export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = (typeof err === 'object' && err !== null ? err : {}) as { status?: unknown; statusCode?: unknown; type?: unknown; name?: unknown };
    const raw = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
    const status = raw >= 400 && raw < 600 ? raw : 500;
    const requestId = requestIdOf(req);
    const type = typeof e.type === 'string' && /^[a-z.]{1,40}$/.test(e.type) ? e.type : undefined;
    const message =
      type === 'entity.parse.failed'
        ? 'The request body is not valid JSON.'
        : type === 'entity.too.large'
          ? 'The request body is too large.'
          : status < 500
            ? 'Bad request.'
            : 'Internal error. Quote the request id when reporting it.';
    const fields = { requestId, method: req.method, path: req.path, status, ...(type ? { type } : {}), ...(typeof e.name === 'string' ? { errName: e.name } : {}) };
    if (status >= 500) logger.error(fields, 'http request failed');
    else logger.info(fields, 'http request refused');
    res.setHeader('x-request-id', requestId);
    res.status(status).json({ errors: [{ message, extensions: { code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }], extensions: { requestId } });
  };
}
