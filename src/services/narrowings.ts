/**
 * Narrowings of one filter whose first pages and counts many connections ask for at once: the
 * key of a narrowing, their grouping into one statement per connection, filter and page size, and
 * the predicate of each branch of that statement.
 */
import { windowPreds } from '../query/compiler';
import { fingerprint } from '../query/cursor';
import { CallFilter } from '../query/filter';
import { Window } from '../query/guards';
import { Pred, and } from '../query/plan';

/** One narrowing of a filter whose first page many connections ask for at once (see `narrowedPage`). */
export interface Narrowing {
  /** The connection's name (cursors are bound to it). */
  readonly name: string;
  /** Identifies the narrowing among those of the filter (its predicates and window). */
  readonly key: string;
  readonly filter: CallFilter;
  readonly window: Window;
  readonly where: readonly Pred[];
}

export type NarrowingKey = Narrowing & { readonly size: number };

export const narrowingId = (k: Narrowing, size?: number) => `${k.name}\u0000${size ?? ''}\u0000${fingerprint({ f: k.filter })}\u0000${k.key}`;

/** Narrowings of the same connection, filter and page size: one statement answers them. */
export function byFilter<K extends NarrowingKey | Narrowing>(keys: readonly K[]): { keys: K[]; window: Window }[] {
  const groups = new Map<string, { keys: K[]; window: Window }>();
  for (const k of keys) {
    const id = narrowingId({ ...k, key: '' }, 'size' in k ? k.size : undefined);
    const g = groups.get(id);
    if (!g) groups.set(id, { keys: [k], window: k.window });
    else {
      g.keys.push(k);
      g.window = { from: k.window.from < g.window.from ? k.window.from : g.window.from, to: k.window.to > g.window.to ? k.window.to : g.window.to };
    }
  }
  return [...groups.values()];
}

/** A narrowing's own predicate: its window and its predicates. */
export const branchOf = (k: Narrowing): Pred =>
  and(...windowPreds(k.window), ...k.where);
