import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { quoteIdent } from '../../query/compiler';
import { RequestResource } from '../../query/engine';
import { SOURCE_COLUMN_NAMES } from './record-schema';

/**
 * The columns a shared scan keeps: every source column but the call's payloads (request
 * parameters, response elements and the like), which are most of a record's size and which only a
 * few statements read. A statement using one of them reads its files itself.
 */
export const SHARED_SCAN_COLUMNS: readonly string[] = SOURCE_COLUMN_NAMES.filter(
  (c) => !['requestParameters', 'responseElements', 'additionalEventData', 'serviceEventDetails', 'edgeDeviceDetails'].includes(c),
);

/** Whether a statement using `columns` can read a shared scan. */
export const readsSharedColumns = (columns: readonly string[]): boolean => columns.every((c) => SHARED_COLUMNS.has(c));

const SHARED_COLUMNS = new Set(SHARED_SCAN_COLUMNS);

/** A table holding the records of one list of JSON files, and whether this caller made it. */
export interface SharedTable {
  readonly name: string;
  readonly made: boolean;
}

let tables = 0;

/**
 * The JSON delivery files one request reads, each list read once for all of its statements.
 *
 * Parsing JSON is nearly all the cost of a statement over delivery files, and a request often runs
 * several statements over the same files: a grouped list and the nested lists of its entries, or a
 * page and its total. The first statement over a list of files copies their records (the service's
 * event sources, SHARED_SCAN_COLUMNS) into a table of the engine's in-memory database; every
 * statement of the request over the same list, the first included, reads that table instead.
 * Copying the records once costs less than one statement reading the files (measured in
 * bench/results/shared-scan.md), so even a request with one statement loses nothing.
 *
 * The table belongs to the request: it holds exactly the files listed (a file delivered meanwhile
 * makes another list, hence another table), and it is dropped when the request's queries have all
 * ended. Names are made here, never from input.
 */
export class SharedScans implements RequestResource {
  private readonly made = new Map<string, Promise<string>>();
  private readonly names: string[] = [];
  private closed = false;

  constructor(private readonly instance: DuckDBInstance) {}

  /**
   * The table for `key` (the file list), made by `fill` the first time it is asked for; undefined
   * once the request has ended. A fill that fails is forgotten: the caller reads its files itself.
   */
  table(key: string, fill: (name: string) => Promise<void>): Promise<SharedTable> | undefined {
    if (this.closed) return undefined;
    const known = this.made.get(key);
    if (known) return known.then((name) => ({ name, made: false }));
    const name = `trailql_shared_scan_${++tables}`;
    this.names.push(name);
    const filled = fill(name).then(() => name);
    this.made.set(key, filled);
    filled.catch(() => {
      if (this.made.get(key) === filled) this.made.delete(key);
    });
    return filled.then(() => ({ name, made: true }));
  }

  /** Drops the request's tables once every fill has ended. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.made.values()]);
    if (this.names.length === 0) return;
    const connection = await DuckDBConnection.create(this.instance);
    try {
      for (const name of this.names) await connection.run(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
    } finally {
      connection.closeSync();
    }
  }
}
