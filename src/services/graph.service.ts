/**
 * Callers, source addresses, actions, activity and IoT Events resources. Nested fields go through
 * per-request DataLoaders: however many parents a page has, each loader runs one grouped query per
 * distinct (filter, window) it is asked for.
 */
import DataLoader from 'dataloader';
import {
  ActionSummaryRecord,
  ActivityBucketRecord,
  ApiCallNode,
  CallerNode,
  CallerStatsRecord,
  SourceIpNode,
  SourceIpStatsRecord,
  Window,
  actionFromRow,
  bucketFromRow,
  callerNodeFromRow,
  callerOfRow,
  callerStatsFromRow,
  emptyCallerStats,
  emptySourceIpStats,
  sourceIpNodeFromRow,
  sourceIpStatsFromRow,
  Usage,
  usageFromRow,
} from '../domain/graph';
import { sourceIpOf } from '../domain/api-call';
import { IOT_EVENTS_ACTIONS } from '../domain/iotevents-actions';
import { callNamesResource } from '../domain/iotevents-resources';
import { Row } from '../query/engine';
import { BadInputError, StaleCursorError, TooComplexError } from '../errors';
import { ACTION_STATS, CALLER_IDENTITY, CALLER_STATS, COUNTS, GROUP_KEYS, GroupKey, NEWEST_FIRST, SOURCE_IP_STATS, TOTAL, totalOf } from '../query/builders';
import { ACTION_KEY, FIELDS, actionOfKey, eventColumns } from '../query/fields';
import { CallFilter } from '../query/filter';
import { checkCallerKey, checkPageSize, checkSourceAddress } from '../query/guards';
import { AggregateQuery, Expr, Interval, OrderItem, Pred, Value, constant } from '../query/plan';
import { compileGroupsWithEvents, groupsWithEventsColumns, taggedRows } from '../query/compiler';
import { Connection, GroupConnection, Reported, TrailService } from './trail.service';
import { MAX_ADDRESS_BUCKETS, SourceKey, byNumber, byText, foldBuckets, sourceKeyOf } from './activity-by-source';
import { NULL_PARENT, NestedKey, byGroup, cacheKeyOf, groupOf, parentIn, parentOf, slices } from './nested-batches';
import { ResourceHistoryRecord, resourceInstances } from './resource-history';

export type CallerOrder = 'CALLS_DESC' | 'ERRORS_DESC' | 'LAST_SEEN_DESC' | 'KEY_ASC';
export type CallerGrouping = 'ARN' | 'PRINCIPAL';

/** A nested calls field of a grouped list's nodes, read ahead (graphql/graph/nested-ahead.ts): a first page over the parent's window. */
export interface NestedCallsAhead {
  readonly first: number | null;
  /** The field asks for totalCount. */
  readonly total: boolean;
  /** Column aliases its page reads. */
  readonly columns: readonly string[];
}

type NestedCallsName = 'caller.calls' | 'principal.calls' | 'sourceIp.calls';
const NESTED_PARENT: Record<NestedCallsName, Expr> = { 'caller.calls': FIELDS.callerKey, 'principal.calls': FIELDS.principal, 'sourceIp.calls': FIELDS.sourceIp };

export interface SourceIpUsage extends Usage {
  /** Null for calls whose record has no source address. */
  sourceIp: SourceIpNode | null;
}
export interface ActionUsage extends Usage {
  action: string | null;
  eventSource: string | null;
}
export interface CallerUsage extends Usage {
  caller: CallerNode;
}

export type { GroupConnection };

const MAX_NESTED = 500;
/** The most changes one resource's history reads, in pages of the largest page size. */
const MAX_RESOURCE_CHANGES = 10_000;

/** The expression a caller node's key is a value of. */
const CALLER_KEY = { caller: FIELDS.callerKey, principal: FIELDS.principal } as const;
const keyOf = (node: CallerNode) => node.keyKind ?? 'caller';
const MAX_BUCKETS = 10_000;

/** What activity may be split by: a grouping key of the trail, or what the databases say of the source address. */
export type ActivityKey = GroupKey | SourceKey;

function checkBuckets(buckets: ActivityBucketRecord[]): ActivityBucketRecord[] {
  if (buckets.length > MAX_BUCKETS) {
    throw new BadInputError(`activity: more than ${MAX_BUCKETS} buckets; use a longer interval, a shorter window or a narrower filter`, 'interval');
  }
  return buckets;
}
/** What a resource's history reads: writes to the resource itself (data-plane batch calls send to its detectors and alarms). */
const WRITE_ACTIONS = IOT_EVENTS_ACTIONS.filter((a) => !a.readOnly && a.plane === 'control').map((a) => a.name);

const ORDERS: Record<CallerOrder, OrderItem[]> = {
  CALLS_DESC: [{ alias: 'calls', dir: 'desc' }],
  ERRORS_DESC: [{ alias: 'errors', dir: 'desc' }],
  LAST_SEEN_DESC: [{ alias: 'last_seen', dir: 'desc' }],
  KEY_ASC: [],
};

/** The full order of a grouped page: the chosen one, then the group key, so ties have one order. */
const orderOf = (order: CallerOrder): OrderItem[] => [...ORDERS[order], { alias: 'group_key', dir: 'asc' }];

/**
 * How many distinct values `e` takes, a null counting as one value (a group of its own): the
 * distinct non-null values plus one when some row has none.
 */
const DISTINCT_KEYS: (e: Expr) => AggregateQuery['measures'] = (e) => [
  { alias: 'keys', m: { k: 'countDistinct', e } },
  { alias: 'null_key', m: { k: 'countDistinct', e: { k: 'case', whens: [[{ k: 'isNull', e }, constant('null')]], otherwise: null } } },
];
const distinctKeysOf = (row: Row | undefined): number => Number(row?.keys ?? 0) + Number(row?.null_key ?? 0);

export class GraphService {
  private readonly loaders: Map<string, DataLoader<NestedKey, unknown, string>> = new Map();

  constructor(private readonly trail: TrailService) {}

  /** One loader per (name), created on first use in this request. */
  private loader<T>(name: string, batch: (keys: readonly NestedKey[]) => Promise<T[]>): DataLoader<NestedKey, T, string> {
    let l = this.loaders.get(name) as DataLoader<NestedKey, T, string> | undefined;
    if (!l) {
      l = new DataLoader<NestedKey, T, string>((keys) => batch(keys), { cacheKeyFn: cacheKeyOf, maxBatchSize: 1000 });
      this.loaders.set(name, l as DataLoader<NestedKey, unknown, string>);
    }
    return l;
  }

  /** Grouped rows for many parents at once: `parent` is the parent's key expression. */
  private async grouped(
    label: string,
    parent: Expr,
    group: NestedKey,
    keys: string[],
    plan: Pick<AggregateQuery, 'groupBy' | 'measures' | 'orderBy' | 'after' | 'perGroup' | 'withTotal'>,
    limit: number,
  ): Promise<Row[]> {
    const { scan, where } = await this.trail.scanFor(group.filter, group.window);
    return this.trail.run({
      kind: 'aggregate',
      label,
      scan,
      where: [...where, parentIn(parent, keys)],
      groupBy: [{ alias: 'parent_key', e: parent }, ...plan.groupBy],
      measures: plan.measures,
      orderBy: plan.orderBy,
      ...(plan.after ? { after: plan.after } : {}),
      ...(plan.perGroup ? { perGroup: plan.perGroup } : {}),
      ...(plan.withTotal !== undefined ? { withTotal: plan.withTotal } : {}),
      limit,
    });
  }

  /**
   * One grouped count per parent, batched: every parent asking with the same filter and window
   * shares one statement (`measures` and `read` say what is counted).
   */
  private nestedCount(name: string, parent: Expr, measures: AggregateQuery['measures'], read: (row: Row | undefined) => number, k: NestedKey): Promise<number> {
    return this.loader<number>(`${name}:count`, async (keys) => {
      const out = new Map<string, Row>();
      for (const { sample, keys: ks } of byGroup(keys).values()) {
        const rows = await this.grouped(`${name.split(':')[0]}.totalCount`, parent, sample, ks, { groupBy: [], measures, orderBy: [] }, ks.length);
        for (const r of rows) out.set(`${parentOf(r)}\u0000${groupOf(sample)}`, r);
      }
      return keys.map((key) => read(out.get(cacheKeyOf(key))));
    }).load({ key: k.key, filter: k.filter, window: k.window });
  }

  // ----- top-level grouped connections -----------------------------------------------------

  private async groupPage<T>(
    name: string,
    keyExpr: Expr,
    measures: AggregateQuery['measures'],
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    order: CallerOrder,
    toNode: (row: Row, window: Window) => T,
    withTotal: boolean,
    wanted?: readonly string[],
    /** The nodes' nested calls field, answered with the page when one statement can (see `withNestedCalls`). */
    nested?: { readonly name: NestedCallsName; readonly ahead: NestedCallsAhead },
    /** Whether the selection reads a cursor. */
    cursors = true,
  ): Promise<GroupConnection<T>> {
    const size = this.trail.pageSize(first);
    const orderBy = orderOf(order);
    // Only the measures the selection reads, and those the order (and so the cursors) needs.
    if (wanted) measures = measures.filter((m) => m.alias === 'calls' || wanted.includes(m.alias) || orderBy.some((o) => o.alias === m.alias));
    const { fp, position, window } = this.trail.pageStart(name, { filter: filter ?? {}, order }, filter, after, orderBy);
    const { scan, where } = await this.trail.scanFor(filter, window);
    const groups: AggregateQuery = { kind: 'aggregate', label: name, scan, where, groupBy: [{ alias: 'group_key', e: keyExpr }], measures, orderBy, limit: size + 1 };
    // Read whole, and every page of the walk cut from that one list (src/query/walks.ts): kept
    // between pages, or read again and taken only when it is the same. With the nodes' calls, a page
    // read here is one statement: the list and the calls of the page's groups.
    // A first page that reads no cursor starts no walk: it is read as a page, not as a list.
    const listMax = position || cursors ? this.trail.wholeGroupListMax() : 0;
    if (listMax > 0) {
      const walk = position?.cursor.w;
      const held = measures.map((m) => m.alias);
      const kept = walk === undefined ? undefined : this.trail.keptWalk(fp, window, walk);
      const keptPage = kept && this.trail.pageOfList(kept.rows, size, position?.cursor, orderBy);
      if (kept && keptPage) {
        this.trail.answeredFromWalk(kept);
        // Measures this page asks that the list's first page did not: counted now, for its groups.
        const missing = measures.filter((m) => !kept.measures.includes(m.alias));
        const rows = missing.length ? await this.withMeasures(name, keyExpr, filter, window, keptPage, missing) : keptPage;
        return this.trail.groupConnectionOf(rows, size, fp, window, orderBy, true, toNode, async () => kept.rows.length, () => walk!);
      }
      const list: AggregateQuery = { ...groups, limit: listMax + 1 };
      const keepable = this.trail.walkKeepable(list);
      // The nested calls of the page's groups (a keyset cut of the list) come with the list.
      const cut = { ...(position ? { after: position.after } : {}), limit: size + 1 };
      const read = (nested && (await this.withNestedCalls(list, window, keyExpr, nested.name, nested.ahead, cut))) ?? (await this.trail.runReported(list));
      const all = read.rows;
      let digest: string | undefined;
      const digestOf = () => (digest ??= this.trail.listDigestOf(all, orderBy));
      // A later page whose list reads otherwise now could meet a group twice or never. (A preview
      // reads nothing: there is no list to compare.)
      const previewed = read.report.outcome === 'not-run';
      if (walk !== undefined && !previewed && (all.length > listMax || digestOf() !== walk)) throw new StaleCursorError(name.split(':')[0]!);
      const page = all.length <= listMax ? this.trail.pageOfList(all, size, position?.cursor, orderBy) : undefined;
      if (page) {
        // Kept once a cursor of the page is read (a selection without cursors cannot go on), when a page follows.
        let keeps = keepable && page.length > size;
        const walkOn = () => {
          if (keeps) this.trail.keepWalk(fp, window, digestOf(), { rows: all, measures: held, query: read.query, unreadable: read.report.unreadable });
          keeps = false;
          return digestOf();
        };
        return this.trail.groupConnectionOf(page, size, fp, window, orderBy, position !== undefined, toNode, async () => all.length, walkOn);
      }
    }
    const page: AggregateQuery = {
      ...groups,
      ...(position ? { after: position.after } : {}),
      // Every page reads the whole window's groups: the count of groups comes with it.
      ...(withTotal ? { withTotal: TOTAL } : {}),
    };
    const rows = (nested && (await this.withNestedCalls(page, window, keyExpr, nested.name, nested.ahead)))?.rows ?? (await this.trail.run(page));
    const totalCount = async () => {
      // No rows after a cursor says nothing of the groups before it: count them on their own.
      if (withTotal && (rows.length > 0 || !position)) return totalOf(rows);
      const counted = await this.trail.run({ kind: 'aggregate', label: `${name.split(':')[0]}.totalCount`, scan, where, groupBy: [], measures: DISTINCT_KEYS(keyExpr), orderBy: [], limit: 1 });
      return distinctKeysOf(counted[0]);
    };
    return this.trail.groupConnectionOf(rows, size, fp, window, orderBy, position !== undefined, toNode, totalCount);
  }

  /**
   * Rows of a page cut from a kept list, with measures the list lacks added: one statement for the
   * page's groups, under the list's filter and window. A group with no call left to count (its
   * files gone) keeps none of them, and its node says 0 or null.
   */
  private async withMeasures(name: string, keyExpr: Expr, filter: CallFilter | null | undefined, window: Window, page: readonly Row[], missing: AggregateQuery['measures']): Promise<Row[]> {
    const keyOf = (r: Row) => (r.group_key === null || r.group_key === undefined ? NULL_PARENT : String(r.group_key));
    const keys = page.map(keyOf);
    const counted = await this.grouped(`${name.split(':')[0]}.measures`, keyExpr, { key: '', filter, window }, keys, { groupBy: [], measures: missing, orderBy: [] }, keys.length);
    const byKey = new Map(counted.map((r) => [parentOf(r), r]));
    return page.map((r) => {
      const extra = byKey.get(keyOf(r));
      return Object.assign({}, r, Object.fromEntries(missing.map((m) => [m.alias, extra?.[m.alias] ?? null])));
    });
  }

  callers(
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    order: CallerOrder,
    grouping: CallerGrouping,
    withTotal = false,
    /** Aliases of the row measures the selection reads; all when omitted. */
    wanted?: readonly string[],
    /** The nodes' nested `calls` field, read ahead. */
    calls?: NestedCallsAhead,
    /** Whether the selection reads a cursor (a page without one cannot be walked on). */
    cursors = true,
  ): Promise<GroupConnection<CallerNode>> {
    const kind = grouping === 'PRINCIPAL' ? 'principal' : 'caller';
    return this.groupPage(
      `callers:${grouping}`,
      CALLER_KEY[kind],
      [...CALLER_STATS, ...CALLER_IDENTITY],
      filter,
      first,
      after,
      order,
      (row, window) => callerNodeFromRow(row, window, kind, filter ?? null),
      withTotal,
      wanted,
      calls && { name: kind === 'principal' ? 'principal.calls' : 'caller.calls', ahead: calls },
      cursors,
    );
  }

  sourceIps(
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    order: CallerOrder,
    withTotal = false,
    wanted?: readonly string[],
    /** The nodes' nested `calls` field, read ahead. */
    calls?: NestedCallsAhead,
    /** Whether the selection reads a cursor (a page without one cannot be walked on). */
    cursors = true,
  ): Promise<GroupConnection<SourceIpNode>> {
    const toNode = (row: Row, window: Window) => sourceIpNodeFromRow(row, window, filter ?? null);
    return this.groupPage('sourceIps', FIELDS.sourceIp, SOURCE_IP_STATS, filter, first, after, order, toNode, withTotal, wanted, calls && { name: 'sourceIp.calls', ahead: calls }, cursors);
  }

  // ----- single lookups --------------------------------------------------------------------

  async caller(key: string, filter: CallFilter | null | undefined, grouping: CallerGrouping = 'ARN'): Promise<CallerNode | null> {
    checkCallerKey(key);
    const window = this.trail.window(filter);
    const kind = grouping === 'PRINCIPAL' ? 'principal' : 'caller';
    const row = await this.loader(`caller:${kind}`, async (keys) => {
      const out = new Map<string, Row>();
      for (const { sample, keys: ks } of byGroup(keys).values()) {
        const rows = await this.grouped('caller', CALLER_KEY[kind], sample, ks, { groupBy: [], measures: [...CALLER_STATS, ...CALLER_IDENTITY], orderBy: [] }, ks.length);
        for (const r of rows) out.set(`${parentOf(r)}\u0000${groupOf(sample)}`, r);
      }
      return keys.map((k) => out.get(cacheKeyOf(k)) ?? null);
    }).load({ key, filter, window });
    return row ? callerNodeFromRow({ ...(row as Row), group_key: key }, window, kind, filter ?? null) : null;
  }

  /** One source address (null: the calls whose record names none) within a window; null when no calls came from it there. */
  async sourceIp(address: string | null, filter: CallFilter | null | undefined): Promise<SourceIpNode | null> {
    checkSourceAddress(address);
    const window = this.trail.window(filter);
    const stats = await this.sourceIpStatsFor({ key: address ?? NULL_PARENT, filter, window });
    if (stats.calls === 0) return null;
    const extra = { window, preloaded: stats, filter: filter ?? null };
    return address === null ? { address, kind: null, ...extra } : sourceIpOf(address, extra);
  }

  // ----- nested fields ---------------------------------------------------------------------

  async callerStats(node: CallerNode, filter: CallFilter | null | undefined): Promise<CallerStatsRecord> {
    if (!filter && node.preloaded) return node.preloaded;
    const k: NestedKey = { key: node.key, filter, window: this.trail.window(filter, node.window) };
    const kind = keyOf(node);
    return this.loader<CallerStatsRecord>(`callerStats:${kind}`, async (keys) => {
      const out = new Map<string, CallerStatsRecord>();
      for (const { sample, keys: ks } of byGroup(keys).values()) {
        const rows = await this.grouped('callerStats', CALLER_KEY[kind], sample, ks, { groupBy: [], measures: CALLER_STATS, orderBy: [] }, ks.length);
        for (const r of rows) out.set(`${parentOf(r)}\u0000${groupOf(sample)}`, callerStatsFromRow(r));
      }
      return keys.map((key) => out.get(cacheKeyOf(key)) ?? emptyCallerStats());
    }).load(k);
  }

  private sourceIpStatsFor(k: NestedKey): Promise<SourceIpStatsRecord> {
    return this.loader<SourceIpStatsRecord>('sourceIpStats', async (keys) => {
      const out = new Map<string, SourceIpStatsRecord>();
      for (const { sample, keys: ks } of byGroup(keys).values()) {
        const rows = await this.grouped('sourceIpStats', FIELDS.sourceIp, sample, ks, { groupBy: [], measures: SOURCE_IP_STATS, orderBy: [] }, ks.length);
        for (const r of rows) out.set(`${parentOf(r)}\u0000${groupOf(sample)}`, sourceIpStatsFromRow(r));
      }
      return keys.map((key) => out.get(cacheKeyOf(key)) ?? emptySourceIpStats());
    }).load(k);
  }

  sourceIpStats(node: SourceIpNode, filter: CallFilter | null | undefined): Promise<SourceIpStatsRecord> {
    if (!filter && node.preloaded) return Promise.resolve(node.preloaded);
    return this.sourceIpStatsFor({ key: node.address ?? NULL_PARENT, filter, window: this.trail.window(filter, node.window) });
  }

  /**
   * A parent's usage broken down by a second key, in `order` (ties by key), as a connection: first
   * pages are batched across parents (one statement per field and order, cut to the page size per
   * parent in the statement), later pages run one statement each. Cursors are bound to the order.
   * With `withTotal`, each parent's count of entries comes with its page.
   */
  private async breakdown<T>(
    name: string,
    parent: Expr,
    child: Expr,
    extra: AggregateQuery['measures'],
    parentKey: string,
    parentWindow: Window,
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    toItem: (row: Row, window: Window) => T,
    withTotal: boolean,
    order: CallerOrder = 'CALLS_DESC',
  ): Promise<GroupConnection<T>> {
    const size = checkPageSize(first, 20, MAX_NESTED);
    const orderBy = orderOf(order);
    // The default order's cursors stay what they were; another order's are bound to it.
    const byDefault = order === 'CALLS_DESC';
    const { fp, position, window } = this.trail.pageStart(name, { filter: filter ?? {}, parent: parentKey, ...(byDefault ? {} : { order }) }, filter, after, orderBy, parentWindow);
    const k: NestedKey = { key: parentKey, filter, window, first: size, ...(withTotal ? { total: true } : {}), ...(byDefault ? {} : { order }) };
    const plan = {
      groupBy: [{ alias: 'group_key', e: child }],
      measures: [...COUNTS, { alias: 'first_seen', m: { k: 'min', e: FIELDS.eventTime } }, { alias: 'last_seen', m: { k: 'max', e: FIELDS.eventTime } }, ...extra] as AggregateQuery['measures'],
      orderBy,
    };
    // The loader's batch is the first caller's: what differs between keys comes from the key (`sample`).
    const counted = (key: NestedKey) => (key.total ? { withTotal: TOTAL } : {});
    const label = name.split(':')[0];
    const rows = position
      ? await this.grouped(label, parent, k, [parentKey], { ...plan, ...counted(k), after: position.after }, size + 1)
      : await this.loader<Row[]>(name, async (keys) => {
          const out = new Map<string, Row[]>();
          for (const { sample, keys: all } of byGroup(keys).values()) {
            const perParent = (sample.first ?? size) + 1;
            for (const ks of slices(all, perParent)) {
              const perGroup = { alias: 'parent_key', limit: perParent };
              for (const r of await this.grouped(label, parent, sample, ks, { ...plan, ...counted(sample), perGroup }, ks.length * perParent)) {
                const id = `${parentOf(r)}\u0000${groupOf(sample)}`;
                out.set(id, [...(out.get(id) ?? []), r]);
              }
            }
          }
          return keys.map((key) => out.get(cacheKeyOf(key)) ?? []);
        }).load(k);
    // A first page without rows: the parent has no entries. No rows after a cursor says nothing of those before it.
    const carried = withTotal && (rows.length > 0 || !position);
    const totalCount = () => (carried ? Promise.resolve(totalOf(rows)) : this.nestedCount(name, parent, DISTINCT_KEYS(child), distinctKeysOf, k));
    return this.trail.groupConnectionOf(rows, size, fp, window, orderBy, position !== undefined, toItem, totalCount);
  }

  callerSourceIps(node: CallerNode, filter: CallFilter | null | undefined, first: number | null | undefined, after: string | null | undefined, withTotal = false): Promise<GroupConnection<SourceIpUsage>> {
    return this.breakdown(`callerSourceIps:${keyOf(node)}`, CALLER_KEY[keyOf(node)], FIELDS.sourceIp, [], node.key, node.window, filter, first, after, (r, window) => {
      const address = r.group_key === null || r.group_key === undefined ? null : String(r.group_key);
      return Object.assign(usageFromRow(r), { sourceIp: address === null ? null : sourceIpOf(address, { window }) });
    }, withTotal);
  }

  callerActions(
    node: CallerNode,
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    order: CallerOrder = 'CALLS_DESC',
    withTotal = false,
  ): Promise<GroupConnection<ActionUsage>> {
    const toItem = (r: Row): ActionUsage => Object.assign(usageFromRow(r), actionOfKey(String(r.group_key)));
    // Grouped by action and event source: cursors of the name-only grouping are another query's.
    return this.breakdown(`callerActions:${keyOf(node)}:bySource`, CALLER_KEY[keyOf(node)], ACTION_KEY, [], node.key, node.window, filter, first, after, toItem, withTotal, order);
  }

  sourceIpCallers(node: SourceIpNode, filter: CallFilter | null | undefined, first: number | null | undefined, after: string | null | undefined, withTotal = false): Promise<GroupConnection<CallerUsage>> {
    return this.breakdown('sourceIpCallers', FIELDS.sourceIp, FIELDS.callerKey, CALLER_IDENTITY, node.address ?? NULL_PARENT, node.window, filter, first, after, (r, window) => {
      return Object.assign(usageFromRow(r), { caller: callerOfRow(r, window) });
    }, withTotal);
  }

  /**
   * A parent's calls: batched across parents for first pages, one query per parent after that.
   * With `withTotal`, a first page's statement also counts each parent's calls.
   */
  async nestedCalls(
    name: NestedCallsName,
    parentKey: string,
    parentWindow: Window,
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    withTotal = false,
    columns?: readonly string[],
  ): Promise<Connection<ApiCallNode>> {
    const parent = NESTED_PARENT[name];
    const extra: Pred[] = [parentIn(parent, [parentKey])];
    if (after !== null && after !== undefined) return this.trail.callsConnection(name, filter, extra, first, after, { key: parentKey, window: parentWindow }, columns);
    const size = this.trail.pageSize(first);
    const k = this.nestedCallsKey(parentKey, parentWindow, filter, size, withTotal, columns);
    const rows = await this.callsLoader(name).load(k);
    const fp = this.trail.fingerprintOf(name, { filter: filter ?? {}, parent: parentKey });
    // A first page without rows: the parent has no calls.
    const totalCount = withTotal ? () => Promise.resolve(totalOf(rows)) : () => this.nestedCallsCount(name, parent, k);
    return this.trail.connectionOf(rows, size, fp, k.window, false, totalCount);
  }

  /** The key a nested calls field's first page is loaded under (its filter, window, size, count and columns). */
  private nestedCallsKey(parentKey: string, parentWindow: Window, filter: CallFilter | null | undefined, size: number, withTotal: boolean, columns?: readonly string[]): NestedKey {
    return {
      key: parentKey,
      filter,
      window: this.trail.window(filter, parentWindow),
      first: size,
      ...(withTotal ? { total: true } : {}),
      ...(columns ? { columns } : {}),
    };
  }

  /** First pages of a nested calls field: one statement per (filter, window, size) for all the parents asking. */
  private callsLoader(name: NestedCallsName): DataLoader<NestedKey, Row[], string> {
    const parent = NESTED_PARENT[name];
    return this.loader<Row[]>(name, async (keys) => {
      const out = new Map<string, Row[]>();
      for (const { sample, keys: all } of byGroup(keys).values()) {
        const { scan, where } = await this.trail.scanFor(sample.filter, sample.window);
        // The page size is part of the group: a batch may hold pages of several sizes.
        const perParent = (sample.first ?? this.trail.pageSize(undefined)) + 1;
        for (const ks of slices(all, perParent)) {
          const rows = await this.trail.run({
            kind: 'events',
            label: name,
            scan,
            where: [...where, parentIn(parent, ks)],
            // Only the columns the selection reads: a wide row costs most on a columnar store.
            select: eventColumns(sample.columns),
            orderBy: NEWEST_FIRST,
            limit: ks.length * perParent,
            perGroup: { alias: 'parent_key', e: parent, limit: perParent },
            ...(sample.total ? { withTotal: TOTAL } : {}),
          });
          for (const r of rows) {
            const id = `${parentOf(r)}\u0000${groupOf(sample)}`;
            out.set(id, [...(out.get(id) ?? []), r]);
          }
        }
      }
      return keys.map((key) => out.get(cacheKeyOf(key)) ?? []);
    });
  }

  /**
   * A page of groups (or a whole list of them, with `cut` saying which are on the page) with the
   * first page of nested calls of each group on the page, from one statement reading the window
   * once (compileGroupsWithEvents); the calls pages are handed to the nested field's loader, so the
   * field runs no statement of its own. Only when the calls are those the groups count: the field's
   * parent is the grouping key, and its scan (the parent's window, no filter of its own) is the
   * page's. Undefined when not (the page is then its own statement, as is the field).
   */
  private async withNestedCalls(
    page: AggregateQuery,
    window: Window,
    keyExpr: Expr,
    name: NestedCallsName,
    ahead: NestedCallsAhead,
    /** The groups whose calls are read, when `page` is a whole list: a page cut from it. */
    cut?: { readonly after?: readonly (Value | null)[]; readonly limit: number },
  ): Promise<Reported | undefined> {
    // Read more than once in the statement, the calls would be read again on an engine inlining them.
    if (!this.trail.deps.dialect.namedSubqueriesOnce) return undefined;
    if (JSON.stringify(NESTED_PARENT[name]) !== JSON.stringify(keyExpr)) return undefined;
    let size: number;
    try {
      size = this.trail.pageSize(ahead.first);
    } catch {
      return undefined; // The field refuses its size itself.
    }
    const keyOf = (parentKey: string) => this.nestedCallsKey(parentKey, window, undefined, size, ahead.total, ahead.columns);
    const sample = keyOf('');
    const own = await this.trail.scanFor(sample.filter, sample.window);
    if (JSON.stringify(own) !== JSON.stringify({ scan: page.scan, where: page.where })) return undefined;
    const query = {
      groups: { ...page, label: `${page.label}+${name}` },
      events: {
        select: eventColumns(ahead.columns),
        orderBy: NEWEST_FIRST,
        perGroup: size + 1,
        parentAlias: 'parent_key',
        ...(ahead.total ? { withTotal: TOTAL } : {}),
        ...(cut ? { page: cut } : {}),
      },
    };
    const read = await this.trail.runCompiledReported(compileGroupsWithEvents(this.trail.deps.dialect, query, this.trail.deps.config.window.deliveryMarginDays));
    const [groups, calls] = taggedRows(groupsWithEventsColumns(query), read.rows);
    const byParent = new Map<string, Row[]>();
    for (const r of calls) byParent.set(parentOf(r), [...(byParent.get(parentOf(r)) ?? []), r]);
    // Every group whose calls were read has some (it counts them): the groups without rows here are
    // those the statement did not read for, and their field asks on its own.
    const loader = this.callsLoader(name);
    for (const [parentKey, rows] of byParent) loader.prime(keyOf(parentKey), rows);
    return { ...read, rows: groups };
  }

  /** A nested calls connection's totalCount: one grouped statement for all parents of a field. */
  nestedCallsCount(name: string, parent: Expr, k: NestedKey): Promise<number> {
    return this.nestedCount(name, parent, [{ alias: 'calls', m: { k: 'count' } }], (row) => Number(row?.calls ?? 0), k);
  }

  // ----- summaries -------------------------------------------------------------------------

  /**
   * Per action and event source, in `order` (ties by action, then event source); `measures`
   * (aliases of ACTION_STATS) limits what is computed: calls and the order's measure always.
   */
  async actions(filter: CallFilter | null | undefined, measures?: readonly string[], order: CallerOrder = 'CALLS_DESC'): Promise<ActionSummaryRecord[]> {
    const window = this.trail.window(filter);
    const { scan, where } = await this.trail.scanFor(filter, window);
    const groupBy = [
      { alias: 'action', e: FIELDS.eventName },
      { alias: 'event_source', e: FIELDS.eventSource },
    ];
    const orderBy: OrderItem[] = [...ORDERS[order], { alias: 'action', dir: 'asc' }, { alias: 'event_source', dir: 'asc' }];
    const wanted = ACTION_STATS.filter((m) => !measures || m.alias === 'calls' || measures.includes(m.alias) || orderBy.some((o) => o.alias === m.alias));
    const summary = await this.trail.run({ kind: 'aggregate', label: 'actions', scan, where, groupBy, measures: wanted, orderBy, limit: 10_000 });
    // Errors by code cost a second query: run once, and only when a client asks for them.
    let byAction: Promise<Map<string, { code: string; calls: number }[]>> | undefined;
    const errorsOf = () =>
      (byAction ??= this.trail
        .run({
          kind: 'aggregate',
          label: 'actionErrors',
          scan,
          where: [...where, { k: 'cond', cond: { k: 'notNull', e: FIELDS.errorCode } }],
          groupBy: [...groupBy, { alias: 'error_code', e: FIELDS.errorCode }],
          measures: [{ alias: 'calls', m: { k: 'count' } }],
          orderBy: [{ alias: 'calls', dir: 'desc' }, { alias: 'error_code', dir: 'asc' }],
          limit: 10_000,
        })
        .then((errors) => {
          const m = new Map<string, { code: string; calls: number }[]>();
          for (const r of errors) {
            const id = JSON.stringify([r.action, r.event_source]);
            m.set(id, [...(m.get(id) ?? []), { code: String(r.error_code), calls: Number(r.calls) }]); // error_code is never NULL here (filtered)
          }
          return m;
        }));
    return summary.map((r) => Object.assign(actionFromRow(r), { window, filter: filter ?? null, errorsByCode: async () => (await errorsOf()).get(JSON.stringify([r.action, r.event_source])) ?? [] }));
  }

  async activity(filter: CallFilter | null | undefined, interval: Interval, groupBy: ActivityKey | null | undefined): Promise<{ window: Window; buckets: ActivityBucketRecord[] }> {
    if (groupBy === 'ASN' || groupBy === 'COUNTRY') return this.activityBySource(filter, interval, groupBy);
    const window = this.trail.window(filter);
    const { scan, where } = await this.trail.scanFor(filter, window);
    const rows = await this.trail.run({
      kind: 'aggregate',
      label: 'activity',
      scan,
      where,
      groupBy: [{ alias: 'bucket', e: { k: 'bucket', interval, of: FIELDS.eventTime } }, ...(groupBy ? [{ alias: 'group_key', e: GROUP_KEYS[groupBy] }] : [])],
      measures: COUNTS,
      orderBy: [{ alias: 'bucket', dir: 'asc' }, ...(groupBy ? [{ alias: 'group_key', dir: 'asc' } as const] : [])],
      limit: MAX_BUCKETS + 1,
    });
    return { window, buckets: checkBuckets(rows.map(bucketFromRow)) };
  }

  /**
   * Activity by AS number or country: the engine counts per bucket and source address, and the
   * counts are folded per key here (exact sums), the addresses looked up offline once each.
   */
  private async activityBySource(filter: CallFilter | null | undefined, interval: Interval, groupBy: SourceKey): Promise<{ window: Window; buckets: ActivityBucketRecord[] }> {
    const window = this.trail.window(filter);
    const { scan, where } = await this.trail.scanFor(filter, window);
    const rows = await this.trail.run({
      kind: 'aggregate',
      label: `activity:${groupBy}`,
      scan,
      where,
      groupBy: [
        { alias: 'bucket', e: { k: 'bucket', interval, of: FIELDS.eventTime } },
        { alias: 'group_key', e: FIELDS.sourceIp },
      ],
      measures: COUNTS,
      orderBy: [{ alias: 'bucket', dir: 'asc' }, { alias: 'group_key', dir: 'asc' }],
      limit: MAX_ADDRESS_BUCKETS + 1,
    });
    if (rows.length > MAX_ADDRESS_BUCKETS) {
      throw new TooComplexError(`activity by ${groupBy}: more than ${MAX_ADDRESS_BUCKETS} (bucket, source address) pairs to fold; use a longer interval, a shorter window or a narrower filter`);
    }
    const keyOfAddress = sourceKeyOf(this.trail.enrichment(), groupBy);
    return { window, buckets: checkBuckets(foldBuckets(rows.map(bucketFromRow), keyOfAddress, groupBy === 'ASN' ? byNumber : byText)) };
  }

  /**
   * The history of a resource name. Names asked with the same filter and window share one
   * statement (the resource name IN the names); when that statement's page is not the whole of
   * every name's history, or the key may not read the request parameters that tell the names
   * apart, each name gets its own statement, so an answer never depends on what it was batched with.
   */
  async resource(name: string, filter: CallFilter | null | undefined): Promise<ResourceHistoryRecord> {
    const window = this.trail.window(filter);
    const changes = await this.loader<ApiCallNode[]>('resource', async (keys) => {
      const out = new Map<string, ApiCallNode[]>();
      for (const { sample, keys: names } of byGroup(keys).values()) {
        const found = names.length > 1 && this.trail.scope.readPayloads ? await this.resourceChanges(names, sample.filter) : undefined;
        for (const n of names) {
          const mine = found ? found.filter((c) => callNamesResource(c, n)) : await this.resourceChanges([n], sample.filter);
          out.set(`${n}\u0000${groupOf(sample)}`, mine ?? []);
        }
      }
      return keys.map((k) => out.get(cacheKeyOf(k)) ?? []);
    }).load({ key: name, filter, window });
    const instances = resourceInstances(name, changes, filter ?? null, window);
    const only = instances.length === 1 ? instances[0] : undefined;
    return {
      name,
      filter: filter ?? null,
      window,
      changes,
      instances,
      created: only?.created ?? null,
      lastUpdated: only?.lastUpdated ?? null,
      deleted: only?.deleted ?? null,
      failedAttempts: changes.filter((c) => c.errorCode !== null),
    };
  }

  /**
   * Write calls naming any of `names`, newest first; undefined when more than one name shares a page
   * that is cut short. One name's history is read whole, page after page (created, deleted and the
   * failed attempts are read from all of it), up to MAX_RESOURCE_CHANGES; a longer one is refused
   * rather than summed from its newest part.
   */
  private async resourceChanges(names: readonly string[], filter: CallFilter | null | undefined): Promise<ApiCallNode[] | undefined> {
    // The writes asked for, of those to the resource itself (never a data-plane batch call).
    const actions = filter?.actions?.length ? filter.actions.filter((a) => WRITE_ACTIONS.includes(a)) : WRITE_ACTIONS;
    // None of them: no change (an empty list would narrow nothing).
    if (actions.length === 0) return [];
    const merged: CallFilter = { ...(filter ?? {}), resourceName: null, resourceNames: names, actions };
    const changes: ApiCallNode[] = [];
    for (let after: string | null = null; ; ) {
      const page = await this.trail.callsConnection('resource', merged, [], this.trail.deps.config.page.maxSize, after);
      if (names.length > 1 && page.pageInfo.hasNextPage) return undefined;
      changes.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return changes;
      if (changes.length >= MAX_RESOURCE_CHANGES) {
        throw new TooComplexError(`resource "${names[0]}": more than ${MAX_RESOURCE_CHANGES} changes in the window; narrow the window or the actions`);
      }
      after = page.pageInfo.endCursor;
    }
  }
}
