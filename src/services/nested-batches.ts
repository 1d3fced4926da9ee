/**
 * Batching of nested fields: the loader key of a parent (with the filter and window its field was
 * asked with), grouping of keys into one statement per (filter, window), slicing of parents so a
 * page per parent fits one statement, and the predicate and key of a parent in grouped rows.
 */
import { Window } from '../domain/graph';
import { Row } from '../query/engine';
import { stableStringify } from '../query/cursor';
import { CallFilter } from '../query/filter';
import { Expr, Pred, or, val } from '../query/plan';
import type { CallerOrder } from './graph.service';

/** A loader key: the parent, and the filter and window its field was asked with. */
export interface NestedKey {
  readonly key: string;
  readonly filter: CallFilter | null | undefined;
  readonly window: Window;
  readonly first?: number;
  /** The field asks for totalCount: its page's statement counts too (per parent). */
  readonly total?: boolean;
  /** The order of a nested page (absent: most calls first). */
  readonly order?: CallerOrder;
  /** Column aliases a nested calls page reads (absent: every column). */
  readonly columns?: readonly string[];
}

export const groupOf = (k: NestedKey) => stableStringify({ f: k.filter ?? {}, from: k.window.from, to: k.window.to, n: k.first, t: k.total, o: k.order, c: k.columns });

/** The most rows one statement returns (the compiler's LIMIT bound). */
const MAX_ROWS = 100_000;

/** `keys` in slices whose pages of `perParent` rows each fit one statement's LIMIT. */
export function slices(keys: readonly string[], perParent: number): string[][] {
  const per = Math.max(1, Math.floor(MAX_ROWS / perParent));
  const out: string[][] = [];
  for (let i = 0; i < keys.length; i += per) out.push(keys.slice(i, i + per));
  return out;
}
/**
 * The key of a parent whose value is missing (the calls without a source address): no record
 * holds a NUL character, so it names no real value.
 */
export const NULL_PARENT = '\u0000';

/** The parent key of a grouped row: its value, or NULL_PARENT for the group without one. */
export const parentOf = (r: Row): string => (r.parent_key === null || r.parent_key === undefined ? NULL_PARENT : String(r.parent_key));

/** Records whose parent value is one of `keys` (NULL_PARENT: records without a value). */
export function parentIn(parent: Expr, keys: readonly string[]): Pred {
  const values = keys.filter((k) => k !== NULL_PARENT);
  const items: Pred[] = values.length ? [{ k: 'in', e: parent, values: values.map((v) => val(v)) }] : [];
  if (values.length < keys.length) items.push({ k: 'cond', cond: { k: 'isNull', e: parent } });
  return items.length === 1 ? items[0] : or(...items);
}

export const cacheKeyOf = (k: NestedKey) => `${k.key}\u0000${groupOf(k)}`;

/** Splits loader keys by (filter, window), so each group becomes one statement. */
export function byGroup(keys: readonly NestedKey[]): Map<string, { sample: NestedKey; keys: string[] }> {
  const groups = new Map<string, { sample: NestedKey; keys: string[] }>();
  for (const k of keys) {
    const g = groupOf(k);
    const entry = groups.get(g) ?? { sample: k, keys: [] };
    if (!entry.keys.includes(k.key)) entry.keys.push(k.key);
    groups.set(g, entry);
  }
  return groups;
}
