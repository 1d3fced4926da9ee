/**
 * Grouped walks (`callers`, `sourceIps`) are cut from one ordered list of groups. A group's place
 * in it depends on counts that a late delivery changes: a list read again between two pages can
 * move a group from after the cursor to before it (never met) or the other way (met twice). So a
 * walk keeps the list its first page was cut from, for a while, and every later page is cut from
 * that same list; the cursor carries the list's digest, and a later page that cannot have the
 * list (kept no longer, another process) reads it again and goes on only when it is the same.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { CompiledQuery, Row, UnreadableFile } from './engine';

/** A walk's list, as its first page read it. */
export interface KeptList {
  readonly rows: readonly Row[];
  /** Aliases of the measures its rows hold: a page asking for others reads the list again. */
  readonly measures: readonly string[];
  /** The statement that read it (what the answer says it read: files, Event history coverage). */
  readonly query: CompiledQuery;
  /** Files that statement left out: every page cut from the list says so again. */
  readonly unreadable?: readonly UnreadableFile[];
}

export interface WalkStoreOptions {
  readonly keepMs: number;
  readonly maxBytes: number;
  /** Clock for the TTL in milliseconds (tests); defaults to performance.now. */
  readonly clock?: { now(): number };
}

/** Rough bytes a row holds in memory (its values and their names), for the store's bound. */
function rowBytes(row: Row): number {
  let n = 64;
  for (const k in row) {
    const v = row[k];
    n += 16 + k.length * 2 + (typeof v === 'string' ? v.length * 2 : 8);
  }
  return n;
}

/** In-process store of walks' lists: bounded by bytes (estimated) and kept `keepMs` after they were read. */
export class WalkStore {
  private readonly lru: LRUCache<string, KeptList>;

  constructor(options: WalkStoreOptions) {
    this.lru = new LRUCache<string, KeptList>({
      max: 100_000,
      maxSize: Math.max(1, options.maxBytes),
      ttl: Math.max(1, options.keepMs),
      sizeCalculation: (list, key) => Math.max(1, key.length * 2 + list.rows.reduce((n, r) => n + rowBytes(r), 0)),
      ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    });
  }

  get(key: string): KeptList | undefined {
    return this.lru.get(key);
  }

  /** Keeps a list; one larger than the whole store is not kept. */
  set(key: string, list: KeptList): void {
    this.lru.set(key, Object.freeze({ ...list, rows: Object.freeze([...list.rows]) }));
  }

  /** Lists and estimated bytes held. */
  get size(): { lists: number; bytes: number } {
    return { lists: this.lru.size, bytes: this.lru.calculatedSize };
  }
}

/** Digest of an ordered list of groups: their positions (order values and key), in order. */
export function listDigest(positions: readonly (readonly (string | number | null)[])[]): string {
  return createHash('sha256').update(JSON.stringify(positions)).digest('base64url').slice(0, 22);
}
