import { createHash } from 'node:crypto';
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

/**
 * Fills the named table with the records of a reading's files; resolves to the files' version (a
 * digest of them as they were on disk before they were read) when the reading may serve later
 * requests.
 */
export type Fill = (name: string) => Promise<string | undefined>;

/** Whether the files are still the version a reading was made from. */
export type Current = (version: string) => boolean;

interface Reading {
  readonly name: string;
  readonly filled: Promise<void>;
  /** The files' version the reading was made from; undefined while filling, or when it serves no later request. */
  version?: string;
  /** When its files were read (performance.now()): it serves later requests for `keepMs` from then. */
  readonly readAt: number;
  users: number;
  timer?: NodeJS.Timeout;
}

export interface ScanPoolOptions {
  /** How long after its files were read a reading may serve later requests; 0: only the request that read them. */
  readonly keepMs: number;
  /**
   * Idle readings are kept while the engine's tables hold at most this many bytes of memory
   * (least recently used dropped first); readings in use are never dropped.
   */
  readonly keepMemoryBytes: number;
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
 * that table instead. A lone statement pays for the copy (copying every shared column and reading
 * the table cost 1.1-1.4x one statement reading only its own columns, bench/results/shared-scan.md);
 * every later statement over the same files gains it back many times over.
 *
 * A reading is keyed by its list of files (a file delivered or removed makes another list, read
 * anew), and serves a later request only while its files are the version it was made from (the
 * driver's digest of them on disk: a file grown or replaced in place is read anew). A request holds
 * the readings its statements use until it ends; a reading serves later requests for `keepMs` after
 * its files were read, while the engine's tables fit in `keepMemoryBytes`, then it is dropped.
 * Table names are made here, never from input.
 */
export class ScanPool {
  private readonly readings = new Map<string, Reading>();
  /** Lists of files a lone statement read itself, by digest, with when: a later statement over one makes a reading. */
  private readonly readAlone = new Map<string, number>();
  private trimming: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly options: ScanPoolOptions,
  ) {}

  /** Readings may serve later requests (`keepMs` > 0): fills return the files' version. */
  get keeps(): boolean {
    return this.options.keepMs > 0;
  }

  /**
   * The reading of `key`'s files, filled by `fill` when none may serve: none kept, too old, made
   * from files that changed since (`current`), or `fresh` (the files are read now, and that reading
   * replaces the kept one). One still filling for another request is shared. The caller releases it.
   */
  acquire(key: string, fill: Fill, current: Current, fresh = false): Lease {
    return this.lease(key, fill, current, fresh, false)!;
  }

  /**
   * For a statement alone in its request (RequestScope.alone): the reading of `key`'s files when
   * one may serve, or when a statement of another request read them itself within `keepMs` (a
   * second question over the same files: a reading now pays for itself); otherwise undefined,
   * and the statement reads its files itself. Copying the records and reading the copy costs a lone
   * statement 1.1-1.4 times reading only its own columns (bench/results/shared-scan.md).
   */
  acquireIfShared(key: string, fill: Fill, current: Current, fresh = false): Lease | undefined {
    return this.lease(key, fill, current, fresh, true);
  }

  private lease(key: string, fill: Fill, current: Current, fresh: boolean, onlyShared: boolean): Lease | undefined {
    let reading = fresh ? undefined : this.readings.get(key);
    if (reading && reading.users === 0 && performance.now() - reading.readAt > this.options.keepMs) reading = undefined;
    // Made for an earlier request: only while its files are as they were read.
    if (reading && reading.version !== undefined && !current(reading.version)) reading = undefined;
    if (!reading && onlyShared && (fresh || !this.readBefore(key))) return undefined;
    let made = false;
    if (reading) {
      // Most recently used last: idle readings are dropped from the front.
      this.readings.delete(key);
      this.readings.set(key, reading);
      clearTimeout(reading.timer);
      reading.timer = undefined;
    } else {
      const name = `trailql_shared_scan_${++tables}`;
      const filling: Reading = {
        name,
        readAt: performance.now(),
        users: 0,
        filled: fill(name).then((version) => {
          filling.version = version;
        }),
      };
      filling.filled.catch(() => this.forget(key, filling));
      const replaced = this.readings.get(key);
      this.readings.set(key, filling);
      if (replaced && replaced.users === 0) void this.dropTable(replaced);
      reading = filling;
      made = true;
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

  /**
   * Whether another request's statement read `key`'s files itself within `keepMs`; this one is
   * noted either way (when readings serve later requests at all).
   */
  private readBefore(key: string): boolean {
    if (!this.keeps) return false;
    const now = performance.now();
    const digest = createHash('sha256').update(key).digest('base64');
    const at = this.readAlone.get(digest);
    this.readAlone.delete(digest);
    this.readAlone.set(digest, now);
    // Oldest first: those older than a reading may live are forgotten, and at most READ_ALONE_KEPT are kept.
    for (const [d, t] of this.readAlone) {
      if (now - t <= this.options.keepMs && this.readAlone.size <= READ_ALONE_KEPT) break;
      this.readAlone.delete(d);
    }
    return at !== undefined && now - at <= this.options.keepMs;
  }

  /** Readings kept now (in use or idle), for tests. */
  get size(): number {
    return this.readings.size;
  }

  /** Drops every reading no request holds; later releases leave the database alone (it closes with the engine). */
  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.readings.values()) clearTimeout(r.timer);
    await Promise.allSettled([...this.readings].map(([key, r]) => this.retire(key, r)));
  }

  private idle(key: string, reading: Reading): void {
    if (this.closed) return;
    // Replaced by a fresh reading, or failed: no request will find it again.
    if (this.readings.get(key) !== reading) {
      void this.dropTable(reading);
      return;
    }
    const left = reading.readAt + this.options.keepMs - performance.now();
    if (left <= 0) {
      void this.retire(key, reading);
      return;
    }
    reading.timer = setTimeout(() => void this.retire(key, reading), left);
    reading.timer.unref();
    this.trimming = this.trimming.then(() => this.trim()).catch(() => undefined);
  }

  /** Drops idle readings, least recently used first, until the engine's tables fit the memory kept. */
  private async trim(): Promise<void> {
    for (;;) {
      const next = [...this.readings].find(([, r]) => r.users === 0);
      if (!next || this.closed || (await this.tableMemory()) <= this.options.keepMemoryBytes) return;
      await this.retire(...next);
    }
  }

  /** Drops a kept reading no request holds (one found again or replaced meanwhile is left to its new state). */
  private async retire(key: string, reading: Reading): Promise<void> {
    if (this.readings.get(key) !== reading || reading.users > 0) return;
    this.readings.delete(key);
    await this.dropTable(reading);
  }

  /** Bytes of memory the engine's tables hold (DuckDB's own count): the readings', in use or idle. */
  async tableMemory(): Promise<number> {
    const connection = await DuckDBConnection.create(this.instance);
    try {
      const reader = await connection.runAndReadAll("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'");
      return Number(reader.getRows()[0]![0]);
    } finally {
      connection.closeSync();
    }
  }

  /** A failed fill is not kept: the next statement over these files reads them again. */
  private forget(key: string, reading: Reading): void {
    if (this.readings.get(key) === reading) this.readings.delete(key);
  }

  private async dropTable(reading: Reading): Promise<void> {
    clearTimeout(reading.timer);
    await reading.filled.catch(() => undefined);
    try {
      const connection = await DuckDBConnection.create(this.instance);
      try {
        await connection.run(`DROP TABLE IF EXISTS ${quoteIdent(reading.name)}`);
      } finally {
        connection.closeSync();
      }
    } catch {
      // The engine is closing: its database goes with it.
    }
  }
}

/** Most lists of files a lone statement read itself that a pool remembers. */
const READ_ALONE_KEPT = 1024;

/** One request's readings: each list of files acquired once for the request and released when it ends. */
export class RequestScans implements RequestResource {
  private readonly held = new Map<string, Lease>();
  /** Lists of files a statement of the request read itself. */
  private readonly readItself = new Set<string>();
  private closed = false;

  constructor(
    private readonly pool: ScanPool,
    /** The request asked for fresh answers: its statements read their files now, sharing that reading among themselves only. */
    private readonly fresh = false,
  ) {}

  /**
   * The table of `key`'s files for this request (a request is one moment: a reading it holds is not
   * checked again); undefined once it has ended. A failed fill is not held.
   */
  table(key: string, fill: Fill, current: Current, alone = false): Promise<SharedTable> | undefined {
    if (this.closed) return undefined;
    const known = this.held.get(key);
    if (known) return known.table.then((t) => ({ name: t.name, made: false }));
    // Alone in its request, a statement makes no reading for itself (only one others may use); a
    // second statement of the request over the same files makes one.
    const lease = alone && !this.readItself.has(key) ? this.pool.acquireIfShared(key, fill, current, this.fresh) : this.pool.acquire(key, fill, current, this.fresh);
    if (!lease) {
      this.readItself.add(key);
      return undefined;
    }
    this.held.set(key, lease);
    lease.table.catch(() => {
      if (this.held.get(key) !== lease) return;
      this.held.delete(key);
      lease.release();
    });
    return lease.table;
  }

  /**
   * Releases the request's readings. Its own statements have ended (QueryRunner.finish waits for
   * them); a reading another request is still filling is not waited for.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const lease of this.held.values()) lease.release();
    this.held.clear();
  }
}
