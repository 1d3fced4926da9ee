/**
 * A reading of plan predicates over one record, in SQL's three-valued logic (null = unknown), for
 * testing what a filter keeps without an engine. Expressions are the named ones of FIELDS (and
 * `lower` of them); a record gives each field's text, or null.
 */
import { IPV4_TEXT_PATTERN, IPV6_TEXT_PATTERN, ipv4ToBigInt, ipv6Hex, ipv6ToBigInt } from '../../src/domain/ip';
import { FIELDS } from '../../src/query/fields';
import { Cond, Expr, Pred, Value } from '../../src/query/plan';

export type Field = keyof typeof FIELDS;
export type Row = Partial<Record<Field, string | null>>;

const NAMES = new Map<string, Field>(Object.entries(FIELDS).map(([name, e]) => [JSON.stringify(e), name as Field]));

function text(e: Expr, row: Row): string | null {
  const name = NAMES.get(JSON.stringify(e));
  if (name) return row[name] ?? null;
  if (e.k === 'lower') {
    const of = text(e.of, row);
    return of === null ? null : of.toLowerCase();
  }
  throw new Error(`no reading for expression ${JSON.stringify(e)}`);
}

const REGEX = new Map<string, RegExp>();
const regex = (pattern: string): RegExp => REGEX.get(pattern) ?? REGEX.set(pattern, new RegExp(pattern)).get(pattern)!;

const str = (v: Value): string => {
  if (typeof v.v !== 'string') throw new Error(`expected a text value, got ${JSON.stringify(v)}`);
  return v.v;
};

function cond(c: Cond, row: Row): boolean | null {
  switch (c.k) {
    case 'isNull':
      return text(c.e, row) === null;
    case 'notNull':
      return text(c.e, row) !== null;
    case 'eqConst': {
      const t = text(c.e, row);
      return t === null ? null : t === c.value;
    }
    case 'inConst': {
      const t = text(c.e, row);
      return t === null ? null : c.values.includes(t);
    }
    case 'regexConst': {
      const t = text(c.e, row);
      return t === null ? null : regex(c.pattern).test(t);
    }
    default:
      throw new Error(`no reading for condition ${c.k}`);
  }
}

/** Unknown when the text is; otherwise `test` of it. */
const onText = (e: Expr, row: Row, test: (t: string) => boolean): boolean | null => {
  const t = text(e, row);
  return t === null ? null : test(t);
};

const v6 = (t: string): string | null => (regex(IPV6_TEXT_PATTERN).test(t) ? ipv6Hex(ipv6ToBigInt(t)) : null);

export function holds(p: Pred, row: Row): boolean | null {
  switch (p.k) {
    case 'in':
      return onText(p.e, row, (t) => p.values.some((v) => str(v) === t));
    case 'cond':
      return cond(p.cond, row);
    case 'endsWith':
      return onText(p.e, row, (t) => t.endsWith(str(p.suffix)));
    case 'jsonArrayAnyIn':
      return onText(p.e, row, (t) => {
        let entries: unknown;
        try {
          entries = (JSON.parse(t) as Record<string, unknown> | null)?.[p.array];
        } catch {
          return false;
        }
        if (!Array.isArray(entries)) return false;
        return entries.some((e) => {
          const v = e && typeof e === 'object' && !Array.isArray(e) ? (e as Record<string, unknown>)[p.field] : undefined;
          return v !== null && v !== undefined && typeof v !== 'object' && p.values.some((x) => str(x) === String(v));
        });
      });
    case 'startsWith':
      return onText(p.e, row, (t) => t.startsWith(str(p.prefix)));
    case 'contains':
      return onText(p.e, row, (t) => t.includes(str(p.value)));
    case 'containsCi':
      return onText(p.e, row, (t) => t.toLowerCase().includes(str(p.value).toLowerCase()));
    case 'isTrue':
      return holds(p.item, row) === true;
    case 'ipv4Range':
      return onText(p.e, row, (t) => {
        if (!regex(IPV4_TEXT_PATTERN).test(t)) return false;
        const n = ipv4ToBigInt(t);
        return n >= BigInt(p.first.v) && n <= BigInt(p.last.v);
      });
    case 'ipv6Range':
      return onText(p.e, row, (t) => {
        const h = v6(t);
        return h !== null && h >= str(p.first) && h <= str(p.last);
      });
    case 'ipv6InAny':
      return onText(p.e, row, (t) => {
        const h = v6(t);
        return h !== null && p.blocks.some((b) => h >= str(b.first) && h <= str(b.last));
      });
    case 'and': {
      const r = p.items.map((i) => holds(i, row));
      return r.includes(false) ? false : r.includes(null) ? null : true;
    }
    case 'or': {
      const r = p.items.map((i) => holds(i, row));
      return r.includes(true) ? true : r.includes(null) ? null : false;
    }
    case 'not': {
      const r = holds(p.item, row);
      return r === null ? null : !r;
    }
    default:
      throw new Error(`no reading for predicate ${p.k}`);
  }
}

/** Whether a record passes every predicate (as a WHERE clause: unknown drops it). */
export const keeps = (preds: readonly Pred[], row: Row): boolean => preds.every((p) => holds(p, row) === true);
