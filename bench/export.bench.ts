/**
 * Download benchmark: the service as a child process (as `npm start` runs it) over a generated
 * sample trail holding about 50,000 IoT Events calls in the window; the whole window downloaded as
 * CSV, then as NDJSON. Reports rows/s and the server process's peak RSS (VmHWM, reset before each
 * download) against its RSS before, and writes bench/results/export.md.
 *
 *   npm run bench:export
 *
 * Environment: BENCH_CALLS (calls in the window, default 50000), BENCH_OUT (report path; "-" to print only).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBenchConfig } from '../src/config';
import { generateSampleTrail } from '../src/trail/sample';
import { spawnServer } from '../test/support/child-server';
import { TEST_KEY } from '../test/support/server';
import { procMemory } from './measure';

const BENCH = loadBenchConfig();
const CALLS = BENCH.calls ?? 50_000;
const OUT = BENCH.out ?? path.resolve(__dirname, 'results/export.md');
const DAY = 86_400_000;
const DAYS = 2;
const END = new Date(Math.floor(Date.now() / DAY) * DAY);

/** Resets the process's peak RSS (Linux 4.0+); false when not allowed. */
function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

async function download(origin: string, format: string, filter: unknown) {
  const started = performance.now();
  const res = await fetch(`${origin}/export/api-calls?format=${format}&filter=${encodeURIComponent(JSON.stringify(filter))}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  if (res.status !== 200) throw new Error(`export ${format}: HTTP ${res.status} ${await res.text()}`);
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines += 1;
  }
  return { seconds: (performance.now() - started) / 1000, bytes, lines };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-bench-export-'));
  try {
    process.stderr.write(`generating ${CALLS} calls over ${DAYS} days in ${dir}\n`);
    await generateSampleTrail({ outDir: dir, days: DAYS, end: END, seed: 11, iotEventsPerDay: Math.ceil(CALLS / DAYS), otherEventsPerIotEvent: 1 });
    const server = await spawnServer(dir, { MAX_PAGE_SIZE: '1000', CACHE_ENABLED: 'false', MAX_WINDOW_DAYS: '31' });
    const pid = server.child.pid!;
    const filter = { from: new Date(END.getTime() - DAYS * DAY).toISOString(), to: END.toISOString() };
    try {
      const idle = procMemory(pid, 'VmRSS');
      const rows: string[] = [];
      for (const format of ['csv', 'ndjson']) {
        const before = procMemory(pid, 'VmRSS');
        const reset = resetPeak(pid);
        const r = await download(server.origin, format, filter);
        const records = format === 'csv' ? r.lines - 1 : r.lines;
        const peak = procMemory(pid, 'VmHWM');
        rows.push(
          `| ${format} | ${records.toLocaleString('en-US')} | ${(r.bytes / 1024 / 1024).toFixed(1)} MB | ${r.seconds.toFixed(1)} s | ${Math.round(records / r.seconds).toLocaleString('en-US')} | ${mb(before)} | ${mb(peak)}${reset ? '' : ' (since start)'} |`,
        );
        process.stderr.write(`${rows[rows.length - 1]}\n`);
      }
      const report = [
        '# Download benchmark',
        '',
        `Command: \`npm run bench:export\` (BENCH_CALLS=${CALLS}). Run ${new Date().toISOString()} on ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}:`,
        'the machine was shared with other work, so the rates are a floor, not a ceiling.',
        '',
        `Server: \`src/main.ts\` as a child process, DuckDB over a generated ${DAYS}-day sample trail (JSON files), pages of 1,000 rows, answer cache off.`,
        `The window holds every generated IoT Events call; RSS of the server process at idle: ${mb(idle)}.`,
        'Peak RSS is VmHWM of the server process, reset before each download.',
        '',
        '| format | rows | size | time | rows/s | RSS before | peak RSS during |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...rows,
        '',
      ].join('\n');
      process.stdout.write(report);
      if (OUT !== '-') fs.writeFileSync(OUT, report);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
