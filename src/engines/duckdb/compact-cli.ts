/**
 * Compacts the JSON trail into the Parquet store the DuckDB engine reads.
 *
 *   npm run compact                                  # TRAIL_DIR (or the sample trail), PARQUET_DIR, EVENT_SOURCES
 *   npm run compact -- --trail /data/trail --store /data/trail-parquet
 *
 * Incremental: only days that are new, or whose files changed, are written. Run it from cron (or
 * after each sync); days not compacted yet are read from JSON meanwhile. A file that cannot be
 * read is left out and listed (`LEFT OUT`), not a failure: the exit code is 1 only when a day
 * could not be written at all.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadStorageConfig } from '../../config';
import { defaultStoreDir } from './parquet-store';
import { CompactProgress, compactTrail } from './compact';
import { ProgressLine } from '../../trail/progress';

const USAGE = `Usage: npm run compact -- [options]

  --trail DIR            trail folder (holding AWSLogs/)   default: TRAIL_DIR, else the sample trail (SAMPLE_DIR)
  --store DIR            Parquet store                     default: PARQUET_DIR, else <trail>/.trailql-parquet
  --event-sources a,b    event sources to keep, * for all  default: EVENT_SOURCES (iotevents, ioteventsdata)
  --threads N            DuckDB threads                    default: DUCKDB_THREADS, else every core
  --force                rewrite every day, changed or not
  --list                 print each day written
  -h, --help             this text
`;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        trail: { type: 'string' },
        store: { type: 'string' },
        'event-sources': { type: 'string' },
        threads: { type: 'string' },
        force: { type: 'boolean' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadStorageConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`compact: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const trailDir = values.trail ?? config.trailDir ?? config.sample.dir;
  const storeDir = values.store ?? config.duckdb.parquetDir ?? defaultStoreDir(trailDir);
  let eventSources: readonly string[] = config.eventSources;
  if (values['event-sources'] !== undefined) {
    const list = values['event-sources'].split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 0 || list.some((s) => s !== '*' && !/^[a-z0-9.-]+\.amazonaws\.com$/.test(s))) {
      process.stderr.write(`--event-sources: expected "service.amazonaws.com,..." or "*", got "${values['event-sources']}"\n`);
      return 2;
    }
    eventSources = list.includes('*') ? [] : list;
  }
  const threads = values.threads !== undefined ? Number(values.threads) : config.duckdb.threads || undefined;
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0 && threads <= 256)) {
    process.stderr.write(`--threads: expected a whole number from 1 to 256, got "${values.threads}"\n`);
    return 2;
  }

  const line = new ProgressLine('compact');
  line.note('listing the trail (every file is compared with the manifests)');
  const result = await compactTrail({
    trailDir,
    storeDir,
    eventSources,
    threads,
    memoryLimit: config.duckdb.memoryLimit,
    force: values.force ?? false,
    // Look back one day more than the service's delivery margin (at least the margin lets its
    // queries over the store skip deduplication; the day more catches a copy a little later).
    lookbackDays: config.deliveryMarginDays + 1,
    onProgress: (p: CompactProgress) => line.update(p.files, p.totalFiles, 'files', p.elapsedMs, `${p.days}/${p.totalDays} days, ${fmt(p.records)} records`),
  });
  line.done();

  const out: string[] = [
    `Parquet store ${result.storeDir}`,
    `  trail          ${trailDir}`,
    `  event sources  ${eventSources.length ? eventSources.join(', ') : 'all'}`,
    `  days           ${result.days} in the trail: ${result.compacted.length} written (${result.together} in batches), ${result.refreshed.length} refreshed, ${result.upToDate} up to date, ${result.removed.length} removed, ${result.failed.length} failed`,
    `  unreadable     ${result.unreadable.length} files left out (their days are written from the other files and read from JSON until they change)`,
    `  read           ${fmt(result.sourceFiles)} JSON files, ${fmt(result.sourceBytes / 1e6)} MB`,
    `  wrote          ${fmt(result.records)} records (${fmt(result.duplicates)} repeated deliveries left out), ${fmt(result.parquetBytes / 1e6)} MB of Parquet`,
    result.copies === undefined
      ? `  copies         not listed (${result.problem}): every query over the store deduplicates until a run lists them`
      : `  copies         ${fmt(result.copies)} calls held by more than one store file (late or copied deliveries, untimed records): queries reading them deduplicate`,
    `  took           ${(result.ms / 1000).toFixed(1)} s`,
  ];
  if (values.list) for (const k of result.compacted) out.push(`  written        ${k}`);
  for (const k of result.removed) out.push(`  removed        ${k} (its JSON folders are gone)`);
  for (const f of result.failed) out.push(`  FAILED         ${f.key}: ${f.error}`);
  for (const u of result.unreadable) out.push(`  LEFT OUT       ${u.path}: ${u.reason}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return result.failed.length ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`compact: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
