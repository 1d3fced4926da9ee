/**
 * What a request gains when its statements over the same JSON delivery files share one reading of
 * them (src/engines/duckdb/shared-scans.ts): the same questions asked of two servers over the same
 * JSON trail (no Parquet store, no answer cache), one sharing (the default) and one with
 * SHARED_SCAN_MAX_MB=0 (each statement reads its files). Each server is a process of its own
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
import { startBenchServer } from './servers';

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
}

async function ask(url: string, query: string, variables: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: unknown; errors?: unknown; extensions?: { cost?: { totals: { engineQueries: number; bytesScanned: number } } } };
  if (res.status !== 200 || body.errors) throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(body.errors).slice(0, 400)}`);
  return { data: body.data, statements: body.extensions?.cost?.totals.engineQueries ?? 0, bytes: body.extensions?.cost?.totals.bytesScanned ?? 0 };
}

const QUESTIONS: [string, string][] = [
  ['calls per action', `query($f: ApiCallFilter) { actions(filter: $f) { action eventSource calls errors } }`],
  ['totalCount', `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }`],
  ['recent 50 calls', `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 50) { edges { node { eventId eventTime action sourceIpAddress errorCode caller { arn } } } } }`],
  ['top 10 callers, 5 newest calls each', `query($f: ApiCallFilter) { callers(filter: $f, first: 10) { edges { node { key calls(first: 5) { edges { node { eventId } } } } } } }`],
  [
    'a dashboard: actions, top callers, addresses, a page with its total',
    `query($f: ApiCallFilter) {
      actions(filter: $f) { action calls errors }
      callers(filter: $f, first: 10) { edges { node { key stats { calls errors } } } }
      sourceIps(filter: $f, first: 10) { edges { node { address stats { calls } } } }
      apiCalls(filter: $f, first: 20) { totalCount edges { node { eventId action } } }
    }`,
  ],
];

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
    seed: 1,
    regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
    accounts: ['111122223333'],
    orgAccount: { orgId: 'o-a1b2c3d4e5', account: '777788889999' },
    iotEventsPerDay: 60,
    otherEventsPerIotEvent: 6,
  });
  const window = { from: new Date(END.getTime() - days * 86_400_000).toISOString(), to: END.toISOString() };
  const env = { PARQUET_ENABLED: 'false', CACHE_ENABLED: 'false', BENCH_NOW: new Date(END.getTime() + 3_600_000).toISOString() };
  const shared = await startBenchServer(dir, KEY, env);
  const apart = await startBenchServer(dir, KEY, { ...env, SHARED_SCAN_MAX_MB: '0' });
  const load = os.loadavg();
  const rows: string[] = [];
  try {
    for (const [name, query] of QUESTIONS) {
      const first = { shared: await ask(shared.url, query, { f: window }), apart: await ask(apart.url, query, { f: window }) };
      if (JSON.stringify(first.shared.data) !== JSON.stringify(first.apart.data)) throw new Error(`${name}: the two servers answer differently`);
      const times = { shared: [] as number[], apart: [] as number[] };
      for (let i = 0; i < runs; i++) {
        const order = i % 2 ? (['apart', 'shared'] as const) : (['shared', 'apart'] as const);
        for (const way of order) {
          const t = performance.now();
          await ask(way === 'shared' ? shared.url : apart.url, query, { f: window });
          times[way].push(performance.now() - t);
        }
      }
      const fmt = (xs: number[]) => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      rows.push(
        `| ${name} | ${first.shared.statements} | ${fmt(times.apart)} | ${fmt(times.shared)} | ${(median(times.shared) / median(times.apart)).toFixed(2)}× | ${mib(first.apart.bytes)} | ${mib(first.shared.bytes)} |`,
      );
    }
    const hwm = { shared: procMemory(shared.pid, 'VmHWM'), apart: procMemory(apart.pid, 'VmHWM') };
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const text = `# One reading of a request's JSON files for all its statements

Produced by \`npm run bench:shared-scan -- --days ${days} --runs ${runs}\` (bench/shared-scan.bench.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${((performance.now() - started) / 60_000).toFixed(1)} min.
Machine: ${cpu}, \`nproc\` = ${os.availableParallelism()}, load average at the start ${load.map((l) => l.toFixed(2)).join(', ')}; Node ${process.version}.

Trail: ${days} days ending ${END.toISOString()}, 3 regions, 2 accounts (one through an organization trail), 60 IoT Events calls per account, region and day, 6 other records per IoT Events call, seed 1: ${trail.files.toLocaleString('en-US')} delivery files, ${trail.records.toLocaleString('en-US')} records, ${trail.iotEventsRecords.toLocaleString('en-US')} of IoT Events. The window is the whole trail, read from JSON (no Parquet store) and without an answer cache.

Two servers, each a process of its own, over the same files: one with each statement reading its files (\`SHARED_SCAN_MAX_MB=0\`), one sharing (the default). Each question is asked of both first (the answers must be the same), then ${runs} times each in alternating pairs, the pair's first alternating. Milliseconds per request, median (min–max). "Bytes read" is \`extensions.cost.totals.bytesScanned\`.

| question | statements | each reads its files (ms) | shared reading (ms) | shared / apart | bytes read apart (MiB) | bytes read shared (MiB) |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Peak memory of each server process (VmHWM), after every question: each reading its files ${(hwm.apart / 2 ** 20).toFixed(0)} MiB; shared ${(hwm.shared / 2 ** 20).toFixed(0)} MiB.
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
