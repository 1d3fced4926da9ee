/**
 * Plan -> SQL. The shared compiler walks the plan once and asks its dialect for the few things
 * engines spell differently (the trail source, partition predicates, JSON and regex functions).
 * User values become `?` placeholders pushed to `params`; only `const` nodes written in this code
 * base are inlined, escaped.
 */
import { CompiledQuery, PartitionSpec, Row, SqlValue, windowBoundMs } from './engine';
import { AggregatePart, AggregateQuery, AggregatesQuery, Branches, Cond, MAX_BRANCHES, DerivedName, EventsQuery, Expr, Measure, OrderItem, Pred, Projection, QueryPlan, Scan, Value, and, col, or, val } from './plan';
import { CALL_TIE, EVENT_TIME_PATTERN, FIELDS } from './fields';
import { partitionsFor } from './partitions';
import { BadInputError } from '../errors';
import { IPV4_TEXT_PATTERN, IPV6_TEXT_PATTERN } from '../domain/ip';

export interface Dialect {
  readonly name: string;
  /** FROM clause item for the trail, already aliased; may push its own parameters. */
  source(ctx: CompileContext, partitions: PartitionSpec): string;
  /** Extra WHERE items restricting partitions (Athena); `[]` when the source itself is pruned. */
  partitionPredicates(ctx: CompileContext, partitions: PartitionSpec): string[];
  jsonText(of: string, pathLiteral: string): string;
  /** Number of elements of the array at `pathLiteral` of the JSON text `of`; NULL when no array is there. */
  jsonArrayLength(of: string, pathLiteral: string): string;
  regexpLike(of: string, patternLiteral: string): string;
  /**
   * Whether some element of the JSON array at `arrayPath` (a path literal) of the JSON text `of`
   * holds, at `fieldPath`, a scalar (read as `jsonText` reads one) equal to one of `values` (bound
   * values); false when there is no such array.
   */
  jsonArrayAnyIn(of: string, arrayPath: string, fieldPath: string, values: readonly string[]): string;
  /** Whether the text `of` ends with the text `suffix` (a bound value), by code points: no engine's grapheme rules. */
  endsWith(of: string, suffix: string): string;
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
   * again): records sharing it count once, and the row kept is the first in the order `prefer`
   * (expressions, each ascending).
   */
  distinctEvents(columns: readonly string[], source: string, where: string, key: readonly string[], prefer: readonly string[]): string;
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
  /**
   * Optional: the only regions the table reads (a fixed region projection); a statement naming
   * another is refused before it is sent rather than answered from nothing.
   */
  readonly regions?: readonly string[];
  /** Optional: the only accounts the table reads (an enumerated account projection), refused alike. */
  readonly accounts?: readonly string[];
  /**
   * Optional: the first day the table reads (`yyyy/MM/dd`, its projected range's start): a window
   * that begins before it is refused rather than answered without the days before.
   */
  readonly firstDay?: string;
  /**
   * Optional: the engine computes a subquery named in `WITH` once however many times the statement
   * reads it (DuckDB materializes it). Without it, each use reads the files again (Trino inlines
   * it), so a combined form whose subquery is read more than once costs more than the statements
   * it replaces, and is not used (compileGroupsWithEvents).
   */
  readonly namedSubqueriesOnce?: boolean;
}

export class CompileContext {
  readonly params: SqlValue[] = [];
  /**
   * @param excludedFiles record files the statement must not read (URIs as the engine names them,
   *   CompiledQuery.excluding): for a dialect reading a table, a predicate of its partitions
   */
  constructor(
    readonly dialect: Dialect,
    readonly excludedFiles: readonly string[] = [],
  ) {}

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

const DEDUP_RANK = 'trailql_rank';
const GROUP_RANK = 'trailql_group_rank';

export function expr(ctx: CompileContext, e: Expr): string {
  switch (e.k) {
    case 'col':
      return e.path.map(quoteIdent).join('.');
    case 'jsonText':
      return ctx.dialect.jsonText(expr(ctx, e.of), literal(e.path));
    case 'jsonArrayLength':
      return ctx.dialect.jsonArrayLength(expr(ctx, e.of), literal(e.path));
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
    case 'nullIfEmpty':
      return `NULLIF(${expr(ctx, e.of)}, '')`;
    case 'escapeSlash':
      return `replace(replace(${expr(ctx, e.of)}, ${literal('\\')}, ${literal('\\\\')}), ${literal('/')}, ${literal('\\/')})`;
    case 'toJson':
      return ctx.dialect.toJson(expr(ctx, e.of));
    case 'derived':
      return ctx.dialect.derived(ctx, e.name);
    case 'sha256Hex':
      return ctx.dialect.sha256Hex(expr(ctx, e.of));
    case 'utcTime': {
      // Only the forms every engine reads alike (EVENT_TIME_PATTERN): each engine's own reader
      // takes more, differently (DuckDB also zone names, `infinity`, `epoch`, spaces around; Trino's
      // no seconds, a lower-case `z`), and DuckDB's reading of a zone name moved other rows' times.
      const of = expr(ctx, e.of);
      return `CASE WHEN ${ctx.dialect.regexpLike(of, literal(EVENT_TIME_PATTERN))} THEN ${ctx.dialect.utcTime(of)} END`;
    }
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
    case 'lessThan':
      return `${expr(ctx, c.e)} < ${expr(ctx, c.than)}`;
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
  // Only text the address kinds count as IPv4 (no leading zeros, octets to 255): `010.1.2.3` is
  // no address, and in no block.
  return `CASE WHEN ${ctx.dialect.regexpLike(s, literal(IPV4_TEXT_PATTERN))} THEN ${part(1)} * 16777216 + ${part(2)} * 65536 + ${part(3)} * 256 + ${part(4)} END`;
}

/**
 * IPv6 text to 32 lower-case hex digits, NULL for anything else, with plain string functions both
 * engines share: pad `::` out to eight groups, then left-pad each group to four digits. The only
 * hand-written IPv6 expansion: the service's own code reads addresses with ipaddr.js, and a
 * property test (test/ip-kinds.test.ts) holds this one to it. Only text the address kinds count as
 * IPv6 is expanded (no embedded IPv4 part, no zone), so other text never falls into a range.
 */
export function ipv6Hex(ctx: CompileContext, s: string): string {
  const lowered = `lower(${s})`;
  // Leading or trailing `::` gets an explicit zero group so the split below sees no empty ends.
  const ends = `(CASE WHEN substr(${lowered}, 1, 2) = '::' THEN '0' ELSE '' END || ${lowered} || CASE WHEN substr(${lowered}, length(${lowered}) - 1, 2) = '::' THEN '0' ELSE '' END)`;
  const colons = `(length(${ends}) - length(replace(${ends}, ':', '')))`;
  const full = `(CASE WHEN strpos(${ends}, '::') > 0 THEN replace(${ends}, '::', substr(':0:0:0:0:0:0:0:0:', 1, 2 * (8 - ${colons}) + 1)) ELSE ${ends} END)`;
  const groups = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `lpad(split_part(${full}, ':', ${i}), 4, '0')`).join(' || ');
  return `CASE WHEN ${ctx.dialect.regexpLike(s, literal(IPV6_TEXT_PATTERN))} THEN ${groups} END`;
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
      return ctx.dialect.endsWith(expr(ctx, p.e), bindValue(ctx, p.suffix));
    case 'jsonArrayAnyIn': {
      if (p.values.length === 0) return 'FALSE';
      const path = (name: string) => {
        if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`not a field name: ${name}`);
        return literal(`$.${name}`);
      };
      return ctx.dialect.jsonArrayAnyIn(expr(ctx, p.e), path(p.array), path(p.field), p.values.map((v) => bindValue(ctx, v)));
    }
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

function measure(ctx: CompileContext, m: Measure, inputAlias: string, atAlias = `${inputAlias}_at`): string {
  // The newest event's value, NULL when it has none (never an older event's): DuckDB's max_by
  // skips a NULL value by itself, Trino's (Athena) does not, so every value is marked ('v' before
  // it, 'n' for none), which both keep, and the mark taken off again.
  if (m.k === 'latest') return `NULLIF(substr(max_by(COALESCE('v' || CAST(t.${inputAlias} AS VARCHAR), 'n'), t.${atAlias}), 2), '')`;
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

/** What a statement reads: its scan, its predicates, and whether it reads the untimed records. */
type Scanned = Pick<QueryPlan, 'scan' | 'where'> & { readonly untimed?: boolean };

/** What selects the records of a scan: its partitions, event sources, regions and accounts, and `where`. */
function whereClause(ctx: CompileContext, plan: Pick<QueryPlan, 'scan' | 'where'>, partitions: PartitionSpec): string {
  const items = [
    ...ctx.dialect.partitionPredicates(ctx, partitions),
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
 * What every copy of one call holds alike: its key (account, region, event id), and its event
 * source and type, which the reader and the scan select records by. A predicate reading only these
 * is tested on every copy before deduplication; any other (the time, the action, an outcome, a
 * caller, an address) is tested on the copy kept, so that copies differing in it count the call
 * once, under the same copy in every answer, and a walk meets it once (at its kept copy's time).
 */
const CALL_KEYS = new Set([FIELDS.account, FIELDS.region, FIELDS.eventId, FIELDS.eventSource, FIELDS.eventType].map((e) => JSON.stringify(e)));

/** Whether `e` is computed from CALL_KEYS alone (and constants). */
function ofCallKeys(e: Expr): boolean {
  if (CALL_KEYS.has(JSON.stringify(e))) return true;
  switch (e.k) {
    case 'const':
      return true;
    case 'concat':
    case 'coalesce':
      return e.items.every(ofCallKeys);
    case 'lower':
    case 'nullIfEmpty':
    case 'escapeSlash':
    case 'utcTime':
    case 'bucket':
    case 'minuteBucket':
      return ofCallKeys(e.of);
    default:
      return false;
  }
}

function readsCallKeysOnly(p: Pred): boolean {
  let only = true;
  mapPred(p, (e) => {
    if (!ofCallKeys(e)) only = false;
    return e;
  });
  return only;
}

const filterInput = (i: number) => `trailql_filter_${i}`;

/**
 * The order of a call's copies, first delivered first: by the delivery file's name, which starts
 * with the account and region and then the delivery time (CloudTrail's `<account>_CloudTrail_
 * <region>_<yyyyMMddTHHmmZ>_<unique>`), whatever folder holds it (a plain or an organization
 * trail's), then by its whole key. Compaction keeps the same copy (compact.ts).
 */
export const firstDelivery = (file: string): string[] => [`regexp_extract(${file}, '[^/]*$')`, file];

/**
 * The calls a statement reads: one row per account, region and event id, holding `columns` of the
 * copy from the first delivery file (the copy the store keeps, compact.ts), whatever the other
 * copies hold. The scan and the predicates on the call's keys select the records; the window and
 * the other predicates are tested after deduplication on columns of their own
 * (`trailql_filter_<i>`), so a copy that differs cannot make a call count under a filter its kept
 * copy does not meet. Their placeholders follow the scan's in the text, as they are bound.
 */
function callRows(ctx: CompileContext, columns: readonly string[], source: string, plan: Scanned, partitions: PartitionSpec): string {
  const onCopies: Pred[] = [];
  const onCall: Pred[] = plan.untimed ? [{ k: 'cond', cond: { k: 'isNull', e: FIELDS.eventTime } }] : windowPreds(plan.scan);
  for (const p of plan.where) (readsCallKeysOnly(p) ? onCopies : onCall).push(p);
  const where = whereClause(ctx, { scan: plan.scan, where: onCopies }, partitions);
  const { exprs, items } = columnInputs(onCall, filterInput);
  const inputs = exprs.map((e, i) => `${expr(ctx, e)} AS ${filterInput(i)}`);
  const rows = ctx.dialect.distinctEvents([...columns, ...inputs], source, where, dedupKey(ctx), firstDelivery(expr(ctx, { k: 'sourceFile' })));
  if (items.length === 0) return rows;
  return `SELECT *\n  FROM (\n  ${rows}\n  ) c\n  WHERE ${items.map((p) => pred(ctx, p)).join('\n    AND ')}`;
}

/**
 * Events after `after` in the order: newest first, older, or as old with a smaller id, or the same
 * id with a smaller account and region (`CALL_TIE`); oldest first, the same with larger.
 */
function keyset(after: { readonly time: string; readonly id: string; readonly tie: string }, oldestFirst: boolean): Pred {
  const op = oldestFirst ? '>' : '<';
  const eq = (e: Expr, v: string): Pred => ({ k: 'cmp', e, op: '=', value: val(v) });
  return or(
    { k: 'cmp', e: FIELDS.eventTime, op, value: val(after.time) },
    and(
      eq(FIELDS.eventTime, after.time),
      or({ k: 'cmp', e: FIELDS.eventId, op, value: val(after.id) }, and(eq(FIELDS.eventId, after.id), { k: 'cmp', e: CALL_TIE.e, op, value: val(after.tie) })),
    ),
  );
}

/** An events plan's columns with those its order reads (the order's tie-breaker need not be selected). */
export function withOrderColumns(select: readonly Projection[], orderBy: readonly OrderItem[]): readonly Projection[] {
  const tie = orderBy.some((o) => o.alias === CALL_TIE.alias) && !select.some((c) => c.alias === CALL_TIE.alias);
  return tie ? [...select, CALL_TIE] : select;
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

/** A window bound as the canonical time calls are compared with (see `windowBoundMs`). */
export function windowBound(d: Date): string {
  return isoSeconds(new Date(windowBoundMs(d)));
}

/** Calls within a window: from its start (inclusive) to its end (exclusive), bounds as `windowBound` makes them. */
export function windowPreds(w: { readonly from: Date; readonly to: Date }): Pred[] {
  return [
    { k: 'cmp', e: FIELDS.eventTime, op: '>=', value: val(windowBound(w.from)) },
    { k: 'cmp', e: FIELDS.eventTime, op: '<', value: val(windowBound(w.to)) },
  ];
}

/**
 * `distinctEvents` with a window: the first row of each key (any engine with window functions).
 * The key is computed as columns first and the window partitions by those (plain column
 * references, which every Trino grammar takes).
 */
export function distinctEventsByRank(columns: readonly string[], source: string, where: string, key: readonly string[], prefer: readonly string[]): string {
  const keys = [...key.map((k, i) => `${k} AS trailql_key${i}`), ...prefer.map((p, i) => `${p} AS trailql_prefer${i}`)];
  const order = ` ORDER BY ${prefer.map((_, i) => `k.trailql_prefer${i}`).join(', ')}`;
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

/** A condition with every expression it reads replaced by `f` of it. */
function mapCond(c: Cond, f: (e: Expr) => Expr): Cond {
  switch (c.k) {
    case 'allOf':
    case 'anyOf':
      return { ...c, items: c.items.map((i) => mapCond(i, f)) };
    case 'lessThan':
      return { ...c, e: f(c.e), than: f(c.than) };
    default:
      return { ...c, e: f(c.e) };
  }
}

/** A predicate with every expression it reads replaced by `f` of it (values kept as they are). */
function mapPred(p: Pred, f: (e: Expr) => Expr): Pred {
  switch (p.k) {
    case 'cond':
      return { ...p, cond: mapCond(p.cond, f) };
    case 'isTrue':
    case 'not':
      return { ...p, item: mapPred(p.item, f) };
    case 'and':
    case 'or':
      return { ...p, items: p.items.map((i) => mapPred(i, f)) };
    default:
      return { ...p, e: f(p.e) };
  }
}

/**
 * Branches read from the deduplicated rows: each expression the branch predicates read becomes a
 * column of the scan (expressions hold no values), and the predicates, rewritten to read those
 * columns, are tested after the scan, so their placeholders follow the scan's in the text (a
 * source may hold a placeholder of its own, as DuckDB's file list does).
 */
function branchInputs(b: Branches | undefined): { exprs: Expr[]; items: Pred[] } {
  if (!b) return { exprs: [], items: [] };
  if (b.items.length < 1 || b.items.length > MAX_BRANCHES) throw new Error(`branches: 1 to ${MAX_BRANCHES}, not ${b.items.length}`);
  return columnInputs(b.items, branchInput);
}

/** Predicates rewritten to read columns named `name(i)`, one per distinct expression they read (`exprs[i]`). */
function columnInputs(preds: readonly Pred[], name: (i: number) => string): { exprs: Expr[]; items: Pred[] } {
  const seen = new Map<string, number>();
  const exprs: Expr[] = [];
  const items = preds.map((p) =>
    mapPred(p, (e) => {
      const id = JSON.stringify(e);
      let i = seen.get(id);
      if (i === undefined) {
        i = exprs.length;
        seen.set(id, i);
        exprs.push(e);
      }
      return col(name(i));
    }),
  );
  return { exprs, items };
}

const branchInput = (i: number) => `trailql_input_${i}`;

/**
 * The deduplicated events `t0` once per branch they meet, with the branch index under `alias`:
 * a join with the constant list of indices (written here, never from input).
 */
function branched(ctx: CompileContext, deduped: string, b: Branches, items: readonly Pred[], columns: readonly string[]): string {
  const indices = b.items.map((_, i) => `(${i})`).join(', ');
  const member = items.map((p, i) => `(b.${quoteIdent(b.alias)} = ${i} AND ${pred(ctx, p)})`).join('\n    OR ');
  return `SELECT ${[...columns.map((c) => `t0.${c}`), `b.${quoteIdent(b.alias)}`].join(', ')}\nFROM (\n  ${deduped}\n) t0\nCROSS JOIN (VALUES ${indices}) AS b (${quoteIdent(b.alias)})\nWHERE ${member}`;
}

function compileEvents(ctx: CompileContext, plan: EventsQuery, partitions: PartitionSpec): string {
  const source = ctx.dialect.source(ctx, partitions);
  const ordered = withOrderColumns(plan.select, plan.orderBy);
  const select = plan.perGroup ? [...ordered, { alias: plan.perGroup.alias, e: plan.perGroup.e }] : ordered;
  const inputs = branchInputs(plan.branches);
  const inner = [...select.map((c) => `${expr(ctx, c.e)} AS ${quoteIdent(c.alias)}`), ...inputs.exprs.map((e, i) => `${expr(ctx, e)} AS ${branchInput(i)}`)];
  const calls = callRows(ctx, inner, source, plan, partitions);
  if (plan.branches) {
    const b = plan.branches;
    const rows = branched(ctx, calls, b, inputs.items, select.map((c) => quoteIdent(c.alias)));
    const order = plan.orderBy.map((o) => `g.${quoteIdent(o.alias)} ${o.dir === 'desc' ? 'DESC' : 'ASC'}`).join(', ');
    const rank = `row_number() OVER (PARTITION BY g.${quoteIdent(b.alias)} ORDER BY ${order}) AS ${GROUP_RANK}`;
    const out = [...select.map((c) => quoteIdent(c.alias)), quoteIdent(b.alias)].map((c) => `u.${c}`).join(', ');
    return (
      `SELECT ${out}\nFROM (\nSELECT g.*, ${rank}\nFROM (\n${rows}\n) g\n) u\n` +
      `WHERE u.${GROUP_RANK} <= ${limitLiteral(b.limit)}\nORDER BY u.${quoteIdent(b.alias)} ASC${plan.orderBy.map((o) => `, u.${quoteIdent(o.alias)} ${o.dir === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`).join('')}\nLIMIT ${limitLiteral(plan.limit)}`
    );
  }
  const outer = select.map((c) => `t.${quoteIdent(c.alias)}`).join(', ');
  const total = plan.withTotal === undefined ? undefined : quoteIdent(plan.withTotal);
  const events = `FROM (\n  ${calls}\n) t`;
  if (!plan.perGroup) {
    // The count is taken over every matching event before ORDER BY and LIMIT cut the page.
    return `SELECT ${outer}${total ? `, count(*) OVER () AS ${total}` : ''}\n${events}${orderBy(plan.orderBy)}\nLIMIT ${limitLiteral(plan.limit)}`;
  }
  const part = `PARTITION BY g.${quoteIdent(plan.perGroup.alias)}`;
  const order = plan.orderBy.map((o) => `g.${quoteIdent(o.alias)} ${o.dir === 'desc' ? 'DESC' : 'ASC'}`).join(', ');
  const windows = [`row_number() OVER (${part} ORDER BY ${order}) AS ${GROUP_RANK}`, ...(total ? [`count(*) OVER (${part}) AS ${total}`] : [])];
  const columns = [...select.map((c) => `u.${quoteIdent(c.alias)}`), ...(total ? [`u.${total}`] : [])];
  return (
    `SELECT ${columns.join(', ')}\nFROM (\nSELECT g.*, ${windows.join(', ')}\nFROM (\nSELECT ${outer}\n${events}\n) g\n) u\n` +
    `WHERE u.${GROUP_RANK} <= ${limitLiteral(plan.perGroup.limit)}${orderBy(plan.orderBy)}\nLIMIT ${limitLiteral(plan.limit)}`
  );
}

/** An ORDER BY list for a window over the rows of `from` (NULLS LAST, as the page's own order). */
function windowOrder(from: string, items: readonly OrderItem[]): string {
  return items.map((o) => `${from}.${quoteIdent(o.alias)} ${o.dir === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`).join(', ');
}

/**
 * What orders the events of a `latest` measure: the newest wins, its id (then its account and
 * region) breaking a tie of times so every engine picks the same one; with `among`, an event
 * whose `among` is set comes before any whose is not, however new.
 */
function latestOrder(m: Extract<Measure, { k: 'latest' }>): Expr {
  // The time is of one length; the id is joined escaped, so two calls never give one text.
  const newest: Expr = { k: 'concat', items: [FIELDS.eventTime, { k: 'const', value: '/' }, { k: 'escapeSlash', of: FIELDS.eventId }, { k: 'const', value: '/' }, CALL_TIE.e] };
  if (!m.among) return newest;
  const first: Expr = { k: 'case', whens: [[{ k: 'notNull', e: m.among }, { k: 'const', value: '1' }]], otherwise: { k: 'const', value: '0' } };
  return { k: 'concat', items: [first, newest] };
}

/** What an aggregate reads of each event (`<expr> AS <alias>`), and its output columns over those (rows aliased `t`). */
function aggregateColumns(ctx: CompileContext, plan: AggregateQuery): { inner: string[]; outer: string[] } {
  const inner: string[] = plan.groupBy.map((g) => `${expr(ctx, g.e)} AS ${quoteIdent(g.alias)}`);
  const outer: string[] = plan.groupBy.map((g) => `t.${quoteIdent(g.alias)} AS ${quoteIdent(g.alias)}`);
  plan.measures.forEach(({ alias, m }, i) => {
    const input = `m${i}`;
    if (m.k === 'countErrors') inner.push(`${expr(ctx, FIELDS.errorCode)} AS ${input}`);
    else if (m.k !== 'count') inner.push(`${expr(ctx, m.e)} AS ${input}`);
    if (m.k === 'latest') inner.push(`${expr(ctx, latestOrder(m))} AS ${input}_at`);
    outer.push(`${measure(ctx, m, input)} AS ${quoteIdent(alias)}`);
  });
  return { inner, outer };
}

/** The alias a column `<expr> AS <alias>` ends with. */
const aliasOf = (column: string): string => column.slice(column.lastIndexOf(' AS ') + 4);

function compileAggregate(ctx: CompileContext, plan: AggregateQuery, partitions: PartitionSpec): string {
  const source = ctx.dialect.source(ctx, partitions);
  const { inner, outer } = aggregateColumns(ctx, plan);
  // The inputs' aliases (each column ends `AS <alias>`), carried through the branch join.
  const inputs = inner.map(aliasOf);
  const branchIn = branchInputs(plan.branches);
  inner.push(...branchIn.exprs.map((e, i) => `${expr(ctx, e)} AS ${branchInput(i)}`));
  const deduped = callRows(ctx, inner, source, plan, partitions);
  return groupedOver(ctx, plan, outer, `(\n  ${plan.branches ? branched(ctx, deduped, plan.branches, branchIn.items, inputs) : deduped}\n) t`);
}

/**
 * An aggregate's answer over the rows of `from` (a FROM item aliased `t` holding its inputs):
 * grouped, with its window counts, after its keyset, ordered and cut.
 */
function groupedOver(ctx: CompileContext, plan: AggregateQuery, measured: readonly string[], from: string): string {
  const keys = [...(plan.branches ? [plan.branches.alias] : []), ...plan.groupBy.map((g) => g.alias)];
  const outer = plan.branches ? [`t.${quoteIdent(plan.branches.alias)} AS ${quoteIdent(plan.branches.alias)}`, ...measured] : measured;
  const groupBy = keys.length ? `\nGROUP BY ${keys.map((a) => `t.${quoteIdent(a)}`).join(', ')}` : '';
  const grouped = `SELECT ${outer.join(', ')}\nFROM ${from}${groupBy}`;
  const page = `${orderBy(plan.orderBy)}\nLIMIT ${limitLiteral(plan.limit)}`;
  const { perGroup, withTotal } = plan;
  if (perGroup && !plan.groupBy.some((g) => g.alias === perGroup.alias)) throw new Error(`perGroup: ${perGroup.alias} is not a grouping column`);
  // Window functions over the grouped rows, before the keyset and the per-group cut: the count of
  // groups (per parent when batched) and each row's rank within its parent.
  const part = perGroup ? `PARTITION BY a0.${quoteIdent(perGroup.alias)}` : '';
  const windows = [
    ...(perGroup ? [`row_number() OVER (${part} ORDER BY ${windowOrder('a0', plan.orderBy)}) AS ${GROUP_RANK}`] : []),
    ...(withTotal !== undefined ? [`count(*) OVER (${part}) AS ${quoteIdent(withTotal)}`] : []),
  ];
  const ranked = windows.length ? `SELECT a0.*, ${windows.join(', ')}\nFROM (\n${grouped}\n) a0` : grouped;
  const conditions = [...(plan.after ? [pred(ctx, groupKeyset(plan.orderBy, plan.after))] : []), ...(perGroup ? [`a.${GROUP_RANK} <= ${limitLiteral(perGroup.limit)}`] : [])];
  if (conditions.length === 0) return `${ranked}${page}`;
  const columns = perGroup
    ? [...plan.groupBy.map((g) => g.alias), ...plan.measures.map((m) => m.alias), ...(withTotal !== undefined ? [withTotal] : [])].map((a) => `a.${quoteIdent(a)}`).join(', ')
    : '*';
  return `SELECT ${columns}\nFROM (\n${ranked}\n) a\nWHERE ${conditions.join(' AND ')}${page}`;
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

const PART = 'trailql_part';
const PART_ROW = 'trailql_part_row';
const EVENTS = 'trailql_events';
/** A part's output column in the combined statement: the part's index, then its own alias. */
const partColumn = (part: number, alias: string) => `trailql_p${part}_${alias}`;

/** The columns of part `own`'s rows in a statement stacking parts: its own from `q`, every other part's NULL. */
const taggedColumns = (columns: readonly (readonly string[])[], own: number): string =>
  columns.flatMap((cs, j) => cs.map((a) => `${j === own ? `q.${quoteIdent(a)}` : 'NULL'} AS ${quoteIdent(partColumn(j, a))}`)).join(', ');

/** The columns an aggregate part returns: its groups, then its measures. */
const partAliases = (p: AggregatePart): string[] => [...p.groupBy.map((g) => g.alias), ...p.measures.map((m) => m.alias)];

/**
 * Several grouped questions over one scan in one statement. The deduplicated events are a named
 * subquery (`WITH`) holding every expression any part reads, once, as a column; each part groups
 * the rows its predicates keep, orders and cuts them as its own statement would, and numbers them
 * in that order. The parts' rows are stacked with the part's index (`UNION ALL`), each part's
 * columns under names of its own (the others' NULL), and ordered by part and number. DuckDB
 * computes a subquery named more than once a single time, so the files are read once; an engine
 * that repeats it (Trino) reads them once per part, as the separate statements would.
 */
export function compileAggregates(dialect: Dialect, query: AggregatesQuery, marginDays: number, excludedFiles: readonly string[] = []): CompiledQuery {
  if (query.parts.length < 1 || query.parts.length > MAX_BRANCHES) throw new Error(`parts: 1 to ${MAX_BRANCHES}, not ${query.parts.length}`);
  const ctx = new CompileContext(dialect, excludedFiles);
  const partitions = partitionsFor(query.scan, marginDays);
  checkAccounts(dialect, partitions);
  const seen = new Map<string, string>();
  const inputs: string[] = [];
  const input = (e: Expr): string => {
    const id = JSON.stringify(e);
    let name = seen.get(id);
    if (name === undefined) {
      name = branchInput(seen.size);
      seen.set(id, name);
      inputs.push(`${expr(ctx, e)} AS ${name}`);
    }
    return name;
  };
  // Every expression becomes a column before any text is written: expressions hold no values, so
  // the placeholders keep their order (source, scan predicates, then each part's in turn).
  const parts = query.parts.map((p) => ({
    where: p.where.map((w) => mapPred(w, (e) => col(input(e)))),
    groups: p.groupBy.map((g) => ({ alias: g.alias, column: input(g.e) })),
    measures: p.measures.map(({ alias, m }) => {
      const of = m.k === 'countErrors' ? input(FIELDS.errorCode) : m.k === 'count' ? '' : input(m.e);
      const at = m.k === 'latest' ? input(latestOrder(m)) : undefined;
      return `${measure(ctx, m, of, at)} AS ${quoteIdent(alias)}`;
    }),
    orderBy: p.orderBy,
    limit: p.limit,
  }));
  const source = ctx.dialect.source(ctx, partitions);
  const events = callRows(ctx, inputs, source, query, partitions);
  const columns = query.parts.map(partAliases);
  const selects = parts.map((p, i) => {
    const grouping = [...p.groups.map((g) => `t.${g.column} AS ${quoteIdent(g.alias)}`), ...p.measures];
    const filter = p.where.length ? `\n  WHERE ${p.where.map((w) => pred(ctx, w)).join('\n    AND ')}` : '';
    const groupBy = p.groups.length ? `\n  GROUP BY ${p.groups.map((g) => `t.${g.column}`).join(', ')}` : '';
    const grouped = `SELECT ${grouping.join(', ')}\n  FROM ${EVENTS} t${filter}${groupBy}${orderBy(p.orderBy)}\n  LIMIT ${limitLiteral(p.limit)}`;
    const number = `row_number() OVER (${p.orderBy.length ? `ORDER BY ${windowOrder('q', p.orderBy)}` : ''}) AS ${PART_ROW}`;
    return `SELECT ${i} AS ${PART}, ${number}, ${taggedColumns(columns, i)}\nFROM (\n  ${grouped}\n) q`;
  });
  const sql = `WITH ${EVENTS} AS (\n  ${events}\n)\n${selects.join('\nUNION ALL\n')}\nORDER BY ${PART}, ${PART_ROW}`;
  return compiled(ctx, sql, partitions, query.scan, query.label, (files) => compileAggregates(dialect, query, marginDays, files));
}

/** The rows of each part of an `AggregatesQuery` from its statement's rows, under the part's own aliases. */
export function partRows(query: AggregatesQuery, rows: readonly Row[]): Row[][] {
  return taggedRows(query.parts.map(partAliases), rows);
}

/** Rows of a statement stacking parts (each row tagged with its part) as each part's own rows: `columns[i]` are part i's aliases. */
export function taggedRows(columns: readonly (readonly string[])[], rows: readonly Row[]): Row[][] {
  const out: Row[][] = columns.map(() => []);
  for (const row of rows) {
    const i = Number(row[PART]);
    const aliases = columns[i];
    if (!aliases) throw new Error(`a row of no part: ${String(row[PART])}`);
    out[i].push(Object.fromEntries(aliases.map((a) => [a, row[partColumn(i, a)] ?? null])));
  }
  return out;
}

/**
 * A page of groups with the first events of each group on it (a grouped list with a nested page
 * of calls per entry): see `compileGroupsWithEvents`.
 */
export interface GroupsWithEvents {
  /** The groups: one grouping column, no branches, batches or untimed records. */
  readonly groups: AggregateQuery;
  readonly events: {
    readonly select: readonly Projection[];
    readonly orderBy: readonly OrderItem[];
    /** Most events per group. */
    readonly perGroup: number;
    /** The alias the events carry their group's key under. */
    readonly parentAlias: string;
    /** Also return, under this alias, how many events each group has (before the cut). */
    readonly withTotal?: string;
    /**
     * The groups whose events are returned, when not all the groups' rows: those after `after` in
     * the groups' order (a keyset, as AggregateQuery.after), at most `limit` (a page cut from a
     * whole list of groups).
     */
    readonly page?: { readonly after?: readonly (Value | null)[]; readonly limit: number };
  };
}

const PAGE = 'trailql_page';
const ON_PAGE = 'trailql_on_page';

/** The columns of the groups' rows and of the events' rows, in the order `taggedRows` reads them. */
export function groupsWithEventsColumns(q: GroupsWithEvents): string[][] {
  const { groups, events } = q;
  return [
    [...groups.groupBy.map((g) => g.alias), ...groups.measures.map((m) => m.alias), ...(groups.withTotal !== undefined ? [groups.withTotal] : [])],
    [...withOrderColumns(events.select, events.orderBy).map((c) => c.alias), events.parentAlias, ...(events.withTotal !== undefined ? [events.withTotal] : [])],
  ];
}

/**
 * The groups' page and the events of each group on it, in one statement reading the events once:
 * the deduplicated events are a named subquery holding what the groups measure and what the events
 * select; the page of groups is computed over it as the aggregate's own statement would (keyset,
 * order, limit, count of groups); and the events of the groups on that page, at most `perGroup`
 * each in the events' order, are taken from the same subquery (of the groups `events.page` cuts
 * from them, when given). The groups' rows are part 0, the events' part 1 (`taggedRows`). The
 * events are those the groups count: the same scan and predicates. The subqueries are read more
 * than once: only for an engine computing them once (Dialect.namedSubqueriesOnce).
 */
export function compileGroupsWithEvents(dialect: Dialect, q: GroupsWithEvents, marginDays: number, excludedFiles: readonly string[] = []): CompiledQuery {
  const { groups, events } = q;
  if (groups.branches || groups.perGroup || groups.untimed || groups.groupBy.length !== 1) throw new Error('groups with events: one grouping column, no branches, batches or untimed records');
  const ctx = new CompileContext(dialect, excludedFiles);
  const partitions = partitionsFor(groups.scan, marginDays);
  checkAccounts(dialect, partitions);
  const { inner, outer } = aggregateColumns(ctx, groups);
  // The events' columns under names of their own in the subquery, apart from the groups' inputs.
  const eventColumn = (alias: string) => quoteIdent(`trailql_e_${alias}`);
  const eventSelect = withOrderColumns(events.select, events.orderBy);
  const selected = eventSelect.map((c) => `${expr(ctx, c.e)} AS ${eventColumn(c.alias)}`);
  const source = ctx.dialect.source(ctx, partitions);
  const rows = callRows(ctx, [...inner, ...selected], source, groups, partitions);
  const page = groupedOver(ctx, groups, outer, `${EVENTS} t`);
  const cut = events.page;
  const onPageRows = cut
    ? `,\n${ON_PAGE} AS (\nSELECT * FROM ${PAGE}${cut.after ? `\nWHERE ${pred(ctx, groupKeyset(groups.orderBy, cut.after))}` : ''}${orderBy(groups.orderBy)}\nLIMIT ${limitLiteral(cut.limit)}\n)`
    : '';
  const eventsOf = cut ? ON_PAGE : PAGE;
  const key = quoteIdent(groups.groupBy[0].alias);
  const parent = quoteIdent(events.parentAlias);
  const columns = groupsWithEventsColumns(q);
  const order = events.orderBy.map((o) => `e.${quoteIdent(o.alias)} ${o.dir === 'desc' ? 'DESC' : 'ASC'}`).join(', ');
  const windows = [
    `row_number() OVER (PARTITION BY e.${parent} ORDER BY ${order}) AS ${GROUP_RANK}`,
    ...(events.withTotal !== undefined ? [`count(*) OVER (PARTITION BY e.${parent}) AS ${quoteIdent(events.withTotal)}`] : []),
  ];
  // The page's groups, a group without a key (NULL) included.
  const onPage = `t.${key} IN (SELECT p.${key} FROM ${eventsOf} p) OR (t.${key} IS NULL AND 1 IN (SELECT 1 FROM ${eventsOf} p WHERE p.${key} IS NULL))`;
  const pageEvents =
    `SELECT e.*, ${windows.join(', ')}\n  FROM (\n  SELECT ${eventSelect.map((c) => `t.${eventColumn(c.alias)} AS ${quoteIdent(c.alias)}`).join(', ')}, t.${key} AS ${parent}\n  FROM ${EVENTS} t\n  WHERE ${onPage}\n  ) e`;
  const groupRows = `SELECT 0 AS ${PART}, row_number() OVER (${groups.orderBy.length ? `ORDER BY ${windowOrder('q', groups.orderBy)}` : ''}) AS ${PART_ROW}, ${taggedColumns(columns, 0)}\nFROM ${PAGE} q`;
  const eventRows =
    `SELECT 1 AS ${PART}, row_number() OVER (ORDER BY q.${parent} ASC NULLS LAST, ${windowOrder('q', events.orderBy)}) AS ${PART_ROW}, ${taggedColumns(columns, 1)}\n` +
    `FROM (\n  ${pageEvents}\n) q\nWHERE q.${GROUP_RANK} <= ${limitLiteral(events.perGroup)}`;
  const sql = `WITH ${EVENTS} AS (\n  ${rows}\n),\n${PAGE} AS (\n${page}\n)${onPageRows}\n${groupRows}\nUNION ALL\n${eventRows}\nORDER BY ${PART}, ${PART_ROW}`;
  return compiled(ctx, sql, partitions, groups.scan, groups.label, (files) => compileGroupsWithEvents(dialect, q, marginDays, files));
}


function checkAccounts(dialect: Dialect, partitions: PartitionSpec): void {
  if (dialect.requiresAccounts && partitions.accounts.length === 0) {
    throw new BadInputError('filter.accounts: this trail table is only read for named accounts; name them in filter.accounts', 'filter.accounts');
  }
  // A region the table does not project is never read: naming one would be answered "no calls".
  const outside = dialect.regions ? partitions.regions.filter((r) => !dialect.regions!.includes(r)) : [];
  if (outside.length) {
    throw new BadInputError(`filter.regions: the trail table reads only ${dialect.regions!.join(', ')}; not ${outside.join(', ')} (TRAIL_REGIONS)`, 'filter.regions');
  }
  const unlisted = dialect.accounts ? partitions.accounts.filter((a) => !dialect.accounts!.includes(a)) : [];
  if (unlisted.length) {
    throw new BadInputError(`filter.accounts: the trail table reads only ${dialect.accounts!.join(', ')}; not ${unlisted.join(', ')} (TRAIL_ACCOUNTS)`, 'filter.accounts');
  }
  const first = partitions.days[0];
  if (dialect.firstDay && first !== undefined && first < dialect.firstDay) {
    throw new BadInputError(`filter.from: the trail table begins on ${dialect.firstDay} (TRAIL_START_DATE); a window from ${first} would be answered without the days before it`, 'filter.from');
  }
}

export function compile(dialect: Dialect, plan: QueryPlan, marginDays: number, excludedFiles: readonly string[] = []): CompiledQuery {
  const ctx = new CompileContext(dialect, excludedFiles);
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
  // after its day, up to the window's end plus the margin, and a call's first copy may sit in a
  // folder before the cursor's day while a later copy is after it; the count reads them all.
  const partitions = partitionsFor(plan.scan, marginDays);
  checkAccounts(dialect, partitions);
  if (plan.kind === 'events' && plan.after && plan.withTotal !== undefined) throw new Error('withTotal: a keyset page reads only up to its cursor');
  if (plan.kind === 'aggregate' && plan.perGroup && plan.after) throw new Error('perGroup: first pages only');
  const sql = bounded.kind === 'events' ? compileEvents(ctx, bounded, partitions) : compileAggregate(ctx, bounded, partitions);
  return compiled(ctx, sql, partitions, plan.scan, plan.label, (files) => compile(dialect, plan, marginDays, files));
}

/** A compiled statement, frozen, that can be compiled again without some files (CompiledQuery.excluding). */
function compiled(
  ctx: CompileContext,
  sql: string,
  partitions: PartitionSpec,
  scan: Scan,
  label: string,
  again: (files: readonly string[]) => CompiledQuery,
): CompiledQuery {
  const excluding = (files: readonly string[]) => again([...new Set([...ctx.excludedFiles, ...files])].sort());
  const window = { from: scan.from, to: scan.to };
  return Object.freeze({ sql, params: Object.freeze([...ctx.params]), partitions, window, eventSources: Object.freeze([...scan.eventSources]), label, excluding });
}
