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
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { loadBenchConfig } from '../src/config';
import { IOT_EVENTS_SOURCES } from '../src/domain/iotevents-actions';
import { compactTrail } from '../src/engines/duckdb/compact';
import { jsonRecords } from '../src/engines/duckdb/dialect';
import { allDayFolders, recordFiles } from '../src/engines/duckdb/trail-files';
import { literal } from '../src/query/compiler';
import { generateSampleTrail } from '../src/trail/sample';

const BENCH = loadBenchConfig();
const DAYS = BENCH.days ?? 7;
const ROUNDS = BENCH.rounds ?? 3;
const OUT = BENCH.out ?? path.resolve(__dirname, 'results/compact-copy.md');
const END = new Date('2026-03-15T00:00:00Z');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const secs = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} (${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)})`;

async function main(): Promise<void> {
  const loadStart = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-compact-bench-'));
  try {
    const sample = await generateSampleTrail({ outDir: dir, days: DAYS, end: END, seed: 7 });
    const files = (await Promise.all((await allDayFolders(dir)).map((f) => recordFiles(f.dir)))).flat().sort();
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await DuckDBConnection.create(instance);
    await connection.run("SET TimeZone = 'UTC'");
    const copyDir = path.join(dir, 'copy');
    const source = jsonRecords(`[${files.map(literal).join(', ')}]`, { eventSources: IOT_EVENTS_SOURCES });
    const copySql =
      `COPY (SELECT *, recipientAccountId AS account, awsRegion AS region, substr(eventTime, 1, 10) AS day FROM ${source}) ` +
      `TO ${literal(copyDir)} (FORMAT parquet, PARTITION_BY (account, region, day), OVERWRITE_OR_IGNORE)`;
    const compactMs: number[] = [];
    const copyMs: number[] = [];
    let compacted: Awaited<ReturnType<typeof compactTrail>> | undefined;
    const runCompact = async () => {
      const t = performance.now();
      compacted = await compactTrail({ trailDir: dir, storeDir: path.join(dir, 'store'), eventSources: IOT_EVENTS_SOURCES, force: true });
      compactMs.push(performance.now() - t);
    };
    const runCopy = async () => {
      fs.rmSync(copyDir, { recursive: true, force: true });
      const t = performance.now();
      await connection.run(copySql);
      copyMs.push(performance.now() - t);
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
      if (round % 2 === 0) {
        await runCompact();
        await runCopy();
      } else {
        await runCopy();
        await runCompact();
      }
    }
    const copied = Number((await connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${literal(`${copyDir}/**/*.parquet`)})`)).getRows()[0]?.[0]);
    connection.closeSync();
    instance.closeSync();
    const report = [
      '# Compaction against a hand-written COPY',
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npx ts-node --transpile-only bench/compact-copy.bench.ts\` (BENCH_DAYS=${DAYS}, BENCH_ROUNDS=${ROUNDS}).`,
      '',
      `- CPU: ${os.cpus()[0]?.model ?? 'unknown'}, \`nproc\` = ${os.availableParallelism()}; Node ${process.version}`,
      `- Load average (1, 5, 15 min) at the start: ${loadStart.map((l) => l.toFixed(2)).join(', ')}; at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`,
      `- Trail: generated sample, ${DAYS} days, ${files.length} record files, ${sample.records} records (${sample.iotEventsRecords} IoT Events).`,
      `- compact: \`compactTrail\` with \`force\` (every account/region/day rewritten, duplicates left out, manifests written): ${compacted?.compacted.length} partitions, ${compacted?.records} records.`,
      `- COPY: one statement over every record file through the service's JSON reader (same columns, same event sources), \`PARTITION_BY (account, region, day)\`, no deduplication: ${copied} records.`,
      `- ${ROUNDS} rounds, the order reversed every other round; seconds, median (min–max), in one process.`,
      '',
      '| way | seconds | vs COPY |',
      '| --- | ---: | ---: |',
      `| compact (from scratch) | ${secs(compactMs)} | ${(median(compactMs) / median(copyMs)).toFixed(2)}× |`,
      `| hand COPY | ${secs(copyMs)} | 1.00× |`,
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
