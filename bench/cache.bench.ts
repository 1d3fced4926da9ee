/**
 * Answer-cache benchmark over HTTP: the same GraphQL query served from a warm cache (Redis, then
 * the in-process LRU) and uncached (`x-trailql-no-cache: 1`, the engine runs every time), with
 * autocannon firing from a worker thread at a server started in this process on a generated
 * sample trail. Prints a Markdown report and writes it to bench/results/cache.md.
 *
 *   npm run bench:cache
 *
 * Environment: BENCH_DURATION (seconds per run, default 10), BENCH_CONNECTIONS (default 10),
 * BENCH_DAYS (sample trail length, default 2), REDIS_URL (use this Redis instead of starting a
 * throwaway redis-server), BENCH_OUT (report path; "-" to print only).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { createApp } from '../src/app';
import { hashKey } from '../src/auth/authenticate';
import { QueryCache, createCache } from '../src/cache';
import { COMPRESS_THRESHOLD_BYTES, encodeEntry } from '../src/cache/codec';
import { loadBenchConfig, loadConfig } from '../src/config';
import { createEngine } from '../src/engines';
import { createLogger } from '../src/logger';
import { generateSampleTrail } from '../src/trail/sample';
import { TestRedis, hasRedisServer, startRedis } from '../test/support/redis';
import { RecordingEngine } from '../test/support/server';

const BENCH = loadBenchConfig();
const DURATION = BENCH.durationSeconds ?? 10;
/** Uncached requests take hundreds of milliseconds each: give them longer to collect a sample. */
const UNCACHED_DURATION = BENCH.uncachedDurationSeconds ?? 30;
const CONNECTIONS = BENCH.connections ?? 10;
const DAYS = BENCH.days ?? 2;
const OUT = BENCH.out ?? path.resolve(__dirname, 'results/cache.md');
const DAY = 86_400_000;

/** The sample ends at today's midnight (UTC): yesterday is a complete, immutable window. */
const END = new Date(Math.floor(Date.now() / DAY) * DAY);
const WINDOW = { from: new Date(END.getTime() - DAY).toISOString(), to: END.toISOString() };
const QUERY = `query($filter: ApiCallFilter, $first: Int) {
  apiCalls(filter: $filter, first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { node { eventId eventTime action eventSource region account sourceIpAddress errorCode
      caller { arn identityType principal userName } } }
  }
}`;
const UNCACHED = 'uncached (`x-trailql-no-cache: 1`)';
const NO_CACHE = { 'x-trailql-no-cache': '1' };
const loadAtStart = os.loadavg();
/** Requests authenticate as in production: an API key (admin, so that it may bypass the cache). */
const API_KEY = randomBytes(24).toString('hex');
const API_KEYS = [{ id: 'bench', sha256: hashKey(API_KEY), accounts: ['*'], regions: [], payloads: true, admin: true }];
const AUTH = { authorization: `Bearer ${API_KEY}` };
const BODY = JSON.stringify({ query: QUERY, variables: { filter: WINDOW, first: 50 } });

interface Row {
  scenario: string;
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  hits: number;
  engineRuns: number;
}

async function post(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH, ...headers }, body: BODY });
  const body = (await res.json()) as { data?: { apiCalls: { edges: unknown[] } }; errors?: unknown; extensions?: { cost: { totals: { cacheHits: number } } } };
  if (res.status !== 200 || body.errors || !body.data) throw new Error(`bad answer: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { edges: body.data.apiCalls.edges.length, cached: body.extensions?.cost.totals.cacheHits === 1 };
}

async function fire(url: string, headers: Record<string, string>, connections: number, duration: number): Promise<autocannon.Result> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH, ...headers },
    body: BODY,
    connections,
    duration,
    timeout: 60,
    workers: 1,
  });
  if (result.errors || result.non2xx || result.timeouts) throw new Error(`autocannon: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  return result;
}

async function scenario(name: string, url: string, cache: QueryCache, headers: Record<string, string>, expectCached: boolean, connections: number): Promise<Row> {
  // Warm up (and fill the cache), and check the answer is what the scenario claims to measure.
  await post(url, headers);
  const check = await post(url, headers);
  if (check.cached !== expectCached || check.edges !== 50) throw new Error(`${name}: expected cached=${expectCached} with 50 edges, got ${JSON.stringify(check)}`);
  const before = cache.stats();
  const r = await fire(url, headers, connections, expectCached ? DURATION : UNCACHED_DURATION);
  const after = cache.stats();
  const row = {
    scenario: name,
    connections,
    requests: r.requests.total,
    rps: r.requests.average,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    hits: after.hits - before.hits + (after.coalesced - before.coalesced),
    engineRuns: after.misses - before.misses + (after.bypassed - before.bypassed),
  };
  process.stderr.write(`${name}, ${connections} connection(s): ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms\n`);
  return row;
}

async function serve(trailDir: string, env: Record<string, string>) {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TRAIL_DIR: trailDir, API_KEYS: JSON.stringify(API_KEYS), CACHE_SECRET: 'bench-cache-secret-of-32-characters!', ...env });
  const logger = createLogger(config.logLevel);
  const { engine: inner, dialect } = await createEngine(config, trailDir);
  const engine = new RecordingEngine(inner);
  const cache = createCache(config, logger);
  const app = await createApp({ config, engine, dialect, logger, cache });
  const port = await app.listen();
  const deadline = Date.now() + 10_000;
  while (!cache.stats().connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    cache,
    engine,
    close: async () => {
      await app.close();
      await cache.close();
      await engine.close();
    },
  };
}

interface LayerCost {
  store: string;
  n: number;
  rows: number;
  jsonBytes: number;
  storedBytes: number;
  p50: number;
  p99: number;
  mean: number;
}

/** The cache layer alone, no HTTP or GraphQL: one hit after another for the benchmark's compiled query, in microseconds. */
async function layerCost(store: string, cache: QueryCache, engine: RecordingEngine, n = 5000): Promise<LayerCost> {
  const query = engine.executed[engine.executed.length - 1];
  if (!query) throw new Error('no compiled query recorded');
  const notAHit = async (): Promise<never> => {
    throw new Error('expected a cache hit');
  };
  const us: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t = process.hrtime.bigint();
    await cache.run(engine, query, notAHit);
    us.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  us.sort((a, b) => a - b);
  const { rows } = await cache.run(engine, query, notAHit);
  const stored = await encodeEntry(cache.keyFor(engine, query), { rows, storedAt: Date.now() }, 'bench-cache-secret-of-32-characters!');
  const at = (q: number) => Math.round(us[Math.min(us.length - 1, Math.floor(q * us.length))]);
  return { store, n, rows: rows.length, jsonBytes: Buffer.byteLength(JSON.stringify(rows)), storedBytes: stored.length, p50: at(0.5), p99: at(0.99), mean: Math.round(us.reduce((a, b) => a + b, 0) / us.length) };
}

const kib = (bytes: number | undefined) => (bytes === undefined ? '?' : (bytes / 1024).toFixed(1));

function machine(redisVersion: string | undefined): string[] {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  return [
    `- CPU: ${cpu}, \`nproc\` = ${os.availableParallelism()}, memory ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- ${os.type()} ${os.release()}; Node ${process.version}${redisVersion ? `; ${redisVersion}` : ''}`,
    `- Load average (1, 5, 15 min) at the start: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')}; at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`,
  ];
}

async function main(): Promise<void> {
  const trailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-bench-'));
  process.stderr.write(`generating a ${DAYS}-day sample trail in ${trailDir}\n`);
  const sample = await generateSampleTrail({ outDir: trailDir, days: DAYS, end: END, seed: 42 });
  let redis: TestRedis | undefined;
  let redisUrl = BENCH.redisUrl;
  let redisVersion: string | undefined;
  if (!redisUrl && hasRedisServer()) {
    redis = await startRedis();
    redisUrl = redis.url;
    redisVersion = execFileSync('redis-server', ['--version']).toString().trim().replace(/ sha=.*/, '');
  }
  const rows: Row[] = [];
  const layer: LayerCost[] = [];
  try {
    if (redisUrl) {
      const s = await serve(trailDir, { REDIS_URL: redisUrl });
      try {
        for (const c of [1, CONNECTIONS]) rows.push(await scenario('cache hit, Redis', s.url, s.cache, {}, true, c));
        layer.push(await layerCost('Redis', s.cache, s.engine));
        for (const c of [1, CONNECTIONS]) rows.push(await scenario(UNCACHED, s.url, s.cache, NO_CACHE, false, c));
      } finally {
        await s.close();
      }
    } else process.stderr.write('no redis-server and no REDIS_URL: skipping the Redis runs\n');
    const m = await serve(trailDir, {});
    try {
      for (const c of [1, CONNECTIONS]) rows.push(await scenario('cache hit, in-process LRU', m.url, m.cache, {}, true, c));
      layer.push(await layerCost('in-process LRU', m.cache, m.engine));
      if (!redisUrl) for (const c of [1, CONNECTIONS]) rows.push(await scenario(UNCACHED, m.url, m.cache, NO_CACHE, false, c));
    } finally {
      await m.close();
    }
  } finally {
    await redis?.stop();
    fs.rmSync(trailDir, { recursive: true, force: true });
  }

  const report = [
    '# Answer cache benchmark',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:cache\` (autocannon in one worker thread, ${DURATION} s per run, 1 and ${CONNECTIONS} concurrent connections; the server runs in the main thread of the same process).`,
    '',
    ...machine(redisVersion),
    `- Trail: generated sample, ${DAYS} days, ${sample.files} files, ${sample.records} records (${sample.iotEventsRecords} IoT Events); DuckDB engine.`,
    `- Query: \`apiCalls(first: 50)\` over the last complete day (${WINDOW.from} to ${WINDOW.to}), one engine query per request when uncached.`,
    '',
    '| scenario | connections | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | answered from cache | engine runs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.scenario} | ${r.connections} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.hits} | ${r.engineRuns} |`),
    '',
    'The cache layer alone (one `QueryCache.run` hit after another for the same compiled query: lookup, decompression,',
    `parsing and validation, no HTTP or GraphQL), in microseconds. The entry holds ${layer[0]?.rows} rows: ${kib(layer[0]?.jsonBytes)} KiB of JSON,`,
    `${kib(layer[0]?.storedBytes)} KiB stored (brotli above ${COMPRESS_THRESHOLD_BYTES / 1024} KiB).`,
    '',
    '| store | hits | p50 µs | p99 µs | mean µs |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...layer.map((l) => `| ${l.store} | ${l.n} | ${l.p50} | ${l.p99} | ${l.mean} |`),
    '',
    'Uncached requests still write their fresh answer to the cache, as every miss does. "answered from cache" and',
    '"engine runs" are read from the cache counters over each run (warm-up requests excluded; requests cut off by the',
    "end of a run may have started an engine run that autocannon did not count).",
    '',
  ].join('\n');
  process.stdout.write(report);
  if (OUT !== '-') {
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, report);
    process.stderr.write(`written to ${OUT}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
