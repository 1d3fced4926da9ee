/**
 * Load benchmark: the real service as a child process (`src/main.ts`, as `npm start` runs it) on
 * a loopback port over a generated sample trail, a bounded mixed workload of heavy (31-day) and
 * light (1-hour) queries, uncached (`x-trailql-no-cache: 1`). Reports light-query p50/p99 alone
 * and under heavy load at a few concurrency levels (and their ratio), queue waits, 503s, engine
 * time against the request budget, /readyz answers during load, and the server process's peak RSS
 * (VmHWM of its /proc status). Runs once with the service's libuv pool (16) and once with Node's
 * default 4 threads. Writes bench/results/load.md and stops by itself.
 *
 *   npm run bench:load
 *
 * Environment: BENCH_LIGHT (light queries per phase, default 10), BENCH_DAYS (trail days, 33),
 * BENCH_OUT (report path).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBenchConfig } from '../src/config';
import { generateSampleTrail } from '../src/trail/sample';
import { ChildServer, spawnServer } from '../test/support/child-server';
import { TEST_KEY } from '../test/support/server';
import { procMemory } from './measure';

const BENCH = loadBenchConfig();
const LIGHT = BENCH.lightQueries ?? 10;
const DAYS = BENCH.days ?? 33;
const OUT = BENCH.out ?? path.resolve(__dirname, 'results/load.md');
const BUDGET_MS = 300_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END = new Date('2026-03-15T12:00:00Z');
const QUERY = `query($f: ApiCallFilter) { actions(filter: $f) { action calls errors } }`;

interface Outcome {
  readonly ms: number;
  readonly status: number;
  readonly code?: string;
  readonly queueMs: number;
  readonly engineMs: number;
}

/** Status 0: no HTTP answer at all (connection error), a failure the report counts. */
async function ask(server: ChildServer, window: { from: string; to: string }): Promise<Outcome> {
  const started = performance.now();
  try {
    return await answer(server, window, started);
  } catch {
    return { ms: performance.now() - started, status: 0, queueMs: 0, engineMs: 0 };
  }
}

async function answer(server: ChildServer, window: { from: string; to: string }, started: number): Promise<Outcome> {
  const res = await fetch(`${server.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, 'x-trailql-no-cache': '1' },
    body: JSON.stringify({ query: QUERY, variables: { f: window } }),
  });
  const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[]; extensions?: { cost?: { queries: { queueMs?: number }[]; totals: { engineMs: number } } } };
  const queries = body.extensions?.cost?.queries ?? [];
  return {
    ms: performance.now() - started,
    status: res.status,
    code: body.errors?.[0]?.extensions?.code,
    queueMs: queries.reduce((a, q) => a + (q.queueMs ?? 0), 0),
    engineMs: body.extensions?.cost?.totals.engineMs ?? 0,
  };
}

const windowOf = (ms: number, offsetMinutes: number) => {
  const to = END.getTime() - offsetMinutes * 60_000;
  return { from: new Date(to - ms).toISOString(), to: new Date(to).toISOString() };
};

function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Phase {
  readonly uv: string;
  readonly heavy: number;
  readonly light: Outcome[];
  readonly heavyDone: Outcome[];
  readonly ready: number[];
}

/** `heavy` clients asking 31-day questions in a loop while one client asks LIGHT 1-hour questions in turn. */
async function phase(server: ChildServer, uv: string, heavy: number, seq: { n: number }): Promise<Phase> {
  let stop = false;
  const heavyDone: Outcome[] = [];
  const ready: number[] = [];
  const loops = Array.from({ length: heavy }, async () => {
    while (!stop) heavyDone.push(await ask(server, windowOf(31 * DAY, seq.n++)));
  });
  const probe = (async () => {
    while (!stop) {
      ready.push(await fetch(`${server.origin}/readyz`).then((r) => r.status, () => 0));
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  if (heavy) await new Promise((r) => setTimeout(r, 1000)); // let the heavy load build up
  const light: Outcome[] = [];
  for (let i = 0; i < LIGHT; i++) light.push(await ask(server, windowOf(HOUR, seq.n++)));
  stop = true;
  await Promise.all([...loops, probe]);
  return { uv, heavy, light, heavyDone, ready };
}

function peakRssMb(pid: number): number {
  return Math.round(procMemory(pid, 'VmHWM') / 2 ** 20);
}

async function run(trail: string, uv: string, levels: number[]): Promise<{ phases: Phase[]; rssMb: number }> {
  // 16 is the service's own default (src/threadpool.ts): not set, so the default is what is measured.
  const server = await spawnServer(trail, { ...(uv === '16' ? {} : { UV_THREADPOOL_SIZE: uv }), REQUEST_ENGINE_BUDGET_MS: String(BUDGET_MS) });
  try {
    const seq = { n: 0 };
    await ask(server, windowOf(HOUR, 0)); // warm-up
    const phases: Phase[] = [];
    for (const heavy of [0, ...levels]) phases.push(await phase(server, uv, heavy, seq));
    return { phases, rssMb: peakRssMb(server.child.pid!) };
  } finally {
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    if (exit.code !== 0) process.stderr.write(`server exited ${JSON.stringify(exit)}; stderr: ${server.stderr().slice(-2000)}\n`);
  }
}

async function main(): Promise<void> {
  const trail = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-load-'));
  try {
    process.stdout.write(`generating a ${DAYS}-day sample trail...\n`);
    await generateSampleTrail({ outDir: trail, days: DAYS, end: END, seed: 7, iotEventsPerDay: 100, otherEventsPerIotEvent: 4, deliveryMinutes: 60 });
    const runs = [await run(trail, '16', [2, 6]), await run(trail, '4', [6])];
    const lines: string[] = [];
    const all = runs.flatMap((r) => r.phases);
    const base = (uv: string) => pct(all.find((p) => p.uv === uv && p.heavy === 0)!.light.map((o) => o.ms), 99);
    lines.push('# Load: light queries under heavy load', '');
    lines.push(`Command: \`npm run bench:load\` (BENCH_LIGHT=${LIGHT}, BENCH_DAYS=${DAYS}). Run ${new Date().toISOString()} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average before the run ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}. **The machine was shared with other work while this ran**: absolute times are noisy; compare the rows of one run.`, '');
    lines.push(`Server: \`src/main.ts\` as a child process on 127.0.0.1, DUCKDB_THREADS=2, ENGINE_MAX_CONCURRENT=4 (default), REQUEST_ENGINE_BUDGET_MS=${BUDGET_MS}, every query uncached. Sample trail: ${DAYS} days, 3 accounts, 2 regions, 100 IoT Events calls per account, region and day and 4 other records per call, one delivery file an hour per account and region. Heavy: \`actions\` over 31 days (33 day folders with the margin); light: \`actions\` over 1 hour (2 day folders). Each phase: ${LIGHT} light queries one after another while N clients loop heavy queries.`, '');
    lines.push('| UV_THREADPOOL_SIZE | heavy clients | light p50 ms | light p99 ms | p99 / unloaded p99 | light queue wait p99 ms | heavy answered | heavy p50 ms | heavy queue wait p50 ms | 503s (ENGINE_BUSY) | other failures | max engine ms of a request / budget | /readyz 200 of |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const p of all) {
      const every = [...p.light, ...p.heavyDone];
      const busy = every.filter((o) => o.status === 503 && o.code === 'ENGINE_BUSY').length;
      const failed = every.filter((o) => o.status !== 200 && !(o.status === 503 && o.code === 'ENGINE_BUSY')).length + every.filter((o) => o.status === 200 && o.code).length;
      const lightMs = p.light.map((o) => o.ms);
      const heavyOk = p.heavyDone.filter((o) => o.status === 200);
      lines.push(
        `| ${p.uv} | ${p.heavy} | ${pct(lightMs, 50).toFixed(0)} | ${pct(lightMs, 99).toFixed(0)} | ${(pct(lightMs, 99) / base(p.uv)).toFixed(2)} | ${pct(p.light.map((o) => o.queueMs), 99).toFixed(0)} | ${heavyOk.length} | ${heavyOk.length ? pct(heavyOk.map((o) => o.ms), 50).toFixed(0) : '–'} | ${heavyOk.length ? pct(heavyOk.map((o) => o.queueMs), 50).toFixed(0) : '–'} | ${busy} | ${failed} | ${Math.max(0, ...every.map((o) => o.engineMs)).toFixed(0)} / ${BUDGET_MS} | ${p.ready.filter((s) => s === 200).length}/${p.ready.length} |`,
      );
    }
    lines.push('');
    lines.push(`Peak RSS of the server process (VmHWM): ${runs.map((r, i) => `${r.rssMb} MB (UV_THREADPOOL_SIZE=${i === 0 ? 16 : 4})`).join(', ')}.`, '');
    const text = lines.join('\n') + '\n';
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, text);
    process.stdout.write(text);
  } finally {
    fs.rmSync(trail, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
