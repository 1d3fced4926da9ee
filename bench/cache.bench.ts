/**
 * Answer-cache benchmark over HTTP, with its ceiling measured in the same run: the same GraphQL
 * question (`apiCalls(first: 20)` over the last complete day of a generated sample trail)
 * answered by trailql from its response cache (the default) and from the statements' cache alone
 * (`RESPONSE_CACHE_ENABLED=false`), each with the in-process LRU and with Redis, and uncached
 * (`x-trailql-no-cache: 1`), and by a bare Apollo Server 5 whose only resolver returns the same
 * rows (standalone, and behind express 5 as the service is). Every server runs in a process of its
 * own (bench/cache-server.ts) and autocannon runs in another, so each server's peak RSS
 * (`/proc/<pid>/status` VmHWM) is its own. The servers take turns in rounds whose order alternates,
 * and each figure is the median over the rounds with the minimum and maximum.
 *
 *   npm run bench:cache
 *
 * Environment: BENCH_DURATION (seconds per run, default 5), BENCH_ROUNDS (default 5),
 * BENCH_CONNECTIONS (default 10), BENCH_DAYS (sample trail length, default 2), REDIS_URL (use this
 * Redis instead of starting a throwaway redis-server), BENCH_OUT (report path; "-" to print only).
 */
import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hashKey } from '../src/auth/authenticate';
import { CacheStats } from '../src/cache';
import type { ResponseCacheStats } from '../src/cache/response-cache';
import { loadBenchConfig, processEnvironment } from '../src/config';
import { generateSampleTrail } from '../src/trail/sample';
import { TestRedis, hasRedisServer, startRedis } from '../test/support/redis';
import { autocannonProcess, cpuUs } from './load-gen';
import { median, procMemory } from './measure';

const BENCH = loadBenchConfig();
const DURATION = BENCH.durationSeconds ?? 5;
const ROUNDS = BENCH.rounds ?? 5;
const CONNECTIONS = BENCH.connections ?? 10;
const DAYS = BENCH.days ?? 2;
const OUT = BENCH.out ?? path.resolve(__dirname, 'results/cache.md');
const DAY = 86_400_000;
const PAGE = 20;

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
const NO_CACHE = { 'x-trailql-no-cache': '1' };
const loadAtStart = os.loadavg();
/** Requests authenticate as in production: an API key (admin, so that it may bypass the cache). */
const API_KEY = randomBytes(24).toString('hex');
const API_KEYS = [{ id: 'bench', sha256: hashKey(API_KEY), accounts: ['*'], regions: [], payloads: true, admin: true }];
const AUTH = { authorization: `Bearer ${API_KEY}` };
const BODY = JSON.stringify({ query: QUERY, variables: { filter: WINDOW, first: PAGE } });

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  headers: Record<string, string>;
  /** The trailql servers' cache counters: the statements' cache and the response cache (when on). */
  stats?: () => Promise<{ stats: CacheStats; responses?: ResponseCacheStats }>;
}

interface Run {
  rps: number;
  /** CPU time the server process used per answered request (user + system), µs. */
  cpuUs: number;
  p50: number;
  p99: number;
  requests: number;
  hits?: number;
  engineRuns?: number;
}

function startChild(kind: string, name: string, env: Record<string, string>, headers: Record<string, string> = {}): Promise<Server> {
  const child = fork(path.resolve(__dirname, 'cache-server.ts'), [kind], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    // As the image runs every server (graphql-js then skips its development-only checks).
    env: { ...processEnvironment(), NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    child.once('message', (m: { url?: string }) => {
      if (!m.url) return reject(new Error(`${name}: no url`));
      const stats = kind === 'trailql' ? () => new Promise<{ stats: CacheStats; responses?: ResponseCacheStats }>((res) => {
        child.once('message', (r: { stats: CacheStats; responses?: ResponseCacheStats }) => res(r));
        child.send('stats');
      }) : undefined;
      resolve({ name, url: m.url, child, headers, stats });
    });
  });
}

/** Peak resident set of a process, from the kernel (bytes). */
function peakRss(pid: number | undefined): number | undefined {
  try {
    const bytes = procMemory(pid!, 'VmHWM');
    return Number.isNaN(bytes) ? undefined : bytes;
  } catch {
    return undefined;
  }
}

async function post(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH, ...headers }, body: BODY });
  const body = (await res.json()) as { data?: { apiCalls: { edges: unknown[] } }; errors?: unknown; extensions?: { cost?: { totals: { cacheHits: number } } } };
  if (res.status !== 200 || body.errors || !body.data) throw new Error(`bad answer from ${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

async function measure(s: Server, duration: number): Promise<Run> {
  const before = await s.stats?.();
  const cpuBefore = cpuUs(s.child.pid);
  const r = await autocannonProcess({ url: s.url, headers: { 'content-type': 'application/json', ...AUTH, ...s.headers }, body: BODY, connections: CONNECTIONS, duration });
  const cpu = cpuUs(s.child.pid) - cpuBefore;
  const after = await s.stats?.();
  const run: Run = { rps: r.requests.average, cpuUs: cpu / Math.max(1, r.requests.total), p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total };
  if (before && after) {
    const [b, a] = [before.stats, after.stats];
    run.hits = a.hits - b.hits + (a.coalesced - b.coalesced) + ((after.responses?.hits ?? 0) - (before.responses?.hits ?? 0));
    run.engineRuns = a.misses - b.misses + (a.bypassed - b.bypassed);
  }
  process.stderr.write(`${s.name}: ${run.rps.toFixed(0)} req/s, ${run.cpuUs.toFixed(0)} µs CPU per request, p50 ${run.p50} ms, p99 ${run.p99} ms\n`);
  return run;
}

const spread = (xs: number[], f: (n: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (b: number | undefined) => (b === undefined ? '?' : (b / 2 ** 20).toFixed(0));

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
  const env = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TRAIL_DIR: trailDir, API_KEYS: JSON.stringify(API_KEYS), DUCKDB_THREADS: '1', CURSOR_SECRET: randomBytes(24).toString('hex'), CACHE_SECRET: randomBytes(24).toString('hex') };
  const servers: Server[] = [];
  const answerFile = path.join(trailDir, 'answer.json');
  const results = new Map<string, Run[]>();
  let uncached: Run | undefined;
  let rss = new Map<string, number | undefined>();
  try {
    // As deployed: the whole answer is kept in the process (response cache) in front of the statements' cache.
    const lru = await startChild('trailql', 'trailql, whole answer kept (default)', env);
    servers.push(lru);
    // The statements' cache alone: what a request costs when its body is new but its statements are not.
    const statementsOnly = { ...env, RESPONSE_CACHE_ENABLED: 'false' };
    servers.push(await startChild('trailql', 'trailql, statements from the in-process LRU', statementsOnly));
    if (redisUrl) {
      servers.push(await startChild('trailql', 'trailql, whole answer kept, Redis behind', { ...env, REDIS_URL: redisUrl }));
      servers.push(await startChild('trailql', 'trailql, statements from Redis', { ...statementsOnly, REDIS_URL: redisUrl }));
    } else process.stderr.write('no redis-server and no REDIS_URL: skipping the Redis runs\n');
    const answer = await post(lru.url, {});
    fs.writeFileSync(answerFile, JSON.stringify(answer.data));
    servers.push(await startChild('bare', 'bare Apollo Server 5 (standalone)', { BENCH_ANSWER: answerFile }));
    servers.push(await startChild('bare-express', 'bare Apollo Server 5 on express 5', { BENCH_ANSWER: answerFile }));
    // Warm up every server (JIT, caches filled) and check each gives the same data.
    for (const s of servers) {
      for (let i = 0; i < 200; i += 1) await post(s.url, s.headers);
      const got = await post(s.url, s.headers);
      if (JSON.stringify(got.data) !== JSON.stringify(answer.data)) throw new Error(`${s.name} answers differently`);
      if (s.stats && got.extensions?.cost?.totals.cacheHits !== 1) throw new Error(`${s.name}: not answered from the cache`);
      results.set(s.name, []);
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) results.get(s.name)!.push(await measure(s, DURATION));
    }
    uncached = await measure({ ...lru, name: 'trailql, uncached', headers: NO_CACHE }, DURATION * 4);
  } finally {
    rss = new Map(servers.map((s) => [s.name, peakRss(s.child.pid)]));
    for (const s of servers) s.child.kill();
    await redis?.stop();
    fs.rmSync(trailDir, { recursive: true, force: true });
  }
  const bareRuns = results.get(servers.find((s) => s.name.includes('standalone'))!.name)!;
  const ceiling = median(bareRuns.map((r) => r.rps));
  const ceilingCpu = median(bareRuns.map((r) => r.cpuUs));
  const rows = servers.map((s) => {
    const runs = results.get(s.name)!;
    const rps = runs.map((r) => r.rps);
    const hits = runs.reduce((a, r) => a + (r.hits ?? 0), 0);
    const engine = runs.reduce((a, r) => a + (r.engineRuns ?? 0), 0);
    const cpu = runs.map((r) => r.cpuUs);
    return `| ${s.name} | ${spread(rps, int)} | ${(median(rps) / ceiling).toFixed(2)}× | ${spread(cpu, int)} | ${(ceilingCpu / median(cpu)).toFixed(2)}× | ${spread(runs.map((r) => r.p50), String)} | ${spread(runs.map((r) => r.p99), String)} | ${s.stats ? `${int(hits)} / ${engine}` : '-'} | ${mib(rss.get(s.name))} |`;
  });
  const report = [
    '# Answer cache benchmark',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:cache\` (settings: BENCH_DURATION=${DURATION}, BENCH_ROUNDS=${ROUNDS}, BENCH_CONNECTIONS=${CONNECTIONS}, BENCH_DAYS=${DAYS}).`,
    '',
    ...machine(redisVersion),
    `- Trail: generated sample, ${DAYS} days, ${sample.files} files, ${sample.records} records (${sample.iotEventsRecords} IoT Events); DuckDB engine.`,
    `- Question: \`apiCalls(first: ${PAGE})\` over the last complete day (${WINDOW.from} to ${WINDOW.to}) with \`pageInfo { hasNextPage endCursor }\` and ten fields per call; the bare servers return the very data trailql gave (checked before timing).`,
    `- Each server runs in its own process; autocannon (${CONNECTIONS} connections) in another. ${ROUNDS} rounds of ${DURATION} s per server, the order reversed every other round; figures are medians with (min–max). Peak RSS is each server process's VmHWM at the end. CPU per request is the server process's user + system time (\`/proc/<pid>/stat\`) over the run divided by the requests answered: on a machine shared with other work, req/s follows the share of the CPU a server gets, CPU per request does not; \"by CPU per request\" is bare Apollo's CPU per request over this server's, the throughput ratio a CPU-bound server would reach with the CPU to itself.`,
    '',
    '| server | req/s | vs bare Apollo (standalone) | CPU µs per request | vs bare Apollo, by CPU per request | p50 ms | p99 ms | answered from cache / engine runs | peak RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    uncached ? `Uncached, for scale (\`x-trailql-no-cache: 1\`, the engine runs every time; one run of ${DURATION * 4} s): ${int(uncached.rps)} req/s, p50 ${uncached.p50} ms, p99 ${uncached.p99} ms, ${uncached.engineRuns} engine runs.` : '',
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
