import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { quoteIdent } from '../../query/compiler';
import { RequestResource } from '../../query/engine';
import { SOURCE_COLUMN_NAMES } from './record-schema';

/**
 * The columns a shared reading keeps: every source column but the call's payloads (request
 * parameters, response elements and the like), which are most of a record's size and which only a
 * few statements read. A statement using one of them reads its files itself.
 */
export const SHARED_SCAN_COLUMNS: readonly string[] = SOURCE_COLUMN_NAMES.filter(
  (c) => !['requestParameters', 'responseElements', 'additionalEventData', 'serviceEventDetails', 'edgeDeviceDetails'].includes(c),
);

const SHARED_COLUMNS = new Set(SHARED_SCAN_COLUMNS);

/** Whether a statement using `columns` can read a shared reading. */
export const readsSharedColumns = (columns: readonly string[]): boolean => columns.every((c) => SHARED_COLUMNS.has(c));

/** A table holding the records of one list of JSON files, and whether this caller's statement filled it. */
export interface SharedTable {
  readonly name: string;
  readonly made: boolean;
}

/** A reading held by a request until it ends. */
interface Lease {
  readonly table: Promise<SharedTable>;
  release(): void;
}

interface Reading {
  readonly name: string;
  /** Bytes of the JSON files read (what the budget of idle readings counts). */
  readonly bytes: number;
  readonly filled: Promise<void>;
  users: number;
  timer?: NodeJS.Timeout;
}

export interface ScanPoolOptions {
  /** Idle readings are kept while their files' bytes add up to at most this (least recently used dropped first). */
  readonly maxIdleBytes: number;
  /** How long an idle reading is kept; 0: dropped as soon as no request holds it. */
  readonly keepMs: number;
}

let tables = 0;

/**
 * The engine's readings of JSON delivery files, each list of files read once.
 *
 * Parsing JSON is nearly all the cost of a statement over delivery files, and statements often read
 * the same files: a grouped list and the nested lists of its entries, a page and its total, the
 * panels of a dashboard query, the next page of the same question. The first statement over a list
 * of files copies their records (the service's event sources, SHARED_SCAN_COLUMNS) into a table of
 * the engine's in-memory database; each statement over the same list, the first included, reads
 * that table instead. Copying the records once costs less than one statement reading the files
 * (bench/results/shared-scan.md), so even a lone statement loses nothing.
 *
 * A reading is keyed by its files with their sizes: a file delivered, removed or grown makes
 * another list, read anew. A request holds the readings its statements use until it ends; a
 * reading no request holds is kept `keepMs` for the next requests, within `maxIdleBytes`, then
 * dropped. Table names are made here, never from input.
 */
export class ScanPool {
  private readonly readings = new Map<string, Reading>();

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly options: ScanPoolOptions,
  ) {}

  /**
   * The reading of `key`'s files (`bytes` of them), filled by `fill` when none is kept or when
   * `fresh` (the files are read now, and that reading replaces the kept one); the caller releases it.
   */
  acquire(key: string, bytes: number, fill: (name: string) => Promise<void>, fresh = false): Lease {
    let reading = fresh ? undefined : this.readings.get(key);
    let made = false;
    if (reading) {
      // Most recently used last: idle readings are dropped from the front.
      this.readings.delete(key);
      this.readings.set(key, reading);
      clearTimeout(reading.timer);
      reading.timer = undefined;
    } else {
      const name = `trailql_shared_scan_${++tables}`;
      const filling: Reading = { name, bytes, filled: fill(name), users: 0 };
      filling.filled.catch(() => this.forget(key, filling));
      const replaced = this.readings.get(key);
      reading = filling;
      made = true;
      this.readings.set(key, reading);
      if (replaced && replaced.users === 0) void this.dropReplaced(replaced);
    }
    const held = reading;
    held.users += 1;
    let released = false;
    return {
      table: held.filled.then(() => ({ name: held.name, made })),
      release: () => {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.users === 0) this.idle(key, held);
      },
    };
  }

  /** Readings kept now (in use or idle), for health and tests. */
  get size(): number {
    return this.readings.size;
  }

  /** Drops every reading no request holds. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.readings].filter(([, r]) => r.users === 0).map(([key, r]) => this.drop(key, r)));
  }

  private idle(key: string, reading: Reading): void {
    // Replaced by a fresh reading (or failed): no request will find it again.
    if (this.readings.get(key) !== reading) {
      void this.dropReplaced(reading);
      return;
    }
    if (this.options.keepMs <= 0) {
      void this.drop(key, reading);
      return;
    }
    reading.timer = setTimeout(() => void this.drop(key, reading), this.options.keepMs);
    reading.timer.unref();
    let idleBytes = 0;
    for (const r of this.readings.values()) if (r.users === 0) idleBytes += r.bytes;
    for (const [k, r] of this.readings) {
      if (idleBytes <= this.options.maxIdleBytes) break;
      if (r.users > 0) continue;
      idleBytes -= r.bytes;
      void this.drop(k, r);
    }
  }

  /** A failed fill is not kept: the next statement over these files reads them again. */
  private forget(key: string, reading: Reading): void {
    if (this.readings.get(key) === reading) this.readings.delete(key);
    void this.dropTable(reading.name);
  }

  private async dropReplaced(reading: Reading): Promise<void> {
    clearTimeout(reading.timer);
    await reading.filled.catch(() => undefined);
    await this.dropTable(reading.name);
  }

  private async drop(key: string, reading: Reading): Promise<void> {
    if (reading.users > 0 || this.readings.get(key) !== reading) return;
    this.readings.delete(key);
    clearTimeout(reading.timer);
    await reading.filled.catch(() => undefined);
    await this.dropTable(reading.name);
  }

  private async dropTable(name: string): Promise<void> {
    try {
      const connection = await DuckDBConnection.create(this.instance);
      try {
        await connection.run(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
      } finally {
        connection.closeSync();
      }
    } catch {
      // The engine is closing: its database goes with it.
    }
  }
}

/** One request's readings: each list of files acquired once for the request and released when it ends. */
export class RequestScans implements RequestResource {
  private readonly held = new Map<string, Lease>();
  private closed = false;

  constructor(
    private readonly pool: ScanPool,
    /** The request asked for fresh answers: its statements read their files now, sharing that reading among themselves only. */
    private readonly fresh = false,
  ) {}

  /** The table of `key`'s files for this request; undefined once it has ended. A failed fill is not held. */
  table(key: string, bytes: number, fill: (name: string) => Promise<void>): Promise<SharedTable> | undefined {
    if (this.closed) return undefined;
    const known = this.held.get(key);
    if (known) return known.table.then((t) => ({ name: t.name, made: false }));
    const lease = this.pool.acquire(key, bytes, fill, this.fresh);
    this.held.set(key, lease);
    lease.table.catch(() => {
      if (this.held.get(key) !== lease) return;
      this.held.delete(key);
      lease.release();
    });
    return lease.table;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.held.values()].map((l) => l.table));
    for (const lease of this.held.values()) lease.release();
    this.held.clear();
  }
}
