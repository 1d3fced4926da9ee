/**
 * Compaction against its ceiling: `compactTrail` (from scratch, every day rewritten) against one
 * hand-written `COPY ... TO ... (FORMAT parquet, PARTITION_BY ...)` of the same records (the
 * service's own JSON reader over every record file, the configured event sources, the same
 * columns), over a generated sample trail. Runs alternate, the order reversed every other round;
 * figures are medians with (min–max).
 *
 *   npx ts-node --transpile-only bench/compact-copy.bench.ts
 *
 * Environment: BENCH_DAYS (sample trail length, default 7), BENCH_ROUNDS (default 3), BENCH_OUT
 * (report path; "-" to print only).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBenchConfig } from '../src/config';
import { IOT_EVENTS_SOURCES } from '../src/domain/iotevents-actions';
import { generateSampleTrail } from '../src/trail/sample';
import { compactAgainstCopy } from './compact-copy';
import { median } from './measure';

const BENCH = loadBenchConfig();
const DAYS = BENCH.days ?? 7;
const ROUNDS = BENCH.rounds ?? 3;
const OUT = BENCH.out ?? path.resolve(__dirname, 'results/compact-copy.md');
const END = new Date('2026-03-15T00:00:00Z');

const secs = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} (${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)})`;

async function main(): Promise<void> {
  const loadStart = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-compact-bench-'));
  try {
    const sample = await generateSampleTrail({ outDir: dir, days: DAYS, end: END, seed: 7 });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-compact-work-'));
    const r = await compactAgainstCopy({ trailDir: dir, workDir: work, eventSources: IOT_EVENTS_SOURCES, rounds: ROUNDS, onRound: (i) => process.stderr.write(`round ${i + 1}/${ROUNDS}\n`) }).finally(() =>
      fs.rmSync(work, { recursive: true, force: true }),
    );
    const report = [
      '# Compaction against a hand-written COPY',
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npx ts-node --transpile-only bench/compact-copy.bench.ts\` (BENCH_DAYS=${DAYS}, BENCH_ROUNDS=${ROUNDS}). \`npm run bench\` measures the same over its 30-day trail (bench/RESULTS.md).`,
      '',
      `- CPU: ${os.cpus()[0]?.model ?? 'unknown'}, \`nproc\` = ${os.availableParallelism()}; Node ${process.version}`,
      `- Load average (1, 5, 15 min) at the start: ${loadStart.map((l) => l.toFixed(2)).join(', ')}; at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`,
      `- Trail: generated sample, ${DAYS} days, ${r.files} record files, ${sample.records} records (${sample.iotEventsRecords} IoT Events).`,
      `- compact: \`compactTrail\` with \`force\` (every account/region/day rewritten, duplicates left out, manifests written): ${r.partitions} partitions, ${r.records} records.`,
      `- COPY: one statement over every record file through the service's JSON reader (same columns, same event sources), \`PARTITION_BY (account, region, day)\`, no deduplication: ${r.copied} records.`,
      `- ${ROUNDS} rounds, the order reversed every other round; seconds, median (min–max), in one process.`,
      '',
      '| way | seconds | vs COPY |',
      '| --- | ---: | ---: |',
      `| compact (from scratch) | ${secs(r.compactMs)} | ${(median(r.compactMs) / median(r.copyMs)).toFixed(2)}× |`,
      `| hand COPY | ${secs(r.copyMs)} | 1.00× |`,
      '',
    ].join('\n');
    process.stdout.write(report);
    if (OUT !== '-') fs.writeFileSync(OUT, report);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
