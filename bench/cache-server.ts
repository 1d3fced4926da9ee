/**
 * A server for bench/cache.bench.ts, run in its own process so that the load generator, the
 * bench's bookkeeping and the other servers do not share its event loop or its memory:
 *
 *   trailql   the service (createApp over TRAIL_DIR with the process's environment; BENCH_NOW fixes its clock)
 *   bare      a bare Apollo Server 5 (its standalone HTTP server) whose resolvers return the
 *             answer in BENCH_ANSWER (a file holding the `data` trailql gave), and the pages of a
 *             walk of callers the parent sends it (`{ callerPages }`, each under its `first` and
 *             `after`; acknowledged with `{ callerPagesKept }`): the ceiling
 *   bare-express  the same bare server behind express 5 and express.json, as the service is
 *
 * It sends `{ url }` to the parent over IPC once listening, then answers `stats` messages with the
 * cache's counters and `shared-scans` messages with the engine's shared readings (trailql only). bench/run.ts runs its servers here too.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { loadBenchConfig } from '../src/config';
import { callerPageKey } from './servers';

/** The GraphQL shape of the bench's question, fields as the service answers them (all text, as JSON carries them). */
const BARE_SCHEMA = `#graphql
  input ApiCallFilter { from: String, to: String }
  type Caller { arn: String, identityType: String, principal: String, userName: String }
  type ApiCall { eventId: String, eventTime: String, action: String, eventSource: String, region: String, account: String, sourceIpAddress: String, errorCode: String, caller: Caller }
  type Edge { node: ApiCall }
  type PageInfo { hasNextPage: Boolean, endCursor: String }
  type ApiCallConnection { pageInfo: PageInfo, edges: [Edge] }
  type CallerStats { calls: Int, errors: Int }
  type CallerNode { key: String, stats: CallerStats }
  type CallerEdge { node: CallerNode }
  type CallerConnection { pageInfo: PageInfo, edges: [CallerEdge] }
  type Query { apiCalls(filter: ApiCallFilter, first: Int): ApiCallConnection, callers(filter: ApiCallFilter, first: Int, after: String): CallerConnection }
`;

async function bare(withExpress: boolean): Promise<string> {
  const answer = JSON.parse(fs.readFileSync(loadBenchConfig().answerFile ?? '', 'utf8')) as { apiCalls: unknown };
  // The pages of the walks whose later requests this server answers as trailql did (bench/run.ts).
  const callerPages = new Map<string, unknown>();
  process.on('message', (m: { callerPages?: Record<string, unknown> }) => {
    if (!m || typeof m !== 'object' || !m.callerPages) return;
    for (const [key, page] of Object.entries(m.callerPages)) callerPages.set(key, page);
    process.send?.({ callerPagesKept: callerPages.size });
  });
  const resolvers = {
    Query: {
      apiCalls: () => answer.apiCalls,
      callers: (_: unknown, args: { first: number; after: string | null }) => callerPages.get(callerPageKey(args.first, args.after ?? null)) ?? null,
    },
  };
  const server = new ApolloServer({ typeDefs: BARE_SCHEMA, resolvers });
  if (!withExpress) {
    const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
    return url;
  }
  await server.start();
  const app = express();
  app.use('/graphql', express.json({ limit: '256kb' }), expressMiddleware(server));
  const httpServer = http.createServer(app);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const addr = httpServer.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/graphql`;
}

async function trailql(): Promise<string> {
  const { createApp } = await import('../src/app');
  const { createCache } = await import('../src/cache');
  const { loadConfig } = await import('../src/config');
  const { createEngine } = await import('../src/engines');
  const { createLogger } = await import('../src/logger');
  const { DuckDbEngine } = await import('../src/engines/duckdb/driver');
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { engine, dialect } = await createEngine(config, config.trailDir ?? '');
  const cache = createCache(config, logger);
  const fixed = loadBenchConfig().now;
  const app = await createApp({ config, engine, dialect, logger, cache, ...(fixed ? { now: () => fixed } : {}) });
  const port = await app.listen();
  const deadline = Date.now() + 10_000;
  while (config.cache.redisUrl && !cache.stats().connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  process.on('message', (m) => {
    if (m === 'stats') process.send?.({ stats: cache.stats(), responses: app.ops.responses?.stats() });
    if (m === 'shared-scans' && engine instanceof DuckDbEngine) void engine.sharedScans().then((sharedScans) => process.send?.({ sharedScans }));
  });
  return `http://127.0.0.1:${port}/graphql`;
}

const kind = process.argv[2];
(kind === 'trailql' ? trailql() : kind === 'bare' || kind === 'bare-express' ? bare(kind === 'bare-express') : Promise.reject(new Error(`unknown server ${kind}`)))
  .then((url) => (process.send ? process.send({ url }) : process.stdout.write(`${url}\n`)))
  .catch((err: unknown) => {
    process.stderr.write(`cache-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
// The parent going away ends this process (and SIGTERM exits cleanly, so `node --cpu-prof` writes its profile).
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
