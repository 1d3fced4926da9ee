import { promises as fs, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBValue, listValue } from '@duckdb/node-api';
import { EngineError } from '../../errors';
import { CompiledQuery, Engine, EngineResult, ExecuteOptions, Row } from '../engine';
import { DISTINCT_EVENTS, JSON_SOURCE, columnsUsed, narrowSource } from './dialect';
import { ParquetStore, allJson } from './parquet-store';
import { DuckDbResources, duckDbResources } from './resources';
import { DayFolderFiles, dayFolders } from './trail-files';

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
}

/** The files one statement reads and how they are bound. */
interface Sources {
  readonly sql: string;
  /** File lists bound, in order, to the statement's first placeholders. */
  readonly lists: readonly (readonly string[])[];
  /** Parquet files first, then JSON files. */
  readonly files: readonly string[];
  readonly bytes: number;
}

function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
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

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly settings: DuckDbSettings,
    readonly resources: DuckDbResources,
  ) {
    this.maxConcurrentQueries = resources.concurrentQueries;
    this.sourceId = `duckdb:${path.resolve(settings.trailDir)}`;
    // read_json needs at least one file; a window with none reads this empty delivery instead.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trailql-'));
    this.emptyFile = path.join(dir, 'empty.json');
    writeFileSync(this.emptyFile, '{"Records":[]}');
    this.store = settings.parquetDir
      ? new ParquetStore(path.resolve(settings.parquetDir), settings.trailDir, settings.eventSources, settings.deliveryMarginDays ?? 1)
      : undefined;
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
  private async sources(query: CompiledQuery): Promise<Sources> {
    const folders = await dayFolders(this.settings.trailDir, query.partitions);
    const at = query.sql.indexOf(JSON_SOURCE);
    const swappable = at >= 0 && at === query.sql.lastIndexOf(JSON_SOURCE);
    const split = this.store && swappable ? await this.store.split(folders) : allJson(folders);
    const listed = (await Promise.all(split.jsonDirs.map((d) => this.dayFiles.files(d.dir, d.mtimeNs)))).flat();
    const json = listed.map((f) => f.file).sort();
    const jsonBytes = listed.reduce((a, f) => a + f.size, 0);
    const parquet = split.parquet.map((p) => p.file);
    const jsonList = json.length ? json : [this.emptyFile];
    const files = [...parquet, ...json];
    const bytes = jsonBytes + split.parquet.reduce((a, p) => a + p.size, 0);
    if (!swappable) return { sql: query.sql, lists: [jsonList], files, bytes };
    const parts = { parquet: parquet.length > 0, json: json.length > 0 || parquet.length === 0 };
    // Store partitions alone already hold each call once (parquet-store.ts): no deduplication, and no eventID read for it.
    const statement = !parts.json && split.eachCallOnce ? query.sql.split(DISTINCT_EVENTS).join('SELECT ') : query.sql;
    const source = narrowSource(columnsUsed(statement), parts, this.settings.eventSources);
    const from = statement.indexOf(JSON_SOURCE);
    const sql = statement.slice(0, from) + source + statement.slice(from + JSON_SOURCE.length);
    return {
      sql,
      lists: [...(parts.parquet ? [parquet] : []), ...(parts.json ? [jsonList] : [])],
      files,
      bytes,
    };
  }

  async execute(query: CompiledQuery, options: ExecuteOptions = {}): Promise<EngineResult> {
    const started = performance.now();
    const { sql, lists, files, bytes } = await this.sources(query);
    const connection = await DuckDBConnection.create(this.instance);
    const abort = () => connection.interrupt();
    options.signal?.addEventListener('abort', abort, { once: true });
    const timer = options.timeoutMs ? setTimeout(abort, options.timeoutMs) : undefined;
    try {
      if (options.signal?.aborted) throw new EngineError('query abandoned before it started', this.name);
      const prepared = await connection.prepare(sql);
      const values: DuckDBValue[] = [...lists.map((l) => listValue([...l])), ...query.params];
      prepared.bind(values);
      const reader = await prepared.runAndReadAll();
      const rows: Row[] = reader.getRowObjectsJS().map((r) => {
        const row: Row = {};
        for (const [k, v] of Object.entries(r)) row[k] = plain(v);
        return row;
      });
      return { rows, stats: { engineMs: performance.now() - started, bytesScanned: bytes, files: [...files] } };
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
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      connection.closeSync();
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

  async close(): Promise<void> {
    this.instance.closeSync();
    await fs.rm(path.dirname(this.emptyFile), { recursive: true, force: true });
  }
}
