import { createHash } from 'node:crypto';
import { Stats, promises as fs, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBValue, listValue } from '@duckdb/node-api';
import { EngineError, TrailUnavailableError } from '../../errors';
import { Logger } from '../../logger';
import { quoteIdent } from '../../query/compiler';
import { CompiledQuery, Engine, EngineResult, ExecuteOptions, Row, TrailHealth, UnreadableFile } from '../../query/engine';
import { DISTINCT_EVENTS, FIRST_COPY, JSON_SOURCE, columnsUsed, jsonRecords, narrowSource, readsBehindBarrier } from './dialect';
import { ParquetStore, allJson, partitionDir, trailRelative } from './parquet-store';
import { DuckDbResources, duckDbResources } from './resources';
import { RequestScans, SHARED_SCAN_COLUMNS, ScanPool, SharedTable, readsSharedColumns } from './shared-scans';
import { AWS_LOGS } from '../../trail/layout';
import { DayFolderFiles, FolderListings, SizedFile, dayFolders, mtimeNsNow, settled, statNow, statNowExact, trailRoot } from './trail-files';
import { SMALL_RECORD_FILE_BYTES, UnreadableFiles, blameFiles, damagedParquetFiles } from './unreadable-files';

/**
 * A digest of the files as they are on disk now (path, size, modification time, inode): a reading
 * made with one serves a later request only while it is unchanged, so a file grown or replaced in
 * place (which a folder's cached listing does not show) is read anew. Undefined when a file is gone.
 * Synchronous: a stat takes microseconds, far less than a trip through the thread pool.
 */
function filesOnDisk(files: readonly string[]): string | undefined {
  const hash = createHash('sha256');
  for (const f of files) {
    const s = statNowExact(f);
    if (!s) return undefined;
    hash.update(`${f}\t${s.size}\t${s.mtimeNs}\t${s.ino}\n`);
  }
  return hash.digest('hex');
}

/**
 * `promise`, or the statement's own end while it waits: `ended.abandoned` when its signal aborts,
 * `ended.timeout` when its time is up (a table another statement fills is waited for within this
 * statement's limits, not that statement's).
 */
export function whileWanted<T>(promise: Promise<T>, options: ExecuteOptions, ended: { abandoned: Error; timeout: Error }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (err: Error) => {
      done();
      reject(err);
    };
    const abandoned = () => stop(ended.abandoned);
    const timer = options.timeoutMs !== undefined ? setTimeout(() => stop(ended.timeout), options.timeoutMs) : undefined;
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abandoned);
    };
    // Attached first: a promise given up on at once still has its failure handled (an unhandled one ends the process).
    promise.then(
      (v) => {
        done();
        resolve(v);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
    if (options.signal?.aborted) return abandoned();
    options.signal?.addEventListener('abort', abandoned, { once: true });
  });
}

/** Why a listed entry is no file to read now: a folder named like a record file, a link to nothing (or to itself), or to no file. */
function notAFile(entry: SizedFile, target: Stats | undefined): string | undefined {
  if (entry.notFile) return 'not a file';
  if (!entry.link) return undefined;
  if (!target) return 'a link to nothing';
  return target.isFile() ? undefined : 'not a file';
}

/**
 * Interrupts `connection` when the query is abandoned or its time is up. DuckDB keeps no interrupt
 * that comes while nothing runs (between steps, or while a statement is prepared), and an
 * interrupted statement fails like any other: `stillWanted` is asked before each step and after a
 * failure, and throws the query's own end. `stop` once the connection's work is over.
 */
function untilEnded(connection: DuckDBConnection, options: Pick<ExecuteOptions, 'signal' | 'timeoutMs'>, engine: string, during = '') {
  let timedOut = false;
  const interrupt = () => connection.interrupt();
  options.signal?.addEventListener('abort', interrupt, { once: true });
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        interrupt();
      }, options.timeoutMs)
    : undefined;
  return {
    stillWanted: (step = during) => {
      if (options.signal?.aborted) throw new EngineError(`query abandoned ${step}`, engine);
      if (timedOut) throw new EngineError(`query timed out ${step}`, engine, { timeout: true });
    },
    stop: () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', interrupt);
    },
  };
}

/** A connection's rows need not come in the order they were read: DuckDB then reads on every thread. */
const UNORDERED = 'SET SESSION preserve_insertion_order = false';

/** Failed reads retried with the file found unreadable left out, before the query gives up. */
const MAX_RETRIES = 8;

/** Default SHARED_SCAN_MAX_MB: the most bytes of delivery files read once for the statements over them. */
export const DEFAULT_SHARED_SCAN_MAX_BYTES = 64 * 2 ** 20;

/** Default SHARED_SCAN_KEEP_SECONDS: how long after its files were read a reading may serve later requests. */
export const DEFAULT_SHARED_SCAN_KEEP_MS = 120_000;

/** Default SHARED_SCAN_KEEP_MB: the memory DuckDB's tables may hold for idle readings to be kept. */
export const DEFAULT_SHARED_SCAN_KEEP_MEMORY_BYTES = 256 * 2 ** 20;

export interface DuckDbSettings {
  /** Folder holding `AWSLogs/` in the S3 delivery layout. */
  readonly trailDir: string;
  readonly threads?: number;
  readonly memoryLimit?: string;
  /**
   * The most queries the service will run at once: with the threads, what the JSON reader's
   * buffers must fit in the memory limit (resources.ts). Default 4.
   */
  readonly concurrentQueries?: number;
  /**
   * The Parquet store written by `npm run compact` (parquet-store.ts). When set, days it holds up
   * to date are read from it, the others from JSON; a missing folder just means "all JSON".
   */
  readonly parquetDir?: string;
  /**
   * The service's event sources (`[]` or absent = every source). Every statement the service runs
   * filters on a subset of them, so the engine keeps only their records when reading JSON (the
   * other services' records are never turned into columns), and reads no store made for fewer.
   */
  readonly eventSources?: readonly string[];
  /**
   * Days after an event its record may still be delivered (DELIVERY_MARGIN_DAYS). A statement
   * reading only store partitions that looked this far back for earlier copies runs without its
   * deduplication: those rows hold each call once.
   */
  readonly deliveryMarginDays?: number;
  /** Where each file set aside as unreadable is logged, once per version. */
  readonly logger?: Logger;
  /**
   * The most bytes of JSON files (on disk) whose records are read once for all the statements over
   * them (shared-scans.ts); 0 turns sharing off. Default DEFAULT_SHARED_SCAN_MAX_BYTES.
   */
  readonly sharedScanMaxBytes?: number;
  /** How long after its files were read a reading may serve later requests (0: only its own). Default DEFAULT_SHARED_SCAN_KEEP_MS. */
  readonly sharedScanKeepMs?: number;
  /** The memory DuckDB's tables may hold for idle readings to be kept. Default DEFAULT_SHARED_SCAN_KEEP_MEMORY_BYTES. */
  readonly sharedScanKeepMemoryBytes?: number;
}

/** The files one statement reads and how they are bound. */
interface Sources {
  readonly sql: string;
  /** File lists bound, in order, to the statement's first placeholders. */
  readonly lists: readonly (readonly string[])[];
  /** Parquet files first, then JSON files. */
  readonly files: readonly string[];
  /** The JSON files read (looked at first when a read fails). */
  readonly json: readonly string[];
  /** The store's Parquet files read (looked at when no JSON file explains a failed read). */
  readonly parquet: readonly string[];
  readonly bytes: number;
  /** Bytes of the JSON files. */
  readonly jsonBytes: number;
  /** Files of the query's day folders left out as unreadable. */
  readonly unreadable: readonly UnreadableFile[];
  /**
   * The statement reads JSON files' records behind the barrier `narrowSource` puts before them
   * (dialect.ts): run without keeping insertion order, or DuckDB reads them on one thread.
   */
  readonly behindBarrier?: boolean;
  /**
   * The statement reading its JSON part from a shared reading's table instead (shared-scans.ts),
   * and the key of that reading (the JSON files with their sizes); absent when it cannot (its JSON
   * source is not the one FROM item, it reads a payload column, or its files are too many bytes).
   */
  readonly shared?: {
    readonly key: string;
    readonly overTable: (table: string) => { readonly sql: string; readonly lists: readonly (readonly string[])[] };
  };
}

function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

/**
 * Times are read and written in UTC whatever the host's zone: a record's eventTime without an
 * offset is UTC (CloudTrail writes UTC), and the canonical form is formatted in UTC.
 */
export async function useUtc(instance: DuckDBInstance): Promise<void> {
  const connection = await DuckDBConnection.create(instance);
  try {
    await connection.run("SET GLOBAL TimeZone = 'UTC'");
  } finally {
    connection.closeSync();
  }
}

/** Embedded DuckDB reading the trail folder directly; one connection per query. */
export class DuckDbEngine implements Engine {
  readonly name = 'duckdb';
  readonly capabilities = { billedByScan: false, cancellable: true };
  readonly sourceId: string;
  readonly maxConcurrentQueries: number;
  private readonly emptyFile: string;
  private readonly store: ParquetStore | undefined;
  private readonly dayFiles = new DayFolderFiles();
  private readonly listings = new FolderListings();
  private readonly unreadable: UnreadableFiles;
  private readonly sharedScanMaxBytes: number;
  private readonly scans: ScanPool;
  /**
   * Connections a finished statement gave back, for the next one (opening one costs a trip to
   * DuckDB's threads): at most one per statement that may run at once.
   */
  private readonly idle: DuckDBConnection[] = [];
  /** Set by `close`: a statement still running then closes its connection rather than keep it. */
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly settings: DuckDbSettings,
    readonly resources: DuckDbResources,
  ) {
    this.maxConcurrentQueries = resources.concurrentQueries;
    this.sourceId = `duckdb:${path.resolve(settings.trailDir)}`;
    this.sharedScanMaxBytes = settings.sharedScanMaxBytes ?? DEFAULT_SHARED_SCAN_MAX_BYTES;
    this.scans = new ScanPool(instance, {
      keepMs: settings.sharedScanKeepMs ?? DEFAULT_SHARED_SCAN_KEEP_MS,
      keepMemoryBytes: settings.sharedScanKeepMemoryBytes ?? DEFAULT_SHARED_SCAN_KEEP_MEMORY_BYTES,
    });
    // read_json needs at least one file; a window with none reads this empty delivery instead.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trailql-'));
    this.emptyFile = path.join(dir, 'empty.json');
    writeFileSync(this.emptyFile, '{"Records":[]}');
    this.store = settings.parquetDir
      ? new ParquetStore(path.resolve(settings.parquetDir), settings.trailDir, settings.eventSources, settings.deliveryMarginDays ?? 1)
      : undefined;
    this.unreadable = new UnreadableFiles(
      (file) => trailRelative(settings.trailDir, file),
      (f) => settings.logger?.warn({ file: f.path, reason: f.reason, size: f.size }, 'trail file unreadable: left out of answers until it changes'),
    );
  }

  static async create(settings: DuckDbSettings): Promise<DuckDbEngine> {
    const resources = duckDbResources({
      threads: settings.threads,
      memoryLimit: settings.memoryLimit,
      concurrentQueries: settings.concurrentQueries ?? 4,
      cores: os.availableParallelism(),
      totalMemoryBytes: os.totalmem(),
    });
    const options: Record<string, string> = { threads: String(resources.threads), memory_limit: `${resources.memoryLimitBytes}B` };
    const instance = await DuckDBInstance.create(':memory:', options);
    await useUtc(instance);
    if (settings.parquetDir) {
      // The store's files are read by many queries: keep their footers (DuckDB re-reads a file's
      // footer when the file is newer than what it kept, and compact writes new files).
      const connection = await DuckDBConnection.create(instance);
      try {
        await connection.run('LOAD parquet');
        await connection.run('SET GLOBAL parquet_metadata_cache = true');
      } finally {
        connection.closeSync();
      }
    }
    return new DuckDbEngine(instance, settings, resources);
  }

  /** Files a compiled query would open: Parquet files of the days the store holds, JSON files of the rest. */
  async files(query: CompiledQuery): Promise<string[]> {
    return [...(await this.sources(query)).files];
  }

  /** The statement a compiled query would run, with the source it would read. */
  async statement(query: CompiledQuery): Promise<string> {
    return (await this.sources(query)).sql;
  }

  /**
   * Only the day folders of the query's partitions are looked at. With a store, each account,
   * region and day it holds up to date is one Parquet file; every other day is its JSON files, and
   * the statement's source becomes the union of both (same columns, same types). Either way the
   * source reads only the record columns the statement uses.
   */
  private async sources(query: CompiledQuery, leftOut: ReadonlyMap<string, UnreadableFile> = new Map()): Promise<Sources> {
    const folders = await dayFolders(this.available(), query.partitions, this.listings);
    const at = query.sql.indexOf(JSON_SOURCE);
    const swappable = at >= 0 && at === query.sql.lastIndexOf(JSON_SOURCE);
    const split = this.store && swappable ? await this.store.split(folders) : allJson(folders);
    const listed = (await Promise.all(split.jsonDirs.map((d) => this.dayFiles.files(d.dir, d.mtimeNs)))).flat();
    // Files found unreadable (by this read, or earlier and unchanged since) are left out; an empty
    // file is known unreadable from its listing alone.
    const unreadable = new Map(leftOut);
    const readable = listed.flatMap((f): { file: string; size: number }[] => {
      if (unreadable.has(f.file)) return [];
      // What is not a file is never opened (a pipe or a device would hold the read for ever), and
      // is named without a read: each failed read names one path, and retries are few.
      const target = f.link ? statNow(f.file) : undefined;
      const why = notAFile(f, target);
      if (why) {
        const { path: rel, reason } = this.unreadable.add(f.file, why);
        unreadable.set(f.file, { path: rel, reason });
        return [];
      }
      const size = target ? target.size : f.size;
      const known = size === 0 ? this.emptyListed(f.file) : size <= SMALL_RECORD_FILE_BYTES ? this.unreadable.smallFile(f.file) : this.unreadable.current(f.file);
      if (known) unreadable.set(f.file, { path: known.path, reason: known.reason });
      return known ? [] : [{ file: f.file, size }];
    });
    const json = readable.map((f) => f.file).sort();
    const jsonBytes = readable.reduce((a, f) => a + f.size, 0);
    const parquet = split.parquet.map((p) => p.file);
    const jsonList = json.length ? json : [this.emptyFile];
    const files = [...parquet, ...json];
    const bytes = jsonBytes + split.parquet.reduce((a, p) => a + p.size, 0);
    const common = { files, json, parquet, bytes, unreadable: [...unreadable.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
    if (!swappable) return { sql: query.sql, lists: [jsonList], jsonBytes, ...common };
    const parts = { parquet: parquet.length > 0, json: json.length > 0 || parquet.length === 0 };
    // Store partitions alone already hold each call once (parquet-store.ts): no deduplication, and no eventID read for it.
    const statement = !parts.json && split.eachCallOnce ? query.sql.split(DISTINCT_EVENTS).join('SELECT ').split(FIRST_COPY).join('') : query.sql;
    const columns = columnsUsed(statement);
    const from = statement.indexOf(JSON_SOURCE);
    const withSource = (source: string) => statement.slice(0, from) + source + statement.slice(from + JSON_SOURCE.length);
    const sql = withSource(narrowSource(columns, parts, this.settings.eventSources));
    const lists = [...(parts.parquet ? [parquet] : []), ...(parts.json ? [jsonList] : [])];
    const behindBarrier = parts.json && readsBehindBarrier(this.settings.eventSources);
    // Serving every event source, a reading would copy every record of the files: more than one statement reads.
    const shareable = json.length > 0 && jsonBytes <= this.sharedScanMaxBytes && !!this.settings.eventSources?.length && columns.length > 0 && readsSharedColumns(columns);
    const overTable = (table: string) => ({ sql: withSource(narrowSource(columns, parts, this.settings.eventSources, table)), lists: parts.parquet ? [parquet] : [] });
    if (!shareable) return { sql, lists, jsonBytes, behindBarrier, ...common };
    return { sql, lists, jsonBytes, behindBarrier, ...common, shared: { key: readable.map((f) => `${f.file}\t${f.size}`).join('\n'), overTable } };
  }

  /** A file listed with no bytes: set aside when it is still empty (it may have been written since its listing). */
  private emptyListed(file: string) {
    const s = statNow(file);
    return s && s.size === 0 ? this.unreadable.add(file, 'empty file') : this.unreadable.current(file);
  }

  /**
   * The trail folder, once it is known to hold `AWSLogs/`: a missing trail is an error, never an
   * empty answer.
   */
  private available(): string {
    const problem = this.trailProblem();
    if (problem) throw new TrailUnavailableError(problem, this.name);
    return this.settings.trailDir;
  }

  private trailProblem(): string | undefined {
    const root = trailRoot(this.settings.trailDir);
    if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) return 'the trail folder does not exist';
    if (!statSync(path.join(root, AWS_LOGS), { throwIfNoEntry: false })?.isDirectory()) return 'the trail folder holds no AWSLogs/ folder';
    return undefined;
  }

  /**
   * The day folders a query reads with their modification times (a file added, removed or
   * renamed changes its folder's), and those of the store's partition folders for the same days
   * (a compaction that rewrites a partition places new files in its folder): a new delivery or a
   * rewritten partition gives a new digest. Null while one of them changed within the last
   * seconds (FOLDER_SETTLE_MS): a file landing in the same clock tick would not change it again.
   */
  async fingerprint(query: CompiledQuery): Promise<string | null> {
    const folders = await dayFolders(this.available(), query.partitions, this.listings);
    const store = this.store?.dir;
    const dirs = [...folders.map((f) => f.dir), ...(store ? new Set(folders.map((f) => partitionDir(store, f.account, f.region, f.day))) : [])];
    const times = dirs.map((dir) => mtimeNsNow(dir));
    if (times.some((t) => t !== undefined && !settled(t))) return null;
    // One update for all the folders: a month's few hundred updates cost more than the hashing.
    return createHash('sha256')
      .update(dirs.map((dir, i) => `${dir}\u0000${times[i] ?? '-'}\n`).join(''))
      .digest('hex');
  }

  async trailHealth(): Promise<TrailHealth> {
    const problem = this.trailProblem();
    return { available: problem === undefined, ...(problem ? { problem } : {}), ...this.unreadable.health() };
  }

  /**
   * Runs the statement over the query's files. When the read fails, the files to blame are looked
   * for (unreadable-files.ts); each one found is set aside and the statement runs again over the
   * others, its answer naming them in `stats.unreadable`. A failure no file explains is the error.
   */
  async execute(query: CompiledQuery, options: ExecuteOptions = {}): Promise<EngineResult> {
    const started = performance.now();
    const leftOut = new Map<string, UnreadableFile>();
    // Retries, and the search for the file that failed a read, share the query's time limit.
    const left = () => (options.timeoutMs === undefined ? undefined : Math.max(1, options.timeoutMs - (performance.now() - started)));
    for (let attempt = 0; ; attempt++) {
      const sources = await this.sources(query, leftOut);
      try {
        const shared = await this.sharedScan(sources, { ...options, timeoutMs: left() });
        const { sql, lists } = shared ? sources.shared!.overTable(shared.table.name) : sources;
        // Every statement orders what it returns (the same SQL runs on Athena, which keeps no order).
        const setup = !shared && sources.behindBarrier ? UNORDERED : undefined;
        const rows = await this.run(sql, [...lists.map((l) => listValue([...l])), ...query.params], { ...options, timeoutMs: left() }, setup);
        // A statement over a table another statement filled read none of the JSON files, and its
        // wait for the table was that statement's engine time, not its own.
        const other = shared !== undefined && !shared.table.made;
        const bytesScanned = other ? sources.bytes - sources.jsonBytes : sources.bytes;
        const stats = { engineMs: performance.now() - started - (other ? shared.waitedMs : 0), bytesScanned, files: [...sources.files] };
        return { rows, stats: sources.unreadable.length ? { ...stats, unreadable: sources.unreadable } : stats };
      } catch (err) {
        if (!(err instanceof EngineError) || err.options.timeout || err.options.userError || options.signal?.aborted || attempt >= MAX_RETRIES) throw err;
        const found = await this.blame(err.cause ?? err, sources.json, { signal: options.signal, timeoutMs: left() });
        // The store is a copy of the JSON files: a damaged Parquet file's partition is read from those.
        if (found.length === 0 && (await this.setAsideDamagedStoreFiles(sources.parquet))) continue;
        if (found.length === 0) throw err;
        for (const { file, reason } of found) {
          const { path: rel, reason: why } = this.unreadable.add(file, reason);
          leftOut.set(file, { path: rel, reason: why });
        }
      }
    }
  }

  /** Store files that fail to read, set aside (each logged once); whether any was found. */
  private async setAsideDamagedStoreFiles(parquet: readonly string[]): Promise<boolean> {
    if (!this.store || parquet.length === 0) return false;
    const connection = await DuckDBConnection.create(this.instance);
    let damaged: { file: string; reason: string }[];
    try {
      damaged = await damagedParquetFiles(connection, parquet);
    } finally {
      connection.closeSync();
    }
    for (const { file, reason } of damaged) {
      if (this.store.setAside(file)) {
        this.settings.logger?.warn({ storeFile: this.store.relative(file), reason }, 'store file unreadable: its partition is read from JSON until compaction replaces it');
      }
    }
    return damaged.length > 0;
  }

  /** The files to blame for a failed read, looked for within the query's time and while it is wanted. */
  private async blame(err: unknown, json: readonly string[], options: Pick<ExecuteOptions, 'signal' | 'timeoutMs'>): Promise<{ file: string; reason: string }[]> {
    const connection = await DuckDBConnection.create(this.instance);
    const ending = untilEnded(connection, options, this.name, 'while its unreadable files were looked for');
    try {
      return await blameFiles(connection, err, json, this.unreadable, ending.stillWanted);
    } finally {
      ending.stop();
      connection.closeSync();
    }
  }

  /**
   * The table of the shared reading of the statement's JSON files (shared-scans.ts), filled now
   * when none is kept; undefined when the statement reads its files itself: it cannot share, or the
   * filling failed (an unreadable file is then met by the statement's own read, left out and named
   * as usual).
   */
  private async sharedScan(sources: Sources, options: ExecuteOptions): Promise<{ table: SharedTable; waitedMs: number } | undefined> {
    if (!sources.shared || !options.scope || this.sharedScanMaxBytes <= 0) return undefined;
    const scans = options.scope.use(this, () => new RequestScans(this.scans, options.fresh === true));
    const files = sources.json;
    const table = scans?.table(
      sources.shared.key,
      (name) => this.fillSharedScan(name, files, options),
      (version) => filesOnDisk(files) === version,
      options.scope.alone,
    );
    if (!table) return undefined;
    const started = performance.now();
    const own = { abandoned: new EngineError('query abandoned while its files were read', this.name), timeout: new EngineError('query timed out while its files were read', this.name, { timeout: true }) };
    try {
      return { table: await whileWanted(table, options, own), waitedMs: performance.now() - started };
    } catch (err) {
      // This statement's own end; otherwise another statement's fill failed for its own reasons
      // (its request gone, its time up, an unreadable file): this one reads its files within its
      // own time, and meets any unreadable file there.
      if (err === own.abandoned || err === own.timeout || options.signal?.aborted) throw err;
      return undefined;
    }
  }

  /** Fills the table; returns the files' digest taken before they were read, when the reading may serve later requests. */
  private async fillSharedScan(name: string, files: readonly string[], options: ExecuteOptions): Promise<string | undefined> {
    const version = this.scans.keeps ? filesOnDisk(files) : undefined;
    const records = jsonRecords('?', { columns: SHARED_SCAN_COLUMNS, eventSources: this.settings.eventSources });
    // The table's rows need no order (every statement orders its own), and copying them in any order uses every core.
    await this.run(`CREATE TABLE ${quoteIdent(name)} AS SELECT * FROM ${records}`, [listValue([...files])], options, UNORDERED);
    return version;
  }

  private async run(sql: string, values: DuckDBValue[], options: ExecuteOptions, setup?: string): Promise<Row[]> {
    const connection = this.idle.pop() ?? (await DuckDBConnection.create(this.instance));
    const ending = untilEnded(connection, options, this.name);
    const stillWanted = ending.stillWanted;
    // Given back for the next statement only when this one ran to its end and changed none of the
    // connection's settings (no setup). An interrupt lasts one statement, so a statement asked to
    // stop after it ended leaves the connection as it was.
    let reusable = false;
    try {
      stillWanted('before it started');
      if (setup) {
        await connection.run(setup);
        stillWanted('before it ran');
      }
      const prepared = await connection.prepare(sql);
      stillWanted('before it ran');
      prepared.bind(values);
      const reader = await prepared.runAndReadAll();
      prepared.destroySync();
      reusable = !setup;
      // Each row is a fresh object of the reader's: its values are made plain where they are.
      const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
      for (const row of rows) for (const k in row) row[k] = plain(row[k]);
      return rows as Row[];
    } catch (err) {
      if (err instanceof EngineError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const interrupted = /interrupt/i.test(message);
      throw new EngineError(message, this.name, {
        cause: err,
        timeout: interrupted && !options.signal?.aborted,
        userError: /Binder Error|Parser Error|Conversion Error/.test(message),
      });
    } finally {
      ending.stop();
      if (reusable && !this.closed && this.idle.length < this.maxConcurrentQueries) this.idle.push(connection);
      else connection.closeSync();
    }
  }

  async ping(): Promise<void> {
    await fs.access(this.settings.trailDir);
    const connection = await DuckDBConnection.create(this.instance);
    try {
      await connection.run('SELECT 1');
    } finally {
      connection.closeSync();
    }
  }

  /** The shared readings kept now and the memory DuckDB's tables hold for them (benchmarks and tests). */
  async sharedScans(): Promise<{ readings: number; memoryBytes: number }> {
    return { readings: this.scans.size, memoryBytes: await this.scans.tableMemory() };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.closeSync();
    await this.scans.close();
    this.instance.closeSync();
    await fs.rm(path.dirname(this.emptyFile), { recursive: true, force: true });
  }
}
