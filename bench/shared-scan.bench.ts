/**
 * What statements gain when they share one reading of the same JSON delivery files
 * (src/engines/duckdb/shared-scans.ts): the same questions asked of two servers over the same
 * JSON trail (no Parquet store, no answer cache), one sharing and one with SHARED_SCAN_MAX_MB=0
 * (each statement reads its files). Each server is a process of its own
 * (bench/servers.ts); they are asked in alternating pairs, each pair's first alternating, and
 * both answers must be the same. Figures: medians with (min–max), and each server's peak memory.
 *
 * Run: npm run bench:shared-scan [-- --days 7 --runs 7] (writes bench/results/shared-scan.md).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSampleTrail } from '../src/trail/sample';
import { median, procMemory } from './measure';
import { BENCH_LAYOUT } from './layout';
import { BenchServer, startBenchServer } from './servers';

const END = new Date('2026-03-15T00:00:00.000Z');
const KEY = `bench-${randomBytes(16).toString('hex')}`;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Answer {
  data: unknown;
  statements: number;
  bytes: number;
  requests?: number;
}

/**
 * How long the sharing server's readings serve later requests: long enough for a walk over every
 * page, and a pause longer than it before each of its timed questions starts them without one.
 */
const KEEP_SECONDS = 3;
const pause = () => new Promise((r) => setTimeout(r, KEEP_SECONDS * 1000 + 500));

async function ask(url: string, query: string, variables: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: unknown; errors?: unknown; extensions?: { cost?: { totals: { engineQueries: number; bytesScanned: number } } } };
  if (res.status !== 200 || body.errors) throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(body.errors).slice(0, 400)}`);
  return { data: body.data, statements: body.extensions?.cost?.totals.engineQueries ?? 0, bytes: body.extensions?.cost?.totals.bytesScanned ?? 0 };
}

/** A question: one request, or a walk over every page (one request each, the answers concatenated). */
type Question = (url: string, window: Record<string, string>) => Promise<Answer>;

const once = (query: string): Question => (url, window) => ask(url, query, { f: window });

/** Every page of 50 callers, following the cursors: the pages after the first read what the first read. */
const CALLER_PAGES = `query($f: ApiCallFilter, $after: String) {
  callers(filter: $f, first: 50, after: $after) { pageInfo { hasNextPage endCursor } edges { node { key stats { calls errors } } } }
}`;
const everyPage: Question = async (url, window) => {
  const data: unknown[] = [];
  let statements = 0;
  let bytes = 0;
  let requests = 0;
  for (let after: string | null = null; ; ) {
    const a = await ask(url, CALLER_PAGES, { f: window, after });
    const page = (a.data as { callers: { pageInfo: { hasNextPage: boolean; endCursor: string }; edges: unknown[] } }).callers;
    data.push(...page.edges);
    statements += a.statements;
    bytes += a.bytes;
    requests += 1;
    if (!page.pageInfo.hasNextPage) return { data, statements, bytes, requests };
    after = page.pageInfo.endCursor;
  }
};

const QUESTIONS: [string, Question][] = [
  ['calls per action', once(`query($f: ApiCallFilter) { actions(filter: $f) { action eventSource calls errors } }`)],
  ['totalCount', once(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }`)],
  ['recent 50 calls', once(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 50) { edges { node { eventId eventTime action sourceIpAddress errorCode caller { arn } } } } }`)],
  ['top 10 callers, 5 newest calls each', once(`query($f: ApiCallFilter) { callers(filter: $f, first: 10) { edges { node { key calls(first: 5) { edges { node { eventId } } } } } } }`)],
  [
    'a dashboard: actions, top callers, addresses, a page with its total',
    once(`query($f: ApiCallFilter) {
      actions(filter: $f) { action calls errors }
      callers(filter: $f, first: 10) { edges { node { key stats { calls errors } } } }
      sourceIps(filter: $f, first: 10) { edges { node { address stats { calls } } } }
      apiCalls(filter: $f, first: 20) { totalCount edges { node { eventId action } } }
    }`),
  ],
  ['calls by caller, every page of 50 (a request each)', everyPage],
];

/** The server's shared readings and the memory their tables hold (bench/cache-server.ts). */
function sharedScans(server: BenchServer): Promise<{ readings: number; memoryBytes: number }> {
  return new Promise((resolve) => {
    const answer = (m: { sharedScans?: { readings: number; memoryBytes: number } }) => {
      if (!m.sharedScans) return;
      server.child.off('message', answer);
      resolve(m.sharedScans);
    };
    server.child.on('message', answer);
    server.child.send('shared-scans');
  });
}

async function main(): Promise<void> {
  const days = arg('days', 7);
  const runs = arg('runs', 7);
  const dir = path.resolve(__dirname, '.data', 'shared-scan-trail');
  const started = performance.now();
  fs.rmSync(dir, { recursive: true, force: true });
  const trail = await generateSampleTrail({
    outDir: dir,
    days,
    end: END,
    ...BENCH_LAYOUT,
    iotEventsPerDay: 60,
    otherEventsPerIotEvent: 6,
  });
  const window = { from: new Date(END.getTime() - days * 86_400_000).toISOString(), to: END.toISOString() };
  const env = { PARQUET_ENABLED: 'false', CACHE_ENABLED: 'false', BENCH_NOW: new Date(END.getTime() + 3_600_000).toISOString() };
  const shared = await startBenchServer(dir, KEY, { ...env, SHARED_SCAN_KEEP_SECONDS: String(KEEP_SECONDS) });
  const apart = await startBenchServer(dir, KEY, { ...env, SHARED_SCAN_MAX_MB: '0' });
  const load = os.loadavg();
  const rows: string[] = [];
  try {
    for (const [name, question] of QUESTIONS) {
      await pause();
      const first = { shared: await question(shared.url, window), apart: await question(apart.url, window) };
      if (JSON.stringify(first.shared.data) !== JSON.stringify(first.apart.data)) throw new Error(`${name}: the two servers answer differently`);
      const times = { shared: [] as number[], apart: [] as number[] };
      for (let i = 0; i < runs; i++) {
        const order = i % 2 ? (['apart', 'shared'] as const) : (['shared', 'apart'] as const);
        for (const way of order) {
          // Both servers alike: on an otherwise idle machine, the first request after a pause runs slower.
          await pause();
          const t = performance.now();
          await question(way === 'shared' ? shared.url : apart.url, window);
          times[way].push(performance.now() - t);
        }
      }
      const fmt = (xs: number[]) => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      rows.push(
        `| ${name} | ${first.shared.requests ?? 1} | ${first.shared.statements} | ${fmt(times.apart)} | ${fmt(times.shared)} | ${(median(times.shared) / median(times.apart)).toFixed(2)}× | ${mib(first.apart.bytes)} | ${mib(first.shared.bytes)} |`,
      );
    }
    const hwm = { shared: procMemory(shared.pid, 'VmHWM'), apart: procMemory(apart.pid, 'VmHWM') };
    // A last reading of the whole window, kept: the memory its table holds, as DuckDB counts it. A
    // question of one statement reads the window's files itself (their bytes); two questions over
    // the whole window in one request make one reading.
    await pause();
    const jsonBytes = (await QUESTIONS[0]![1](shared.url, window)).bytes;
    await pause();
    await once(`query($f: ApiCallFilter) { actions(filter: $f) { action calls } callers(filter: $f, first: 10) { edges { node { key } } } }`)(shared.url, window);
    const kept = await sharedScans(shared);
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const text = `# One reading of the same JSON files for every statement over them

Produced by \`npm run bench:shared-scan -- --days ${days} --runs ${runs}\` (bench/shared-scan.bench.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${((performance.now() - started) / 60_000).toFixed(1)} min.
Machine: ${cpu}, \`nproc\` = ${os.availableParallelism()}, load average at the start ${load.map((l) => l.toFixed(2)).join(', ')}; Node ${process.version}.

Trail: ${days} days ending ${END.toISOString()}, 3 regions, 2 accounts (one through an organization trail), 60 IoT Events calls per account, region and day, 6 other records per IoT Events call, seed 1: ${trail.files.toLocaleString('en-US')} delivery files, ${trail.records.toLocaleString('en-US')} records, ${trail.iotEventsRecords.toLocaleString('en-US')} of IoT Events. The window is the whole trail, read from JSON (no Parquet store) and without an answer cache.

Two servers, each a process of its own, over the same files: one with each statement reading its files (\`SHARED_SCAN_MAX_MB=0\`), one sharing, a reading serving later requests for ${KEEP_SECONDS} s after its files were read (\`SHARED_SCAN_KEEP_SECONDS=${KEEP_SECONDS}\`; 120 s by default). Each question is asked of both first (the answers must be the same), then ${runs} times each in alternating pairs, the pair's first alternating, each run (of either server, so both start from the same idle machine) after a pause longer than that: every run of the sharing server starts without a reading, so a single request shows what sharing within it gains (a request of one statement reads its files itself, docs/operations.md), and the walk over every page what keeping the reading for the next page gains (its first page alone reads its files itself, the second makes the reading). Milliseconds per question (every request of it), median (min–max). "Bytes read" is \`extensions.cost.totals.bytesScanned\`, summed over the question's requests.

| question | requests | statements | each reads its files (ms) | shared reading (ms) | shared / apart | bytes read apart (MiB) | bytes read shared (MiB) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Peak memory of each server process (VmHWM), after every question: each reading its files ${(hwm.apart / 2 ** 20).toFixed(0)} MiB; shared ${(hwm.shared / 2 ** 20).toFixed(0)} MiB. The reading of the whole window (${(jsonBytes / 2 ** 20).toFixed(1)} MiB of delivery files on disk, the trail's ${trail.iotEventsRecords.toLocaleString('en-US')} IoT Events records) holds ${(kept.memoryBytes / 2 ** 20).toFixed(1)} MiB of DuckDB memory (${kept.readings} reading${kept.readings === 1 ? '' : 's'} kept; DuckDB's \`duckdb_memory()\`, tag IN_MEMORY_TABLE): ${(kept.memoryBytes / jsonBytes).toFixed(1)} times the files.
`;
    fs.mkdirSync(path.resolve(__dirname, 'results'), { recursive: true });
    fs.writeFileSync(path.resolve(__dirname, 'results', 'shared-scan.md'), text);
    process.stdout.write(text);
  } finally {
    await shared.close();
    await apart.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
