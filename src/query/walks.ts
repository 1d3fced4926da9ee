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
import { OrderItem } from './plan';

/** A walk's list, as its first page read it. */
export interface KeptList {
  readonly rows: readonly Row[];
  /** Aliases of the measures its rows hold: others a page asks are counted for its groups alone. */
  readonly measures: readonly string[];
  /** The statement that read it (what the answer says it read: files, Event history coverage). */
  readonly query: CompiledQuery;
  /** Files that statement left out: every page cut from the list says so again. */
  readonly unreadable?: readonly UnreadableFile[];
}

export interface WalkStoreOptions {
  readonly keepMs: number;
  readonly maxBytes: number;
  /**
   * Whether what a statement read is whole, beyond the files it read (Event history synced over
   * its window): a list that is not is not kept, and one that no longer is is not given, so a page
   * never says less of what it lacks than the list's own answer did.
   */
  readonly whole?: (query: CompiledQuery) => boolean;
  /** Clock for the TTL in milliseconds (tests); defaults to performance.now. */
  readonly clock?: { now(): number };
}

/** Rough bytes a value holds in memory, its parts counted (a list of access keys, a statement's text and values). */
function bytesOf(value: unknown): number {
  if (typeof value === 'string') return 16 + value.length * 2;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + bytesOf(v), 16);
  if (value instanceof Date) return 48;
  if (value !== null && typeof value === 'object') {
    let n = 32;
    for (const [k, v] of Object.entries(value)) n += 8 + k.length * 2 + bytesOf(v);
    return n;
  }
  return 8;
}

/**
 * Rough bytes of the index of a list's positions its later pages make (`pageAfter`): per row, the
 * text of its order values and key (the key, a number or two, the JSON around them) and a map entry.
 */
const positionsBytes = (rows: readonly Row[]): number => rows.reduce((n: number, r) => n + 120 + 2 * String(r.group_key ?? '').length, 0);

/** In-process store of walks' lists: bounded by bytes (estimated: rows and statement) and kept `keepMs` after they were read. */
export class WalkStore {
  private readonly lru: LRUCache<string, KeptList>;

  constructor(private readonly options: WalkStoreOptions) {
    this.lru = new LRUCache<string, KeptList>({
      max: 100_000,
      maxSize: Math.max(1, options.maxBytes),
      ttl: Math.max(1, options.keepMs),
      sizeCalculation: (list, key) =>
        Math.max(1, key.length * 2 + bytesOf(list.rows) + positionsBytes(list.rows) + bytesOf(list.query) + bytesOf(list.measures) + bytesOf(list.unreadable ?? null)),
      ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    });
  }

  /** Whether a list this statement reads now may be kept (see `whole`): asked before it is read. */
  keepable(query: () => CompiledQuery): boolean {
    return this.options.whole ? this.options.whole(query()) : true;
  }

  get(key: string): KeptList | undefined {
    const list = this.lru.get(key);
    return list && (this.options.whole?.(list.query) ?? true) ? list : undefined;
  }

  /** Keeps a list; one larger than the whole store, or whose statement's answer is not whole, is not kept. */
  set(key: string, list: KeptList): void {
    if (!(this.options.whole?.(list.query) ?? true)) return;
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

/** A row's position in `order`, as a cursor carries it. */
export const positionOf = (row: Row, order: readonly OrderItem[]): (string | number | null)[] =>
  order.map((o) => {
    const v = row[o.alias];
    return v === null || v === undefined ? null : typeof v === 'number' ? v : String(v);
  });

/**
 * Each list's rows by position (the text of `positionOf`, first row of a position), for one order:
 * made once per list, so a walk's later pages each find their cursor's row at once where a scan
 * from the top would make a walk of a long list cost its length squared.
 */
const positions = new WeakMap<readonly Row[], { readonly order: string; readonly at: ReadonlyMap<string, number> }>();

function placeOf(all: readonly Row[], order: readonly OrderItem[], key: readonly unknown[]): number | undefined {
  const orderText = JSON.stringify(order);
  let known = positions.get(all);
  if (!known || known.order !== orderText) {
    const at = new Map<string, number>();
    all.forEach((r, i) => {
      const k = JSON.stringify(positionOf(r, order));
      if (!at.has(k)) at.set(k, i);
    });
    known = { order: orderText, at };
    positions.set(all, known);
  }
  return known.at.get(JSON.stringify(key));
}

/**
 * A page cut from a whole ordered list of groups: the rows after the cursor's position (`after`,
 * its order values and key), plus one to tell whether another page follows. Undefined when no row
 * of the list is at that position (the list the cursor came from was another).
 */
export function pageAfter(all: readonly Row[], size: number, after: readonly unknown[] | undefined, order: readonly OrderItem[]): readonly Row[] | undefined {
  let start = 0;
  if (after) {
    const i = placeOf(all, order, after);
    if (i === undefined) return undefined;
    start = i + 1;
  }
  return all.slice(start, start + size + 1);
}
