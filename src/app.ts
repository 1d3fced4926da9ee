/**
 * The HTTP application: Apollo Server on express, per-request context (request id, scope,
 * service with its own loaders and query runner), error masking and the cost report.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
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
import { FULL_SCOPE } from './query/guards';
import { QueryCacheLayer, QueryReport, QueryRunner } from './query/runner';
import { GraphService } from './services/graph.service';
import { TrailService } from './services/trail.service';

export interface AppDeps {
  readonly config: Config;
  readonly engine: Engine;
  readonly dialect: Dialect;
  readonly logger: Logger;
  readonly cache?: QueryCacheLayer;
  readonly now?: () => Date;
}

export interface App {
  readonly httpServer: http.Server;
  readonly apollo: ApolloServer<RequestContext>;
  /** Port actually bound (useful with PORT=0). */
  listen(): Promise<number>;
  close(): Promise<void>;
}


function costReport(reports: readonly QueryReport[]) {
  return {
    queries: reports,
    totals: {
      queries: reports.length,
      engineQueries: reports.filter((r) => !r.cached).length,
      cacheHits: reports.filter((r) => r.cached).length,
      rows: reports.reduce((a, r) => a + r.rows, 0),
      bytesScanned: reports.filter((r) => !r.cached).reduce((a, r) => a + r.bytesScanned, 0),
      engineMs: reports.filter((r) => !r.cached).reduce((a, r) => a + r.engineMs, 0),
    },
  };
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
              { requestId: contextValue.requestId, err: original instanceof Error ? { name: original.name, message: original.message, stack: original.stack } : String(original) },
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
  const { config, engine, dialect, logger } = deps;
  const cursors = new CursorCodec(config.cursorSecret);
  const serviceDeps = { config, dialect, cursors, now: deps.now };
  const expressApp = express();
  const httpServer = http.createServer(expressApp);

  const apollo = new ApolloServer<RequestContext>({
    schema: schema(),
    introspection: true,
    csrfPrevention: true,
    formatError,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
      reportPlugin(logger),
    ],
  });
  await apollo.start();

  expressApp.disable('x-powered-by');
  expressApp.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  expressApp.use(
    '/graphql',
    cors<cors.CorsRequest>(),
    express.json({ limit: '256kb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<RequestContext> => {
        const header = req.headers['x-request-id'];
        const requestId = typeof header === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(header) ? header : randomUUID();
        res.setHeader('x-request-id', requestId);
        const abort = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) abort.abort();
        });
        const runner = new QueryRunner(engine, { cache: deps.cache, signal: abort.signal, timeoutMs: config.engineTimeoutMs, noCache: wantsNoCache(req) });
        const service = new TrailService(serviceDeps, runner, FULL_SCOPE);
        return { requestId, service, graph: new GraphService(service), runner };
      },
    }),
  );

  return {
    httpServer,
    apollo,
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
