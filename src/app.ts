/**
 * The HTTP application: Apollo Server on express, per-request context (request id, scope,
 * service with its own loaders and query runner), error masking and the cost report.
 */
import * as http from 'node:http';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { Authenticator } from './auth/authenticate';
import { limitsPlugin } from './graphql/limits';
import { prevalidatePlugin } from './graphql/prevalidate';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { wantsNoCache } from './cache';
import { Config } from './config';
import { CompiledQuery, Engine } from './query/engine';
import { EngineError, TrailUnavailableError, TrailqlError } from './errors';
import { RequestContext } from './graphql/context';
import { schema } from './graphql/schema';
import { Logger } from './logger';
import { Dialect } from './query/compiler';
import { CursorCodec } from './query/cursor';
import { WalkStore } from './query/walks';
import { BudgetReport, FILES_UNREADABLE, QueryCacheLayer, QueryReport, QueryRunner, RequestSpending, costTotals, unreadableFiles } from './query/runner';
import { ScanBudget, estimateCost } from './query/scan-budget';
import { EXPLAIN_HEADER, explainEngine, explainStatements, wantsExplain } from './query/explain';
import { Admission } from './query/admission';
import { GraphService } from './services/graph.service';
import { NodeService } from './services/node.service';
import { TrailService } from './services/trail.service';
import { Lifecycle, opsRoutes } from './ops/health';
import { InstrumentedEngine, Metrics, createMetrics, instrumentEngine } from './ops/metrics';
import { errorForLog, httpErrorHandler, requestIdOf, requestLogPlugin } from './ops/request-log';
import { HttpDrainer } from './ops/shutdown';
import { webRoutes } from './web/routes';
import { EXPORT_HEADERS, exportRoutes } from './export/export.routes';
import { HISTORY_EVENTS_LEFT_OUT, HISTORY_NOT_SYNCED, HistoryCoverage, HistoryGap, HistoryLeftOut, historyGapMessage, historyLeftOutCount, historyLeftOutMessage } from './history/coverage';
import { ResponseCache } from './cache/response-cache';
import { answerAgain, keepAnswer, keepRawBody, preparedRequest, reusedReports } from './graphql/response-reuse';
import { PerCallerQueries, persistedQueriesFor } from './graphql/persisted-queries';
import { MAX_INPUT_DEPTH } from './query/guards';

export interface AppDeps {
  readonly config: Config;
  readonly engine: Engine;
  readonly dialect: Dialect;
  readonly logger: Logger;
  readonly cache?: QueryCacheLayer;
  readonly now?: () => Date;
  /** The app's metrics registry; a fresh one when omitted. */
  readonly metrics?: Metrics;
}

export interface App {
  readonly httpServer: http.Server;
  readonly apollo: ApolloServer<RequestContext>;
  /** Probes' state, request drainer, metrics and the instrumented engine: what a shutdown needs. */
  readonly ops: {
    readonly lifecycle: Lifecycle;
    readonly drainer: HttpDrainer;
    readonly metrics: Metrics;
    readonly engine: InstrumentedEngine;
    readonly admission: Admission;
    /** Whole answers kept to be given again; undefined when off. */
    readonly responses: ResponseCache | undefined;
  };
  /** Port actually bound (useful with PORT=0). */
  listen(): Promise<number>;
  close(): Promise<void>;
}


function costReport(reports: readonly QueryReport[], budgets: readonly BudgetReport[], pricePerTbUsd: number | undefined) {
  const queries = reports.map(({ unreadable, ...r }) => (unreadable ? { ...r, unreadableFiles: unreadable.length } : r));
  return {
    queries,
    totals: costTotals(reports),
    budgets,
    ...(pricePerTbUsd === undefined ? {} : { estimate: estimateCost(reports, pricePerTbUsd) }),
  };
}

/**
 * What the response says about its completeness: `complete` is false when any query of the
 * request left out files it could not read, and `warnings` then names them (relative paths); it is
 * false too when the response carries errors (a field that failed answered null, not "nothing").
 */
function completeness(reports: readonly QueryReport[], errors: number, gaps: readonly HistoryGap[], leftOut: readonly HistoryLeftOut[]) {
  const files = unreadableFiles(reports);
  const warnings: Record<string, unknown>[] = [];
  if (files.length) {
    const message = `${files.length} trail file${files.length === 1 ? '' : 's'} could not be read and ${files.length === 1 ? 'was' : 'were'} left out: the answer covers every other file.`;
    warnings.push({ code: FILES_UNREADABLE, message, count: files.length, files });
  }
  if (gaps.length) warnings.push({ code: HISTORY_NOT_SYNCED, message: historyGapMessage(gaps), regions: gaps });
  if (leftOut.length) warnings.push({ code: HISTORY_EVENTS_LEFT_OUT, message: historyLeftOutMessage(leftOut), count: historyLeftOutCount(leftOut), regions: leftOut });
  return warnings.length ? { complete: false, warnings } : { complete: errors === 0 };
}

/** Event history lacks nothing of what these statements read (neither unsynced time nor left-out events). */
function historyWhole(history: HistoryCoverage, statements: readonly Pick<CompiledQuery, 'window' | 'partitions'>[]): boolean {
  return Object.values(history.report(statements)).every((lacks) => lacks.length === 0);
}

/** What a preview (`x-trailql-explain`) says of its data: none of it was asked of the trail. */
const PREVIEW_COMPLETENESS = {
  complete: false,
  warnings: [{ code: 'PREVIEW_NOT_RUN', message: 'A preview (x-trailql-explain): no statement was run, so the data are empty placeholders, not an answer; extensions.explain lists the statements.' }],
} as const;

/** The `Retry-After` of the first 503-class refusal among a response's errors, if any. */
function unavailable(errors: readonly GraphQLFormattedError[] | undefined): number | undefined {
  for (const e of errors ?? []) {
    const code = e.extensions?.code;
    if (code === 'ENGINE_BUSY' || code === 'SHUTTING_DOWN') return Number(e.extensions?.retryAfterSeconds) || 1;
  }
  return undefined;
}

/**
 * Attaches the request id and the cost report to every response, logs engine failures, and keeps
 * answers that may be given again (`responses`).
 */
function reportPlugin(
  logger: Logger,
  pricePerTbUsd: number | undefined,
  responses: ResponseCache | undefined,
  history: HistoryCoverage | undefined,
): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const err of errors) {
            const original = unwrapResolverError(err);
            if (original instanceof TrailqlError || (original instanceof GraphQLError && original.extensions?.code) || refusalCode(original)) continue;
            logger.error(
              { requestId: contextValue.requestId, err: errorForLog(original, contextValue.runner?.compiled ?? []) },
              'request failed',
            );
          }
        },
        async willSendResponse({ contextValue, response, operation, operationName }) {
          // Answers are the caller's own (scoped by its key): no shared cache may keep them.
          if (!response.http.headers.has('cache-control')) response.http.headers.set('cache-control', 'no-store');
          if (response.body.kind !== 'single') return;
          await contextValue.runner?.finish();
          const result = response.body.singleResult;
          const { gaps, leftOut } = history?.report(contextValue.runner.compiled) ?? { gaps: [], leftOut: [] };
          const reports = contextValue.runner.reports;
          // A preview ran nothing: its data are placeholders of the answer's shape, and say so.
          const whole = contextValue.explain ? PREVIEW_COMPLETENESS : completeness(reports, result.errors?.length ?? 0, gaps, leftOut);
          result.extensions = { ...result.extensions, requestId: contextValue.requestId, ...whole, cost: costReport(reports, contextValue.runner.budgetReport(), pricePerTbUsd) };
          if (contextValue.explain) result.extensions.explain = { statements: explainStatements(contextValue.runner.compiled) };
          // A full engine queue is not the client's fault and not a failure: 503, come back later.
          const retryAfter = unavailable(result.errors);
          if (retryAfter !== undefined) {
            response.http.status = 503;
            response.http.headers.set('retry-after', String(retryAfter));
          }
          if (responses) {
            keepAnswer(responses, {
              // An answer over time the sync has not reached (or lacking events it could not write) may
              // change without a file it read changing: never given again.
              responseKey: gaps.length || leftOut.length ? undefined : contextValue.responseKey,
              runner: contextValue.runner,
              operation,
              operationName: operationName ?? null,
              status: response.http.status,
              result,
              reusedExtensions: () => {
                const { requestId: _id, cost: _cost, ...rest } = result.extensions ?? {};
                const budgets = contextValue.runner.budgetReport().map((b) => ({ ...b, spent: 0, exhausted: false }));
                return { ...rest, cost: { ...costReport(reusedReports(reports), budgets, pricePerTbUsd), answeredAgain: true } };
              },
            });
          }
        },
      };
    },
  };
}

/**
 * No answer carries a validator (no ETag, no Last-Modified: GraphQL answers and downloads are the
 * caller's own and `no-store`, health answers are of the moment, bundles are sent whole), so no
 * condition can hold: without this, Express answers `If-None-Match: *` with an empty 304.
 */
function answersOnly(req: express.Request, _res: express.Response, next: express.NextFunction): void {
  delete req.headers['if-none-match'];
  delete req.headers['if-modified-since'];
  next();
}

/** Apollo's own refusals of a malformed request that carry a 4xx status but no code. */
const APOLLO_REFUSALS: readonly [RegExp, string][] = [
  [/^provided sha does not match query$/, 'PERSISTED_QUERY_HASH_MISMATCH'],
  [/^Unsupported persisted query version$/, 'PERSISTED_QUERY_VERSION_UNSUPPORTED'],
];

/** The code of a client refusal Apollo raised without one (4xx status), else undefined. */
function refusalCode(error: unknown): string | undefined {
  if (!(error instanceof GraphQLError) || error.extensions?.code) return undefined;
  const status = (error.extensions?.http as { status?: unknown } | undefined)?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return APOLLO_REFUSALS.find(([re]) => re.test(error.message))?.[1] ?? 'BAD_REQUEST';
}

/** Errors we raised pass through with their code; anything else becomes a generic error with the request id. */
function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof TrailqlError) return formatted;
  const refusal = refusalCode(original);
  if (refusal) return { message: formatted.message, extensions: { code: refusal } };
  const code = formatted.extensions?.code;
  // graphql's parser recurses once per bracket: a document nested thousands deep overflows the stack.
  if (code === 'GRAPHQL_PARSE_FAILED' && /Maximum call stack size exceeded/.test(formatted.message)) {
    return {
      message: `Syntax Error: the document nests too deep to be read; a value nests at most ${MAX_INPUT_DEPTH} levels of objects and lists, and selections at most MAX_QUERY_DEPTH levels (a setting of the service)`,
      extensions: { code },
    };
  }
  if (!(original instanceof EngineError) && typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
    // Validation and parse errors: the client's own query, safe to show. Argument values of the
    // wrong type or unknown enum values are bad input.
    if (code === 'GRAPHQL_VALIDATION_FAILED' && /Expected value of type|does not exist in "|cannot represent|Expected type/.test(formatted.message)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
    }
    return formatted;
  }
  if (original instanceof TrailUnavailableError) {
    return { message: 'The trail cannot be read right now; no answer was made. Quote the request id when reporting it.', locations: formatted.locations, path: formatted.path, extensions: { code: 'TRAIL_UNAVAILABLE' } };
  }
  const timeout = original instanceof EngineError && original.options.timeout;
  return {
    message: timeout ? 'The query took too long and was cancelled.' : 'Internal error. Quote the request id when reporting it.',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: timeout ? 'ENGINE_TIMEOUT' : original instanceof EngineError ? 'ENGINE_ERROR' : 'INTERNAL_SERVER_ERROR' },
  };
}

export async function createApp(deps: AppDeps): Promise<App> {
  const { config, dialect, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const engine = instrumentEngine(deps.engine, metrics);
  metrics.observeCache(deps.cache);
  metrics.observeTrail(engine);
  const cursors = new CursorCodec(config.cursorSecret);
  // A trail folder Event history fills: answers say which part of their window it has not reached.
  const history =
    config.engine === 'duckdb' && config.trailDir
      ? new HistoryCoverage({
          trailDir: config.trailDir,
          regions: config.eventHistory.regions,
          eventSources: config.eventSources,
          graceMs: (config.eventHistory.intervalMinutes + config.eventHistory.overlapMinutes) * 60_000,
          now: deps.now,
        })
      : undefined;
  // Grouped walks' lists, kept between pages (src/query/walks.ts); with or without the answer cache.
  const walks =
    config.cache.walks.keepSeconds > 0
      ? new WalkStore({
          keepMs: config.cache.walks.keepSeconds * 1000,
          maxBytes: config.cache.walks.maxBytes,
          // A list read while Event history lacked part of its window is read again, and said so, on every page.
          ...(history ? { whole: (query) => historyWhole(history, [query]) } : {}),
        })
      : undefined;
  const serviceDeps = { config, dialect, cursors, now: deps.now, walks, ...(history ? { whole: (statements: readonly CompiledQuery[]) => historyWhole(history, statements) } : {}) };
  const auth = new Authenticator(config.security.auth);
  const expressApp = express();
  const httpServer = http.createServer(expressApp);
  // Node closes idle connections after 5 s by default: a client (or balancer) that reuses one just
  // then gets a reset. Keep them longer than the client's side does; headers must come sooner.
  httpServer.keepAliveTimeout = config.keepAliveSeconds * 1000;
  httpServer.headersTimeout = config.keepAliveSeconds * 1000 + 1000;
  const drainer = new HttpDrainer(httpServer);
  metrics.observeHttp(drainer);
  const lifecycle = new Lifecycle();
  const responses = deps.cache && config.cache.responses.enabled
    ? new ResponseCache(engine, {
        maxBytes: config.cache.responses.maxBytes,
        maxEntryBytes: Math.max(1, Math.floor(config.cache.responses.maxBytes / 16)),
        maxTtlMs: config.cache.responses.ttlSeconds * 1000,
        // Event history the sync reaches or fails to write later changes no file an answer read.
        ...(history ? { stillWhole: (statements) => historyWhole(history, statements) } : {}),
      })
    : undefined;
  metrics.observeResponses(responses);
  const admission = new Admission(config.admission, Math.min(config.admission.maxConcurrent, engine.maxConcurrentQueries ?? Infinity));

  /** Authenticates the caller and makes its per-request runner and services (GraphQL and downloads alike). */
  const requestContext = async (req: express.Request, requestId: string, signal: AbortSignal, spentSoFar?: RequestSpending): Promise<RequestContext> => {
    // Authenticated already when the response cache looked the request up.
    const known = preparedRequest(req);
    const scope = known?.scope ?? (await auth.authenticate(req.headers.authorization));
    // A preview (admin keys only) runs nothing and bypasses the cache: its empty answers must
    // never be stored as real ones.
    const explain = wantsExplain(req);
    if (explain && !scope.admin) {
      throw new GraphQLError(`${EXPLAIN_HEADER} needs an admin key`, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
    }
    const runner = new QueryRunner(explain ? explainEngine(engine) : engine, {
      cache: explain ? undefined : deps.cache,
      signal,
      timeoutMs: config.engineTimeoutMs,
      budgetMs: config.security.limits.requestEngineBudgetMs,
      admission,
      continuing: spentSoFar !== undefined,
      spentSoFar,
      noCache: scope.admin && wantsNoCache(req),
      // Kept answers say what was asked before (cost.cached, timing): each caller sees only its own.
      cachePartition: config.cache.sharedAcrossCallers ? undefined : scope.principal,
      scanBudget: deps.engine.capabilities.billedByScan && config.scan.budgetBytes > 0 ? new ScanBudget(config.scan.budgetBytes) : undefined,
    });
    // A preview reads nothing: it neither takes a walk's list nor keeps its placeholders as one.
    const service = new TrailService(explain ? { ...serviceDeps, walks: undefined } : serviceDeps, runner, scope);
    const graph = new GraphService(service);
    return { requestId, service, graph, nodes: new NodeService(service, graph), runner, trailHealth: engine.trailHealth, explain, responseKey: known?.responseKey };
  };

  const apollo = new ApolloServer<RequestContext>({
    schema: schema(),
    introspection: config.security.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Each caller's query texts apart: a hash another caller registered is unknown to it.
    persistedQueries: { cache: new PerCallerQueries() },
    formatError,
    includeStacktraceInErrorResponses: false,
    // Signals are handled by the service's own shutdown (src/ops/shutdown.ts).
    stopOnTerminationSignals: false,
    plugins: [
      // No type carries a cache hint: Apollo's default cache-control plugin would only wrap every
      // field's resolver to compute "no-store", which the report plugin sets once instead.
      ApolloServerPluginCacheControlDisabled(),
      config.explorer === 'sandbox' ? ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false, endpointIsEditable: false }, includeCookies: false }) : ApolloServerPluginLandingPageDisabled(),
      limitsPlugin({ ...config.security.limits, defaultPageSize: config.page.defaultSize, maxPageSize: config.page.maxSize }),
      prevalidatePlugin<RequestContext>(
        { eventSources: config.eventSources, window: config.window, page: config.page, cursors },
        (ctx) => ({ scope: ctx.service.scope, now: ctx.service.now(), expectOneStatement: () => ctx.runner.expectOneStatement() }),
      ),
      // Engines billed by bytes scanned get an estimate of each request's price.
      reportPlugin(logger, deps.engine.capabilities.billedByScan ? config.scan.pricePerTbUsd : undefined, responses, history),
      requestLogPlugin({ logger, metrics }),
    ],
  });
  await apollo.start();

  expressApp.disable('x-powered-by');
  // GraphQL answers are POSTed and never revalidated: hashing every body for an ETag is wasted work.
  expressApp.set('etag', false);
  expressApp.use(answersOnly);
  expressApp.use(
    opsRoutes({
      engine: deps.engine,
      cache: deps.cache,
      schema,
      lifecycle,
      timeoutMs: config.ops.readinessTimeoutMs,
      engineLastOk: () => engine.lastOkAt,
      logger,
      metrics: config.ops.metricsEnabled ? metrics : undefined,
    }),
  );
  expressApp.use(webRoutes({ explorer: config.explorer, logger }));
  const allowOrigins = cors<cors.CorsRequest>({
    origin: config.security.corsOrigins.includes('*') ? true : [...config.security.corsOrigins],
    // trailql only reads: what /graphql and downloads answer.
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight', 'x-apollo-operation-name', EXPLAIN_HEADER],
    exposedHeaders: ['x-request-id', 'content-disposition', ...Object.values(EXPORT_HEADERS)],
    maxAge: 600,
  });
  expressApp.use(
    '/graphql',
    // The Sandbox landing page (GET): framed by this origin only, and it names the service to
    // nobody it loads code from.
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (req.method === 'GET' || req.method === 'HEAD') res.setHeader('content-security-policy', "frame-ancestors 'self'").setHeader('referrer-policy', 'no-referrer');
      next();
    },
    allowOrigins,
    express.json({ limit: '256kb', verify: keepRawBody }),
    ...(responses ? [answerAgain({ cache: responses, authenticate: (authorization) => auth.authenticate(authorization), log: { logger, metrics } })] : []),
    persistedQueriesFor(async (req) => preparedRequest(req)?.scope ?? auth.authenticate(req.headers.authorization)),
    // What Event history had synced is taken before the request reads a file (HistoryCoverage.during).
    ...(history ? [(_req: express.Request, _res: express.Response, next: express.NextFunction) => history.during(next)] : []),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<RequestContext> => {
        const requestId = requestIdOf(req);
        res.setHeader('x-request-id', requestId);
        const abort = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) abort.abort();
        });
        drainer.track(res, () => abort.abort());
        const context = await requestContext(req, requestId, abort.signal);
        // Whatever the response's kind, the request's engine queries end (and what they shared is released) with it.
        res.on('close', () => void context.runner.finish());
        return context;
      },
    }),
  );
  const downloads = exportRoutes({
    schema: schema(),
    context: requestContext,
    formatError,
    maxPageSize: config.page.maxSize,
    logger,
    history,
    authenticate: (req) => auth.authenticate(req.headers.authorization),
  });
  expressApp.use('/export', allowOrigins, downloads);

  // A request answered 503 by the shutdown still ends inside Apollo: its late write fails, harmlessly.
  expressApp.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (drainer.answeredAtDeadline(res)) return;
    next(err);
  });
  expressApp.use(httpErrorHandler(logger));

  return {
    httpServer,
    apollo,
    ops: { lifecycle, drainer, metrics, engine, admission, responses },
    listen: () =>
      new Promise<number>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          const addr = httpServer.address();
          resolve(typeof addr === 'object' && addr ? addr.port : config.port);
        });
      }),
    /**
     * Drains the HTTP server (one drainer: the requests still running at the shutdown deadline are
     * answered 503 and cut off), then stops Apollo. After a shutdown has drained, only Apollo stops.
     */
    async close() {
      await drainer.drain(config.ops.shutdownTimeoutMs);
      await apollo.stop();
    },
  };
}
