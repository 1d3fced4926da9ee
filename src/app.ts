/**
 * The HTTP application: Apollo Server on express, per-request context (request id, scope,
 * service with its own loaders and query runner), error masking and the cost report.
 */
import * as http from 'node:http';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { Authenticator } from './auth/authenticate';
import { limitsPlugin } from './graphql/limits';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { wantsNoCache } from './cache';
import { Config } from './config';
import { Engine } from './engines/engine';
import { EngineError, TrailqlError } from './errors';
import { RequestContext } from './graphql/context';
import { schema } from './graphql/schema';
import { Logger } from './logger';
import { Dialect } from './query/compiler';
import { CursorCodec } from './query/cursor';
import { QueryCacheLayer, QueryReport, QueryRunner, costTotals } from './query/runner';
import { GraphService } from './services/graph.service';
import { TrailService } from './services/trail.service';
import { Lifecycle, opsRoutes } from './ops/health';
import { InstrumentedEngine, Metrics, createMetrics, instrumentEngine } from './ops/metrics';
import { errorForLog, httpErrorHandler, requestIdOf, requestLogPlugin } from './ops/request-log';
import { HttpDrainer } from './ops/shutdown';
import { webRoutes } from './web/routes';

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
  readonly ops: { readonly lifecycle: Lifecycle; readonly drainer: HttpDrainer; readonly metrics: Metrics; readonly engine: InstrumentedEngine };
  /** Port actually bound (useful with PORT=0). */
  listen(): Promise<number>;
  close(): Promise<void>;
}


function costReport(reports: readonly QueryReport[]) {
  return { queries: reports, totals: costTotals(reports) };
}

/** Attaches the request id and the cost report to every response, and logs engine failures. */
function reportPlugin(logger: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const err of errors) {
            const original = unwrapResolverError(err);
            if (original instanceof TrailqlError || (original instanceof GraphQLError && original.extensions?.code)) continue;
            logger.error(
              { requestId: contextValue.requestId, err: errorForLog(original, contextValue.runner?.compiled ?? []) },
              'request failed',
            );
          }
        },
        async willSendResponse({ contextValue, response }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, requestId: contextValue.requestId, cost: costReport(contextValue.runner.reports) };
        },
      };
    },
  };
}

/** Errors we raised pass through with their code; anything else becomes a generic error with the request id. */
function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof TrailqlError) return formatted;
  const code = formatted.extensions?.code;
  if (!(original instanceof EngineError) && typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
    // Validation and parse errors: the client's own query, safe to show. Argument values of the
    // wrong type or unknown enum values are bad input.
    if (code === 'GRAPHQL_VALIDATION_FAILED' && /Expected value of type|does not exist in "|cannot represent|Expected type/.test(formatted.message)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
    }
    return formatted;
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
  const cursors = new CursorCodec(config.cursorSecret);
  const serviceDeps = { config, dialect, cursors, now: deps.now };
  const auth = new Authenticator(config.security.auth);
  const expressApp = express();
  const httpServer = http.createServer(expressApp);
  const drainer = new HttpDrainer(httpServer);
  metrics.observeHttp(drainer);
  const lifecycle = new Lifecycle();

  const apollo = new ApolloServer<RequestContext>({
    schema: schema(),
    introspection: config.security.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    formatError,
    includeStacktraceInErrorResponses: false,
    // Signals are handled by the service's own shutdown (src/ops/shutdown.ts).
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      config.explorer === 'sandbox' ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }) : ApolloServerPluginLandingPageDisabled(),
      limitsPlugin({ ...config.security.limits, defaultPageSize: config.page.defaultSize, maxPageSize: config.page.maxSize }),
      reportPlugin(logger),
      requestLogPlugin({ logger, metrics }),
    ],
  });
  await apollo.start();

  expressApp.disable('x-powered-by');
  // GraphQL answers are POSTed and never revalidated: hashing every body for an ETag is wasted work.
  expressApp.set('etag', false);
  expressApp.use(
    opsRoutes({
      engine: deps.engine,
      cache: deps.cache,
      schema,
      lifecycle,
      timeoutMs: config.ops.readinessTimeoutMs,
      logger,
      metrics: config.ops.metricsEnabled ? metrics : undefined,
    }),
  );
  expressApp.use(webRoutes({ explorer: config.explorer, logger }));
  expressApp.use(
    '/graphql',
    cors<cors.CorsRequest>({
      origin: config.security.corsOrigins.includes('*') ? true : [...config.security.corsOrigins],
      allowedHeaders: ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight', 'x-apollo-operation-name'],
      exposedHeaders: ['x-request-id'],
      maxAge: 600,
    }),
    express.json({ limit: '256kb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<RequestContext> => {
        const requestId = requestIdOf(req);
        res.setHeader('x-request-id', requestId);
        const abort = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) abort.abort();
        });
        const scope = await auth.authenticate(req.headers.authorization);
        const runner = new QueryRunner(engine, {
          cache: deps.cache,
          signal: abort.signal,
          timeoutMs: config.engineTimeoutMs,
          budgetMs: config.security.limits.requestEngineBudgetMs,
          noCache: scope.admin && wantsNoCache(req),
        });
        const service = new TrailService(serviceDeps, runner, scope);
        return { requestId, service, graph: new GraphService(service), runner };
      },
    }),
  );

  expressApp.use(httpErrorHandler(logger));

  return {
    httpServer,
    apollo,
    ops: { lifecycle, drainer, metrics, engine },
    listen: () =>
      new Promise<number>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          const addr = httpServer.address();
          resolve(typeof addr === 'object' && addr ? addr.port : config.port);
        });
      }),
    async close() {
      await apollo.stop();
    },
  };
}
