import { promises as fs, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBValue, listValue } from '@duckdb/node-api';
import { EngineError } from '../../errors';
import { CompiledQuery, Engine, EngineResult, ExecuteOptions, Row } from '../engine';
import { listTrailFiles } from './trail-files';

export interface DuckDbSettings {
  /** Folder holding `AWSLogs/` in the S3 delivery layout. */
  readonly trailDir: string;
  readonly threads?: number;
  readonly memoryLimit?: string;
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
  private readonly emptyFile: string;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly settings: DuckDbSettings,
  ) {
    this.sourceId = `duckdb:${path.resolve(settings.trailDir)}`;
    // read_json needs at least one file; a window with none reads this empty delivery instead.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trailql-'));
    this.emptyFile = path.join(dir, 'empty.json');
    writeFileSync(this.emptyFile, '{"Records":[]}');
  }

  static async create(settings: DuckDbSettings): Promise<DuckDbEngine> {
    const options: Record<string, string> = {};
    if (settings.threads) options.threads = String(settings.threads);
    if (settings.memoryLimit) options.memory_limit = settings.memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', options);
    return new DuckDbEngine(instance, settings);
  }

  /** Files a compiled query would open. */
  files(query: CompiledQuery): Promise<string[]> {
    return listTrailFiles(this.settings.trailDir, query.partitions);
  }

  async execute(query: CompiledQuery, options: ExecuteOptions = {}): Promise<EngineResult> {
    const started = performance.now();
    const files = await this.files(query);
    const bytes = (await Promise.all(files.map((f) => fs.stat(f).then((s) => s.size)))).reduce((a, b) => a + b, 0);
    const connection = await DuckDBConnection.create(this.instance);
    const abort = () => connection.interrupt();
    options.signal?.addEventListener('abort', abort, { once: true });
    const timer = options.timeoutMs ? setTimeout(abort, options.timeoutMs) : undefined;
    try {
      if (options.signal?.aborted) throw new EngineError('query abandoned before it started', this.name);
      const prepared = await connection.prepare(query.sql);
      const values: DuckDBValue[] = [listValue(files.length ? files : [this.emptyFile]), ...query.params];
      prepared.bind(values);
      const reader = await prepared.runAndReadAll();
      const rows: Row[] = reader.getRowObjectsJS().map((r) => {
        const row: Row = {};
        for (const [k, v] of Object.entries(r)) row[k] = plain(v);
        return row;
      });
      return { rows, stats: { engineMs: performance.now() - started, bytesScanned: bytes, files } };
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
