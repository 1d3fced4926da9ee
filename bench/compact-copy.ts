/**
 * Compaction against its ceiling, the measurement both `npm run bench` and
 * bench/compact-copy.bench.ts report: `compactTrail` from scratch (`force`: every account/region/day
 * rewritten, repeated deliveries left out, manifests written) against one hand-written
 * `COPY ... TO ... (FORMAT parquet, PARTITION_BY (account, region, day))` of the same records (the
 * service's own JSON reader over every record file, the same event sources and columns, no
 * deduplication), in rounds that take turns to go first. Both write under `workDir`, never the
 * trail's own store.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { compactTrail } from '../src/engines/duckdb/compact';
import { jsonRecords } from '../src/engines/duckdb/dialect';
import { allDayFolders, recordFiles } from '../src/engines/duckdb/trail-files';
import { literal } from '../src/query/compiler';

export interface CompactVsCopy {
  /** Milliseconds of each run, in the order run. */
  readonly compactMs: number[];
  readonly copyMs: number[];
  /** Record files both read. */
  readonly files: number;
  /** Partitions and records compaction wrote (the last run). */
  readonly partitions: number;
  readonly records: number;
  /** Records the COPY wrote (repeated deliveries included). */
  readonly copied: number;
}

export async function compactAgainstCopy(opts: {
  trailDir: string;
  workDir: string;
  eventSources: readonly string[];
  rounds: number;
  onRound?: (round: number) => void;
}): Promise<CompactVsCopy> {
  const files = (await Promise.all((await allDayFolders(opts.trailDir)).map((f) => recordFiles(f.dir)))).flat().sort();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await DuckDBConnection.create(instance);
  const storeDir = path.join(opts.workDir, 'store');
  const copyDir = path.join(opts.workDir, 'copy');
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const source = jsonRecords(`[${files.map(literal).join(', ')}]`, { eventSources: opts.eventSources });
    const copySql =
      `COPY (SELECT *, recipientAccountId AS account, awsRegion AS region, substr(eventTime, 1, 10) AS day FROM ${source}) ` +
      `TO ${literal(copyDir)} (FORMAT parquet, PARTITION_BY (account, region, day), OVERWRITE_OR_IGNORE)`;
    const compactMs: number[] = [];
    const copyMs: number[] = [];
    let compacted: Awaited<ReturnType<typeof compactTrail>> | undefined;
    const runCompact = async () => {
      const t = performance.now();
      compacted = await compactTrail({ trailDir: opts.trailDir, storeDir, eventSources: opts.eventSources, force: true });
      compactMs.push(performance.now() - t);
      if (compacted.failed.length) throw new Error(`compaction failed: ${JSON.stringify(compacted.failed.slice(0, 3))}`);
    };
    const runCopy = async () => {
      fs.rmSync(copyDir, { recursive: true, force: true });
      const t = performance.now();
      await connection.run(copySql);
      copyMs.push(performance.now() - t);
    };
    for (let round = 0; round < opts.rounds; round += 1) {
      opts.onRound?.(round);
      for (const run of round % 2 === 0 ? [runCompact, runCopy] : [runCopy, runCompact]) await run();
    }
    const copied = Number((await connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${literal(`${copyDir}/**/*.parquet`)})`)).getRows()[0]?.[0]);
    return { compactMs, copyMs, files: files.length, partitions: compacted?.compacted.length ?? 0, records: compacted?.records ?? 0, copied };
  } finally {
    connection.closeSync();
    instance.closeSync();
    fs.rmSync(storeDir, { recursive: true, force: true });
    fs.rmSync(copyDir, { recursive: true, force: true });
  }
}
