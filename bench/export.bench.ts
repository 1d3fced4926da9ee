/**
 * Download benchmark: the service as a child process (as `npm start` runs it) over a generated
 * sample trail of one account and region holding at least BENCH_CALLS IoT Events calls in a 2-day
 * window (hourly delivery files), compacted to the columnar store. Trail and store are made once
 * and kept under bench/.data, so later runs start at once. Two windows are downloaded, the newest fifth of the trail and the whole of
 * it, each as CSV and as NDJSON, in rounds whose order reverses every other round. Reports rows/s,
 * time to the first byte, and the server process's own peak RSS (VmHWM of its /proc status, reset
 * before each download) and its largest JS heap in use (its /metrics, sampled each second), as
 * medians with (min–max), and writes bench/results/export.md.
 *
 *   npm run bench:export
 *
 * The server's resident set is also read every half second during each download: the peak of the
 * first half of the download against the peak of the second half says whether it levels off.
 *
 * Capped run: with BENCH_HEAP_MB the server runs with NODE_OPTIONS=--max-old-space-size=<that>
 * (and DUCKDB_MEMORY_LIMIT=<BENCH_DUCKDB_MEMORY_LIMIT> when given), only the whole trail is
 * downloaded, and the report goes to bench/results/export-capped.md: a download whose server held
 * rows for its whole length would die of a heap this small, or show in the figures.
 *
 *   BENCH_HEAP_MB=160 BENCH_DUCKDB_MEMORY_LIMIT=350MiB BENCH_ROUNDS=2 npm run bench:export
 *
 * Environment: BENCH_CALLS (calls in the window, default 50000), BENCH_ROUNDS (rounds, default 3),
 * BENCH_HEAP_MB, BENCH_DUCKDB_MEMORY_LIMIT, BENCH_OUT (report path; "-" to print only).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBenchConfig, loadStorageConfig } from '../src/config';
import { compactTrail } from '../src/engines/duckdb/compact';
import { generateSampleTrail } from '../src/trail/sample';
import { spawnServer } from '../test/support/child-server';
import { TEST_KEY } from '../test/support/server';
import { median, procMemory } from './measure';

const BENCH = loadBenchConfig();
const CALLS = BENCH.calls ?? 50_000;
const ROUNDS = BENCH.rounds ?? 3;
const CAPPED = BENCH.heapMb !== undefined;
const OUT = BENCH.out ?? path.resolve(__dirname, CAPPED ? 'results/export-capped.md' : 'results/export.md');
/** How often the server's resident set is read during a download. */
const RSS_SAMPLE_MS = 500;
const HOUR = 3_600_000;
const DAYS = 2;
const SEED = 11;
/** A fixed end keeps the kept trail valid on every later run (windows are absolute). */
const END = new Date('2026-03-15T00:00:00Z');
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const DATA = path.resolve(__dirname, '.data', `export-${CALLS}-${DAYS}d-seed${SEED}`);
const FORMATS = ['csv', 'ndjson'] as const;

/** Resets the process's peak RSS (Linux 4.0+); false when not allowed. */
function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)}`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const spread = (xs: number[], f: (n: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

/** The trail, generated once: a marker file says it is complete. */
async function trail(): Promise<string> {
  const marker = path.join(DATA, 'complete.json');
  if (fs.existsSync(marker)) return DATA;
  fs.rmSync(DATA, { recursive: true, force: true });
  process.stderr.write(`generating at least ${int(CALLS)} calls over ${DAYS} days in ${DATA}\n`);
  const result = await generateSampleTrail({
    outDir: DATA,
    days: DAYS,
    end: END,
    seed: SEED,
    accounts: [ACCOUNT],
    orgAccount: null,
    regions: [REGION],
    // The generator's day curve runs below its mean rate (about 0.89 of it over two days): aim above, so the trail holds BENCH_CALLS.
    iotEventsPerDay: Math.ceil((CALLS / DAYS) * 1.15),
    otherEventsPerIotEvent: 1,
    deliveryMinutes: 60,
  });
  // The columnar store, as `npm run compact` writes it beside the trail: what a trail of this size is served from.
  await compactTrail({ trailDir: DATA, eventSources: loadStorageConfig({}).eventSources });
  fs.writeFileSync(marker, JSON.stringify({ files: result.files, records: result.records, iotEventsRecords: result.iotEventsRecords }));
  return DATA;
}

/** The server's JS heap in use, from its /metrics (prom-client's nodejs_heap_size_used_bytes). */
async function heapUsed(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Samples the server's heap in use once a second until stopped; resolves with the largest seen. */
function heapSampler(origin: string): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, await heapUsed(origin).catch(() => 0));
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

/** Reads the server's resident set every RSS_SAMPLE_MS until stopped; the samples with their times. */
function rssSampler(pid: number): { stop(): { at: number; rss: number }[] } {
  const samples: { at: number; rss: number }[] = [];
  const read = () => samples.push({ at: performance.now(), rss: procMemory(pid, 'VmRSS') });
  read();
  const timer = setInterval(read, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      read();
      return samples;
    },
  };
}

/** The largest sample of each half of the time from `start` to `end`. */
function halves(samples: readonly { at: number; rss: number }[], start: number, end: number): { first: number; second: number; count: number } {
  const mid = (start + end) / 2;
  const inRange = samples.filter((x) => x.at >= start && x.at <= end);
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
  return { first: max(inRange.filter((x) => x.at < mid).map((x) => x.rss)), second: max(inRange.filter((x) => x.at >= mid).map((x) => x.rss)), count: inRange.length };
}

interface Download {
  readonly seconds: number;
  /** Largest JS heap in use seen while it ran (sampled each second). */
  readonly heap: number;
  readonly ttfbSeconds: number;
  readonly bytes: number;
  readonly rows: number;
  readonly peak: number;
  readonly before: number;
  /** Largest resident set read in the first and in the second half of the download. */
  readonly rssFirstHalf: number;
  readonly rssSecondHalf: number;
  readonly rssSamples: number;
}

async function download(origin: string, pid: number, format: string, filter: unknown): Promise<Download> {
  const before = procMemory(pid, 'VmRSS');
  if (!resetPeak(pid)) throw new Error('cannot reset the server process peak RSS (/proc/<pid>/clear_refs)');
  const sampler = heapSampler(origin);
  const rss = rssSampler(pid);
  const started = performance.now();
  const res = await fetch(`${origin}/export/api-calls?format=${format}&filter=${encodeURIComponent(JSON.stringify(filter))}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  if (res.status !== 200) throw new Error(`export ${format}: HTTP ${res.status} ${await res.text()}`);
  let ttfb = NaN;
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (Number.isNaN(ttfb)) ttfb = performance.now() - started;
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines += 1;
  }
  const ended = performance.now();
  const seconds = (ended - started) / 1000;
  const split = halves(rss.stop(), started, ended);
  const heap = await sampler.stop();
  return {
    seconds,
    heap,
    ttfbSeconds: ttfb / 1000,
    bytes,
    rows: format === 'csv' ? lines - 1 : lines,
    peak: procMemory(pid, 'VmHWM'),
    before,
    rssFirstHalf: split.first,
    rssSecondHalf: split.second,
    rssSamples: split.count,
  };
}

async function main() {
  const uptimeBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const dir = await trail();
  const allWindows = [
    { name: 'newest fifth', filter: { from: new Date(END.getTime() - (DAYS * 24 * HOUR) / 5).toISOString(), to: END.toISOString() } },
    { name: 'whole trail', filter: { from: new Date(END.getTime() - DAYS * 24 * HOUR).toISOString(), to: END.toISOString() } },
  ];
  // The capped run downloads the whole trail only: the longest download is the one that would fail.
  const windows = CAPPED ? allWindows.filter((w) => w.name === 'whole trail') : allWindows;
  const cases = windows.flatMap((w) => FORMATS.map((format) => ({ key: `${w.name}|${format}`, window: w, format })));
  const results = new Map<string, Download[]>(cases.map((c) => [c.key, []]));
  const caps: Record<string, string> = CAPPED
    ? { NODE_OPTIONS: `--max-old-space-size=${BENCH.heapMb}`, ...(BENCH.duckdbMemoryLimit ? { DUCKDB_MEMORY_LIMIT: BENCH.duckdbMemoryLimit } : {}) }
    : {};
  const server = await spawnServer(dir, { MAX_PAGE_SIZE: '1000', CACHE_ENABLED: 'false', MAX_WINDOW_DAYS: '31', ...caps });
  const pid = server.child.pid!;
  // The caps as the server process has them, read back from its environment.
  const serverEnv = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  for (const [k, v] of Object.entries(caps)) if (!serverEnv.includes(`${k}=${v}`)) throw new Error(`the server does not run with ${k}=${v}`);
  let idle = NaN;
  try {
    // One untimed download first: the server's first query loads what it loads once.
    await download(server.origin, pid, 'ndjson', allWindows[0]!.filter);
    idle = procMemory(pid, 'VmRSS');
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...cases].reverse() : cases;
      for (const c of order) {
        const r = await download(server.origin, pid, c.format, c.window.filter);
        results.get(c.key)!.push(r);
        process.stderr.write(
          `round ${round + 1}/${ROUNDS} ${c.key}: ${int(r.rows)} rows in ${r.seconds.toFixed(1)} s, first byte ${r.ttfbSeconds.toFixed(2)} s, peak RSS ${mib(r.peak)} MiB (halves ${mib(r.rssFirstHalf)} / ${mib(r.rssSecondHalf)})\n`,
        );
      }
    }
  } catch (err) {
    // A server that died (a heap too small for what it holds) says so on its stderr.
    process.stderr.write(`server stderr (tail):\n${server.stderr().slice(-4000)}\n`);
    throw err;
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  const uptimeAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const marker = JSON.parse(fs.readFileSync(path.join(dir, 'complete.json'), 'utf8')) as { files: number; records: number };
  const rows = cases.map((c) => {
    const runs = results.get(c.key)!;
    const n = runs[0]!.rows;
    if (runs.some((r) => r.rows !== n)) throw new Error(`${c.key}: row counts differ between runs`);
    const memory = (['before', 'peak', 'heap', 'rssFirstHalf', 'rssSecondHalf'] as const).map((k) => spread(
      runs.map((r) => r[k]),
      mib,
    ));
    return `| ${c.window.name} | ${c.format} | ${int(n)} | ${(runs[0]!.bytes / 1024 / 1024).toFixed(1)} MiB | ${spread(
      runs.map((r) => r.seconds),
      (x) => x.toFixed(1),
    )} | ${spread(
      runs.map((r) => r.rows / r.seconds),
      int,
    )} | ${spread(
      runs.map((r) => r.ttfbSeconds),
      (x) => x.toFixed(2),
    )} | ${memory.join(' | ')} |`;
  });
  const report = [
    CAPPED ? '# Download benchmark, capped server memory' : '# Download benchmark',
    '',
    `Command: \`${CAPPED ? `BENCH_HEAP_MB=${BENCH.heapMb} ${BENCH.duckdbMemoryLimit ? `BENCH_DUCKDB_MEMORY_LIMIT=${BENCH.duckdbMemoryLimit} ` : ''}` : ''}npm run bench:export\` (BENCH_CALLS=${CALLS}, BENCH_ROUNDS=${ROUNDS}). Run ${new Date().toISOString()} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`,
    '',
    `Machine load (\`uptime\`) before: \`${uptimeBefore}\`; after: \`${uptimeAfter}\`. **The machine was shared with other work while this ran**: the rates are a floor; compare the rows of one run.`,
    '',
    `Server: \`src/main.ts\` as a child process on 127.0.0.1, DuckDB over the columnar store (\`npm run compact\`, done once with the trail), pages of 1,000 rows (MAX_PAGE_SIZE), answer cache off, DUCKDB_THREADS=2${
      CAPPED ? ` (DuckDB lowers its threads to what DUCKDB_MEMORY_LIMIT holds; the server logs it at start)` : ''
    }.`,
    ...(CAPPED
      ? [
          `Caps, read back from the server process's environment: ${Object.entries(caps)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(', ')}. The V8 old space (where the JS objects of rows and pages live) cannot grow past ${BENCH.heapMb} MiB: the process dies with "JavaScript heap out of memory" if what it holds does not fit.`,
        ]
      : []),
    `Trail: generated once into \`bench/.data\` (seed ${SEED}, ${DAYS} days to ${END.toISOString()}, account ${ACCOUNT}, ${REGION}, hourly delivery files, one other service's record per IoT Events call): ${int(marker.files)} files, ${int(marker.records)} records.`,
    `Each row: ${ROUNDS} downloads, taken in rounds that run every case once, the order reversed every other round, after one untimed download; figures are medians with (min–max).`,
    'Time is the whole download as the client reads it; first byte is when the first body chunk arrived (the first page is read before the headers are sent, so a bad filter still gets a 400).',
    `Peak RSS is the server process's own VmHWM (/proc/<pid>/status), reset (clear_refs 5) before each download; RSS of the server at idle after the warm-up download: ${mib(idle)} MiB. Peak JS heap used is the largest nodejs_heap_size_used_bytes of the server's /metrics, sampled once a second during the download: what the JavaScript side holds, apart from DuckDB's native memory.`,
    '',
    `RSS 1st half / 2nd half: the largest of the server's VmRSS read every ${RSS_SAMPLE_MS} ms in the first and in the second half of the download's time (${int(
      Math.min(...[...results.values()].flat().map((r) => r.rssSamples)),
    )} reads or more per download): a download that held what it had sent would be larger in the second half.`,
    '',
    '| window | format | rows | size | time s | rows/s | first byte s | server RSS before MiB | server peak RSS MiB | server peak JS heap used MiB | RSS 1st half MiB | RSS 2nd half MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
  process.stdout.write(report);
  if (path.basename(OUT) !== '-') fs.writeFileSync(OUT, report);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
