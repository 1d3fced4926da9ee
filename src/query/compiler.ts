/**
 * Plan -> SQL. The shared compiler walks the plan once and asks its dialect for the few things
 * engines spell differently (the trail source, partition predicates, JSON and regex functions).
 * User values become `?` placeholders pushed to `params`; only `const` nodes written in this code
 * base are inlined, escaped.
 */
import { CompiledQuery, PartitionSpec, SqlValue } from './engine';
import { AggregateQuery, Cond, DerivedName, EventsQuery, Expr, Measure, OrderItem, Pred, QueryPlan, Value, and, col, or, val } from './plan';
import { FIELDS } from './fields';
import { partitionsFor } from './partitions';
import { BadInputError } from '../errors';

export interface Dialect {
  readonly name: string;
  /** FROM clause item for the trail, already aliased; may push its own parameters. */
  source(ctx: CompileContext, partitions: PartitionSpec): string;
  /** Extra WHERE items restricting partitions (Athena); `[]` when the source itself is pruned. */
  partitionPredicates(ctx: CompileContext, partitions: PartitionSpec): string[];
  jsonText(of: string, pathLiteral: string): string;
  regexpLike(of: string, patternLiteral: string): string;
  toJson(of: string): string;
  /** JSON array text of the distinct non-null values of `of`, sorted, at most `limit`. */
  distinctValues(of: string, limit: number): string;
  /** A derived value (fields.ts DERIVED): a column of the engine's source, or computed from the record. */
  derived(ctx: CompileContext, name: DerivedName): string;
  /** Lower-case hex SHA-256 of a text's UTF-8 bytes. */
  sha256Hex(of: string): string;
  /** ISO-8601 date-time text to `yyyy-MM-ddTHH:mm:ssZ` in UTC; NULL when it cannot be parsed. */
  utcTime(of: string): string;
  /** The delivery file a record was read from, as its key from `AWSLogs/` on (plan.ts `sourceFile`). */
  sourceFile(ctx: CompileContext): string;
  /**
   * A SELECT of `columns` (each `<expr> AS <alias>`; it may yield more) from `source` where `where`,
   * one row per `key` (account, region, event id: what CloudTrail repeats when it delivers a call
   * again): records sharing it count once. With `prefer`, the row kept is the one with the
   * smallest `prefer` (otherwise any one).
   */
  distinctEvents(columns: readonly string[], source: string, where: string, key: readonly string[], prefer?: string): string;
  /**
   * Optional: whether the IPv6 address text `of` lies in the block bound at `cidr` (a `?` holding
   * canonical `address/length` text); false or NULL for anything that is not an IPv6 address.
   * Without it the compiler writes out its own normalisation, which both engines run but which is
   * long (about 14 KB of SQL a block).
   */
  ipv6InPrefix?(of: string, cidr: string): string;
  /**
   * Optional: the table can only be read for named accounts (an `injected` account projection),
   * so a statement without accounts is refused before it is sent.
   */
  readonly requiresAccounts?: boolean;
}

export class CompileContext {
  readonly params: SqlValue[] = [];
  constructor(readonly dialect: Dialect) {}

  bind(value: SqlValue): string {
    this.params.push(value);
    return '?';
  }
}

export const quoteIdent = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`identifier not allowed: ${name}`);
  return `"${name}"`;
};

/** Inlines a constant written in this code base (never user input), escaped. */
export const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

const IPV4_PATTERN = '^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$';
const IPV6_PATTERN = '^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*$';
const DEDUP_RANK = 'trailql_rank';
const GROUP_RANK = 'trailql_group_rank';

export function expr(ctx: CompileContext, e: Expr): string {
  switch (e.k) {
    case 'col':
      return e.path.map(quoteIdent).join('.');
    case 'jsonText':
      return ctx.dialect.jsonText(expr(ctx, e.of), literal(e.path));
    case 'coalesce':
      return `COALESCE(${e.items.map((i) => expr(ctx, i)).join(', ')})`;
    case 'concat':
      return `(${e.items.map((i) => expr(ctx, i)).join(' || ')})`;
    case 'case': {
      const whens = e.whens.map(([c, then]) => `WHEN ${cond(ctx, c)} THEN ${expr(ctx, then)}`).join(' ');
      return `CASE ${whens}${e.otherwise ? ` ELSE ${expr(ctx, e.otherwise)}` : ''} END`;
    }
    case 'const':
      return literal(e.value);
    case 'lower':
      return `lower(${expr(ctx, e.of)})`;
    case 'toJson':
      return ctx.dialect.toJson(expr(ctx, e.of));
    case 'derived':
      return ctx.dialect.derived(ctx, e.name);
    case 'sha256Hex':
      return ctx.dialect.sha256Hex(expr(ctx, e.of));
    case 'utcTime':
      return ctx.dialect.utcTime(expr(ctx, e.of));
    case 'sourceFile':
      return ctx.dialect.sourceFile(ctx);
    case 'bucket': {
      const t = expr(ctx, e.of);
      if (e.interval === 'hour') return `(substr(${t}, 1, 13) || ':00:00Z')`;
      if (e.interval === 'day') return `(substr(${t}, 1, 10) || 'T00:00:00Z')`;
      return `(CAST(CAST(date_trunc('week', CAST(substr(${t}, 1, 10) AS DATE)) AS DATE) AS VARCHAR) || 'T00:00:00Z')`;
    }
    case 'minuteBucket': {
      if (!Number.isInteger(e.minutes) || e.minutes < 1 || 60 % e.minutes !== 0) throw new Error(`invalid minute bucket ${e.minutes}`);
      const t = expr(ctx, e.of);
      // floor() of the quotient: integer division in Trino, a double in DuckDB; both floor the same.
      const minute = `CAST(floor(CAST(substr(${t}, 15, 2) AS INTEGER) / ${e.minutes}) * ${e.minutes} AS INTEGER)`;
      return `(substr(${t}, 1, 14) || lpad(CAST(${minute} AS VARCHAR), 2, '0') || ':00Z')`;
    }
  }
}

export function cond(ctx: CompileContext, c: Cond): string {
  switch (c.k) {
    case 'isNull':
      return `${expr(ctx, c.e)} IS NULL`;
    case 'notNull':
      return `${expr(ctx, c.e)} IS NOT NULL`;
    case 'eqConst':
      return `${expr(ctx, c.e)} = ${literal(c.value)}`;
    case 'inConst':
      return `${expr(ctx, c.e)} IN (${c.values.map(literal).join(', ')})`;
    case 'startsWithConst':
      return `substr(${expr(ctx, c.e)}, 1, ${c.prefix.length}) = ${literal(c.prefix)}`;
    case 'regexConst':
      return ctx.dialect.regexpLike(expr(ctx, c.e), literal(c.pattern));
    case 'allOf':
      return `(${c.items.map((i) => cond(ctx, i)).join(' AND ')})`;
    case 'anyOf':
      return `(${c.items.map((i) => cond(ctx, i)).join(' OR ')})`;
  }
}

const bindValue = (ctx: CompileContext, v: Value): string => ctx.bind(v.v);

/** IPv4 text to its 32-bit number, NULL for anything else. */
function ipv4Number(ctx: CompileContext, s: string): string {
  const part = (i: number) => `TRY_CAST(split_part(${s}, '.', ${i}) AS BIGINT)`;
  return `CASE WHEN ${ctx.dialect.regexpLike(s, literal(IPV4_PATTERN))} THEN ${part(1)} * 16777216 + ${part(2)} * 65536 + ${part(3)} * 256 + ${part(4)} END`;
}

/**
 * IPv6 text to 32 lower-case hex digits, NULL for anything else, with plain string functions both
 * engines share: pad `::` out to eight groups, then left-pad each group to four digits.
 */
export function ipv6Hex(ctx: CompileContext, s: string): string {
  const lowered = `lower(${s})`;
  // Leading or trailing `::` gets an explicit zero group so the split below sees no empty ends.
  const ends = `(CASE WHEN substr(${lowered}, 1, 2) = '::' THEN '0' ELSE '' END || ${lowered} || CASE WHEN substr(${lowered}, length(${lowered}) - 1, 2) = '::' THEN '0' ELSE '' END)`;
  const colons = `(length(${ends}) - length(replace(${ends}, ':', '')))`;
  const full = `(CASE WHEN strpos(${ends}, '::') > 0 THEN replace(${ends}, '::', substr(':0:0:0:0:0:0:0:0:', 1, 2 * (8 - ${colons}) + 1)) ELSE ${ends} END)`;
  const groups = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `lpad(split_part(${full}, ':', ${i}), 4, '0')`).join(' || ');
  return `CASE WHEN ${ctx.dialect.regexpLike(s, literal(IPV6_PATTERN))} AND strpos(${s}, '.') = 0 THEN ${groups} END`;
}

export function pred(ctx: CompileContext, p: Pred): string {
  switch (p.k) {
    case 'in':
      if (p.values.length === 0) return 'FALSE';
      if (p.values.length === 1) return `${expr(ctx, p.e)} = ${bindValue(ctx, p.values[0])}`;
      return `${expr(ctx, p.e)} IN (${p.values.map((v) => bindValue(ctx, v)).join(', ')})`;
    case 'cmp':
      return `${expr(ctx, p.e)} ${p.op} ${bindValue(ctx, p.value)}`;
    case 'cond':
      return cond(ctx, p.cond);
    case 'endsWith':
      return `strpos(reverse(${expr(ctx, p.e)}), ${bindValue(ctx, p.reversedSuffix)}) = 1`;
    case 'startsWith':
      return `strpos(${expr(ctx, p.e)}, ${bindValue(ctx, p.prefix)}) = 1`;
    case 'contains':
      return `strpos(${expr(ctx, p.e)}, ${bindValue(ctx, p.value)}) > 0`;
    case 'isTrue':
      return `COALESCE(${pred(ctx, p.item)}, FALSE)`;
    case 'containsCi':
      return `strpos(lower(${expr(ctx, p.e)}), lower(${bindValue(ctx, p.value)})) > 0`;
    case 'ipv4Range': {
      const n = ipv4Number(ctx, expr(ctx, p.e));
      return `(${n}) BETWEEN ${bindValue(ctx, p.first)} AND ${bindValue(ctx, p.last)}`;
    }
    case 'ipv6Range': {
      if (ctx.dialect.ipv6InPrefix) return ctx.dialect.ipv6InPrefix(expr(ctx, p.e), bindValue(ctx, p.cidr));
      const h = ipv6Hex(ctx, expr(ctx, p.e));
      return `(${h}) BETWEEN ${bindValue(ctx, p.first)} AND ${bindValue(ctx, p.last)}`;
    }
    case 'ipv6InAny': {
      if (p.blocks.length === 0) return 'FALSE';
      const prefix = ctx.dialect.ipv6InPrefix;
      if (prefix) return `(${p.blocks.map((b) => prefix(expr(ctx, p.e), bindValue(ctx, b.cidr))).join(' OR ')})`;
      // The normalisation is long: write it once and compare it with a list of ranges.
      const rows = p.blocks.map((b) => `(${bindValue(ctx, b.first)}, ${bindValue(ctx, b.last)})`).join(', ');
      return `EXISTS (SELECT 1 FROM (VALUES ${rows}) AS trailql_blocks(f, l) WHERE (${ipv6Hex(ctx, expr(ctx, p.e))}) BETWEEN trailql_blocks.f AND trailql_blocks.l)`;
    }
    case 'and':
      return p.items.length === 0 ? 'TRUE' : `(${p.items.map((i) => pred(ctx, i)).join(' AND ')})`;
    case 'or':
      return p.items.length === 0 ? 'FALSE' : `(${p.items.map((i) => pred(ctx, i)).join(' OR ')})`;
    case 'not':
      return `NOT (${pred(ctx, p.item)})`;
  }
}

function measure(ctx: CompileContext, m: Measure, inputAlias: string): string {
  if (m.k === 'latest') return `max_by(t.${inputAlias}, t.${inputAlias}_at)`;
  switch (m.k) {
    case 'count':
      return 'count(*)';
    case 'countErrors':
      return `count(t.${inputAlias})`;
    case 'min':
      return `min(t.${inputAlias})`;
    case 'max':
      return `max(t.${inputAlias})`;
    case 'countDistinct':
      return `count(DISTINCT t.${inputAlias})`;
    case 'distinctValues':
      return ctx.dialect.distinctValues(`t.${inputAlias}`, m.limit);
  }
}

/** The WHERE list shared by every query: partitions, the exact window, event sources, filters. */
function whereClause(ctx: CompileContext, plan: QueryPlan, partitions: PartitionSpec): string {
  const items = [
    ...ctx.dialect.partitionPredicates(ctx, partitions),
    ...(plan.kind === 'aggregate' && plan.untimed
      ? [cond(ctx, { k: 'isNull', e: FIELDS.eventTime })]
      : [
          pred(ctx, { k: 'cmp', e: FIELDS.eventTime, op: '>=', value: { v: isoSeconds(plan.scan.from) } }),
          pred(ctx, { k: 'cmp', e: FIELDS.eventTime, op: '<', value: { v: isoSeconds(plan.scan.to) } }),
        ]),
    ...(plan.scan.eventSources.length ? [pred(ctx, { k: 'in', e: FIELDS.eventSource, values: plan.scan.eventSources.map((v) => ({ v })) })] : []),
    ...(plan.scan.regions.length ? [pred(ctx, { k: 'in', e: FIELDS.region, values: plan.scan.regions.map((v) => ({ v })) })] : []),
    ...(plan.scan.accounts.length ? [pred(ctx, { k: 'in', e: FIELDS.account, values: plan.scan.accounts.map((v) => ({ v })) })] : []),
    // Insights events are findings about calls, not calls.
    `COALESCE(${expr(ctx, FIELDS.eventType)}, '') <> ${literal(INSIGHT_EVENT_TYPE)}`,
    ...plan.where.map((p) => pred(ctx, p)),
  ];
  return items.join('\n    AND ');
}

/** eventType of CloudTrail Insights events. */
export const INSIGHT_EVENT_TYPE = 'AwsCloudTrailInsight';

/** What CloudTrail repeats when it delivers a call again: one row per account, region and event id. */
function dedupKey(ctx: CompileContext): string[] {
  return [FIELDS.account, FIELDS.region, FIELDS.eventId].map((e) => expr(ctx, e));
}

/**
 * Events after `after` in the order: newest first, older or as old with a smaller id; oldest
 * first, newer or as new with a larger id.
 */
function keyset(after: { readonly time: string; readonly id: string }, oldestFirst: boolean): Pred {
  const op = oldestFirst ? '>' : '<';
  return or(
    { k: 'cmp', e: FIELDS.eventTime, op, value: val(after.time) },
    and({ k: 'cmp', e: FIELDS.eventTime, op: '=', value: val(after.time) }, { k: 'cmp', e: FIELDS.eventId, op, value: val(after.id) }),
  );
}

/** Whether an events plan runs oldest first (its first order item ascending). */
export const oldestFirst = (plan: EventsQuery): boolean => plan.orderBy[0]?.dir === 'asc';

/** Where a scan starting at `from` may start for an oldest-first keyset after an event at `time`: that event's second. */
export function keysetStart(from: Date, time: string): Date {
  const at = CLOUDTRAIL_TIME.test(time) ? Date.parse(time) : NaN;
  if (!Number.isFinite(at)) return from;
  const second = new Date(Math.floor(at / 1000) * 1000);
  return second.getTime() > from.getTime() ? second : from;
}

/** The canonical eventTime every engine compares on (fields.ts DERIVED). */
const CLOUDTRAIL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Where a scan ending at `to` may end for a keyset after an event at `time`: calls up to that
 * second all fall before the next second. Only a time in the canonical form moves the end (any
 * other text leaves it where it was).
 */
export function keysetEnd(to: Date, time: string): Date {
  const at = CLOUDTRAIL_TIME.test(time) ? Date.parse(time) : NaN;
  if (!Number.isFinite(at)) return to;
  const next = new Date(Math.floor(at / 1000) * 1000 + 1000);
  return isoSeconds(next) > time && next.getTime() < to.getTime() ? next : to;
}

/** CloudTrail writes `eventTime` as `yyyy-MM-ddTHH:mm:ssZ`; bounds are compared in that form. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `distinctEvents` with a window: the first row of each key (any engine with window functions).
 * The key is computed as columns first and the window partitions by those (plain column
 * references, which every Trino grammar takes).
 */
export function distinctEventsByRank(columns: readonly string[], source: string, where: string, key: readonly string[], prefer?: string): string {
  const keys = [...key.map((k, i) => `${k} AS trailql_key${i}`), ...(prefer ? [`${prefer} AS trailql_prefer`] : [])];
  const order = prefer ? ' ORDER BY k.trailql_prefer' : '';
  const rank = `row_number() OVER (PARTITION BY ${key.map((_, i) => `k.trailql_key${i}`).join(', ')}${order}) AS ${DEDUP_RANK}`;
  return (
    `SELECT *\n  FROM (\n  SELECT k.*, ${rank}\n  FROM (\n  SELECT ${[...columns, ...keys].join(',\n    ')}\n  FROM ${source}\n  WHERE ${where}\n  ) k\n  ) d\n  WHERE d.${DEDUP_RANK} = 1`
  );
}

function limitLiteral(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 100000) throw new Error(`invalid LIMIT ${n}`);
  return String(n);
}

function orderBy(items: QueryPlan['orderBy']): string {
  if (items.length === 0) return '';
  return `\nORDER BY ${items.map((o) => `${quoteIdent(o.alias)} ${o.dir === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`).join(', ')}`;
}

function compileEvents(ctx: CompileContext, plan: EventsQuery, partitions: PartitionSpec): string {
  const source = ctx.dialect.source(ctx, partitions);
  const select = plan.perGroup ? [...plan.select, { alias: plan.perGroup.alias, e: plan.perGroup.e }] : plan.select;
  const inner = select.map((c) => `${expr(ctx, c.e)} AS ${quoteIdent(c.alias)}`);
  const where = whereClause(ctx, plan, partitions);
  const outer = select.map((c) => `t.${quoteIdent(c.alias)}`).join(', ');
  const deduped = `SELECT ${outer}\nFROM (\n  ${ctx.dialect.distinctEvents(inner, source, where, dedupKey(ctx))}\n) t`;
  if (!plan.perGroup) return `${deduped}${orderBy(plan.orderBy)}\nLIMIT ${limitLiteral(plan.limit)}`;
  const order = plan.orderBy.map((o) => `g.${quoteIdent(o.alias)} ${o.dir === 'desc' ? 'DESC' : 'ASC'}`).join(', ');
  const groupRank = `row_number() OVER (PARTITION BY g.${quoteIdent(plan.perGroup.alias)} ORDER BY ${order}) AS ${GROUP_RANK}`;
  return (
    `SELECT ${select.map((c) => `u.${quoteIdent(c.alias)}`).join(', ')}\nFROM (\nSELECT g.*, ${groupRank}\nFROM (\n${deduped}\n) g\n) u\n` +
    `WHERE u.${GROUP_RANK} <= ${limitLiteral(plan.perGroup.limit)}${orderBy(plan.orderBy)}\nLIMIT ${limitLiteral(plan.limit)}`
  );
}

function compileAggregate(ctx: CompileContext, plan: AggregateQuery, partitions: PartitionSpec): string {
  const source = ctx.dialect.source(ctx, partitions);
  const inner: string[] = plan.groupBy.map((g) => `${expr(ctx, g.e)} AS ${quoteIdent(g.alias)}`);
  const outer: string[] = plan.groupBy.map((g) => `t.${quoteIdent(g.alias)} AS ${quoteIdent(g.alias)}`);
  plan.measures.forEach(({ alias, m }, i) => {
    const input = `m${i}`;
    if (m.k === 'countErrors') inner.push(`${expr(ctx, FIELDS.errorCode)} AS ${input}`);
    else if (m.k !== 'count') inner.push(`${expr(ctx, m.e)} AS ${input}`);
    // The newest event wins; its id breaks a tie of times, so every engine picks the same one.
    if (m.k === 'latest') inner.push(`${expr(ctx, { k: 'concat', items: [FIELDS.eventTime, FIELDS.eventId] })} AS ${input}_at`);
    outer.push(`${measure(ctx, m, input)} AS ${quoteIdent(alias)}`);
  });
  const where = whereClause(ctx, plan, partitions);
  const groupBy = plan.groupBy.length ? `\nGROUP BY ${plan.groupBy.map((g) => `t.${quoteIdent(g.alias)}`).join(', ')}` : '';
  // Of an untimed record's copies, the first file's: its sourceFile is the same in every answer.
  const prefer = plan.untimed ? expr(ctx, { k: 'sourceFile' }) : undefined;
  const grouped = `SELECT ${outer.join(', ')}
FROM (
  ${ctx.dialect.distinctEvents(inner, source, where, dedupKey(ctx), prefer)}\n) t${groupBy}`;
  const page = `${orderBy(plan.orderBy)}\n${offsetLiteral(plan.offset)}LIMIT ${limitLiteral(plan.limit)}`;
  if (!plan.after) return `${grouped}${page}`;
  return `SELECT *\nFROM (\n${grouped}\n) a\nWHERE ${pred(ctx, groupKeyset(plan.orderBy, plan.after))}${page}`;
}

/**
 * Grouped rows after `after` in `order` (ORDER BY ... NULLS LAST): for the first item that differs,
 * the row's value comes later (a null comes after every value, nothing after a null).
 */
export function groupKeyset(order: readonly OrderItem[], after: readonly (Value | null)[]): Pred {
  if (after.length !== order.length || order.length === 0) throw new Error('keyset: one value per order item');
  const later = (o: OrderItem, v: Value | null): Pred => {
    const e = col(o.alias);
    if (v === null) return or();
    return or({ k: 'cmp', e, op: o.dir === 'desc' ? '<' : '>', value: v }, { k: 'cond', cond: { k: 'isNull', e } });
  };
  const same = (o: OrderItem, v: Value | null): Pred =>
    v === null ? { k: 'cond', cond: { k: 'isNull', e: col(o.alias) } } : { k: 'cmp', e: col(o.alias), op: '=', value: v };
  const [head, ...rest] = order;
  const first = later(head, after[0]);
  if (rest.length === 0) return first;
  return or(first, and(same(head, after[0]), groupKeyset(rest, after.slice(1))));
}

function offsetLiteral(n: number | undefined): string {
  if (n === undefined || n === 0) return '';
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new Error(`invalid OFFSET ${n}`);
  return `OFFSET ${n} `;
}

export function compile(dialect: Dialect, plan: QueryPlan, marginDays: number): CompiledQuery {
  const ctx = new CompileContext(dialect);
  // A keyset page reads up to its cursor only; its answer still belongs to the whole window.
  const bounded: QueryPlan =
    plan.kind === 'events' && plan.after
      ? {
          ...plan,
          scan: oldestFirst(plan)
            ? { ...plan.scan, from: keysetStart(plan.scan.from, plan.after.time) }
            : { ...plan.scan, to: keysetEnd(plan.scan.to, plan.after.time) },
          where: [...plan.where, keyset(plan.after, oldestFirst(plan))],
        }
      : plan;
  // The day folders are the window's, whatever the cursor: a record delivered late sits in a folder
  // after its day, up to the window's end plus the margin, and the count reads those folders too.
  const partitions = partitionsFor({ ...bounded.scan, to: plan.scan.to }, marginDays);
  if (dialect.requiresAccounts && partitions.accounts.length === 0) {
    throw new BadInputError('filter.accounts: this trail table is only read for named accounts; name them in filter.accounts', 'filter.accounts');
  }
  const sql = bounded.kind === 'events' ? compileEvents(ctx, bounded, partitions) : compileAggregate(ctx, bounded, partitions);
  return Object.freeze({ sql, params: Object.freeze([...ctx.params]), partitions, window: { from: plan.scan.from, to: plan.scan.to }, label: plan.label });
}
