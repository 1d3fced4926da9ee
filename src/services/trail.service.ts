/**
 * The service layer: what a request may see, which queries answer it, and per-request loaders.
 * Resolvers call it with GraphQL arguments and get domain objects back; it builds plans, applies
 * guards, compiles for the configured engine and runs through the request's QueryRunner.
 */
import DataLoader from 'dataloader';
import { Config } from '../config';
import { ApiCallRecord, PAYLOAD_FIELDS, apiCallFromRow } from '../domain/api-call';
import { iotEventsResourcesOf } from '../domain/iotevents-resources';
import { ApiCallNode, UntimedRecord, nodeOfCall, untimedRecordFromRow } from '../domain/graph';
import { CompiledQuery, Row } from '../query/engine';
import { AddressEnrichment, sharedEnrichment } from '../enrichment';
import { BadInputError, TooComplexError } from '../errors';
import { NEWEST_FIRST, OLDEST_FIRST, TOTAL, totalOf } from '../query/builders';
import { Dialect, compile, compileAggregates, keysetEnd, partRows } from '../query/compiler';
import { CursorCodec, CursorPayload, queryOf } from '../query/cursor';
import { CALL_TIE, EVENT_COLUMNS, FIELDS, eventColumns } from '../query/fields';
import { CallFilter, SourceSelection, validateFilter } from '../query/filter';
import { Scope, Window, applyScope, checkEventId, checkPageSize, resolveWindow } from '../query/guards';

export type { Window };
import { AggregateQuery, AggregatesQuery, EventsQuery, Expr, MAX_BRANCHES, OrderItem, Pred, QueryPlan, Scan, Value, and, or, val } from '../query/plan';
import { QueryReport, QueryRunner } from '../query/runner';
import { KeptList, WalkStore, listDigest, pageAfter, positionOf } from '../query/walks';
import { matchesSelection } from './address-selection';
import { Narrowing, NarrowingKey, branchOf, byFilter, narrowingId } from './narrowings';
import { UNTIMED_FIELDS, UNTIMED_KEY, UNTIMED_ORDER } from './untimed-records';

export interface Edge<T> {
  cursor: string;
  node: T;
}

/** An edge whose cursor is computed the first time it is read, at most once. */
export function lazyEdge<T>(node: T, cursorOf: () => string): Edge<T> {
  let cursor: string | undefined;
  return {
    node,
    get cursor() {
      return (cursor ??= cursorOf());
    },
  };
}

/** Page info whose start and end cursors are the first and last edges' (signed only when read). */
export function lazyPageInfo<T>(edges: readonly Edge<T>[], hasNextPage: boolean, hasPreviousPage: boolean): PageInfo {
  return {
    hasNextPage,
    hasPreviousPage,
    get startCursor() {
      return edges[0]?.cursor ?? null;
    },
    get endCursor() {
      return edges[edges.length - 1]?.cursor ?? null;
    },
  };
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  window: Window;
  /** Runs the count for this connection's filter when a client asks for it. */
  totalCount: () => Promise<number>;
  /** Records of the same filter in the window's day folders whose eventTime cannot be read (never in any window). */
  untimedCount?: () => Promise<number>;
  /** The filter, with the window pinned, that downloads exactly this connection's calls (top-level connections only). */
  downloadFilter?: CallFilter;
}

/** A grouped answer as a Relay connection, keyset-paged on (order value, key). */
export interface GroupConnection<T> extends Connection<T> {
  nodes: T[];
}

/** A statement's rows, the statement, and what its answer says of itself. */
export interface Reported {
  readonly rows: Row[];
  readonly query: CompiledQuery;
  readonly report: QueryReport;
}

/** Shared, long-lived parts; a TrailService is made from them per request. */
export interface ServiceDeps {
  readonly config: Config;
  readonly dialect: Dialect;
  readonly cursors: CursorCodec;
  readonly now?: () => Date;
  /** Lists grouped walks are cut from, kept between their pages (absent: read again every page). */
  readonly walks?: WalkStore;
  /** Whether Event history lacks nothing of what these statements read (absent: nothing to lack). */
  readonly whole?: (statements: readonly CompiledQuery[]) => boolean;
}

/** What names one call: its eventID and time in its account and region. */
const callKey = (eventId: string, time: Date, account: string | null, region: string | null) => JSON.stringify([eventId, time.getTime(), account, region]);

/** How far back from the end of its window a newest-first page looks first (see `newestRows`). */
export const NEWEST_FIRST_MS = 86_400_000;

/** Order of a calls connection. */
export type CallOrder = 'NEWEST_FIRST' | 'OLDEST_FIRST';

export class TrailService {
  private readonly apiCallLoader: DataLoader<{ eventId: string; from: Date; to: Date }, ApiCallRecord | null, string>;
  private readonly narrowedPages = new DataLoader<NarrowingKey, Row[], string>((keys) => this.loadNarrowedPages(keys), {
    cacheKeyFn: (k) => narrowingId(k, k.size),
    maxBatchSize: MAX_BRANCHES,
  });
  private readonly narrowedCounts = new DataLoader<Narrowing, number, string>((keys) => this.loadNarrowedCounts(keys), {
    cacheKeyFn: (k) => narrowingId(k),
    maxBatchSize: MAX_BRANCHES,
  });
  /** The distinct source addresses of a scan, per scan, for this request. */
  private readonly addresses = new Map<string, Promise<string[]>>();

  /** "Now" for this request (`now`). */
  private clock?: Date;

  constructor(
    readonly deps: ServiceDeps,
    readonly runner: QueryRunner,
    readonly scope: Scope,
  ) {
    this.apiCallLoader = new DataLoader((keys) => this.loadApiCalls(keys), {
      cacheKeyFn: (k) => `${k.eventId}|${k.from.toISOString()}|${k.to.toISOString()}`,
      maxBatchSize: 100,
    });
  }

  /**
   * "Now" for this request, read once: every window of one request that ends now (a default one,
   * one given only `from`) ends at the same instant, whichever field resolves it and when.
   */
  now(): Date {
    this.clock ??= this.deps.now?.() ?? new Date();
    return this.clock;
  }

  /** What the offline databases say about source addresses (shared by the process). */
  enrichment(): AddressEnrichment {
    return sharedEnrichment(this.deps.config.enrichment.awsIpRangesFile);
  }

  /**
   * Validated scan and predicates for a filter and window, with the caller's scope applied. A
   * filter by AS number or country first reads the distinct source addresses of the scoped scan
   * (one grouped statement), looks each up offline, and binds the matching ones as values.
   */
  async scanFor(filter: CallFilter | null | undefined, window: Window): Promise<{ scan: Scan; where: Pred[] }> {
    const access = { readPayloads: this.scope.readPayloads };
    const v = validateFilter(filter, this.deps.config.eventSources, access);
    const scan = applyScope(
      { from: window.from, to: window.to, eventSources: v.eventSources, regions: v.regions, accounts: v.accounts },
      this.scope,
    );
    if (!v.needsSources) return { scan, where: v.predicates };
    const known = await this.sourceAddresses(scan);
    const enrichment = this.enrichment();
    const sourcesIn = (s: SourceSelection): string[] => {
      const matched = known.filter((a) => matchesSelection(enrichment.info(a), s));
      const max = this.deps.config.enrichment.maxMatched;
      if (matched.length > max) {
        throw new TooComplexError(`the AS numbers and countries asked match ${matched.length} source addresses in the window; at most ${max} (ENRICHMENT_MAX_MATCHED). Narrow the window or the filter`);
      }
      return matched;
    };
    return { scan, where: validateFilter(filter, this.deps.config.eventSources, { ...access, sourcesIn }).predicates };
  }

  /** The distinct source addresses of a (scoped) scan, in address order; at most ENRICHMENT_MAX_ADDRESSES. */
  sourceAddresses(scan: Scan): Promise<string[]> {
    const key = JSON.stringify(scan);
    const max = this.deps.config.enrichment.maxAddresses;
    let found = this.addresses.get(key);
    if (!found) {
      found = this.run({
        kind: 'aggregate',
        label: 'sourceAddresses',
        scan,
        where: [{ k: 'cond', cond: { k: 'notNull', e: FIELDS.sourceIp } }],
        groupBy: [{ alias: 'source_ip', e: FIELDS.sourceIp }],
        measures: [{ alias: 'calls', m: { k: 'count' } }],
        orderBy: [{ alias: 'source_ip', dir: 'asc' }],
        limit: max + 1,
      }).then((rows) => {
        if (rows.length > max) {
          throw new TooComplexError(`the window holds more than ${max} distinct source addresses to look up for an AS number or country filter (ENRICHMENT_MAX_ADDRESSES); narrow the window, accounts or regions`);
        }
        return rows.map((r) => String(r.source_ip));
      });
      this.addresses.set(key, found);
    }
    return found;
  }

  compile(plan: QueryPlan) {
    return compile(this.deps.dialect, plan, this.deps.config.window.deliveryMarginDays);
  }

  async run(plan: QueryPlan): Promise<Row[]> {
    return this.runner.run(this.compile(plan));
  }

  /** As `run`, with the compiled statement and what its answer says of itself. */
  async runReported(plan: QueryPlan): Promise<Reported> {
    return this.runCompiledReported(this.compile(plan));
  }

  async runCompiledReported(query: CompiledQuery): Promise<Reported> {
    return { ...(await this.runner.runReported(query)), query };
  }

  /**
   * Grouped questions over one scan: one statement reading the events once (compileAggregates),
   * each part's rows as its own statement would return them. A single part is its own statement,
   * and so is each part on an engine that reads a `WITH` subquery again at every use (Trino): the
   * one statement would read the window once per part all the same, and meet the engine's
   * per-query scan limit that many times sooner. With the rows, whether what the statements read
   * was whole: no file left out, and Event history synced over their windows (`ServiceDeps.whole`).
   */
  async runPartsReported(query: AggregatesQuery): Promise<{ rows: Row[][]; whole: boolean }> {
    const { parts, ...common } = query;
    const alone = (part: (typeof parts)[number]) => this.runReported({ kind: 'aggregate', ...common, ...part, where: [...common.where, ...part.where] });
    const separate = parts.length === 1 || !this.deps.dialect.namedSubqueriesOnce;
    const reported = separate
      ? await Promise.all(parts.map(alone))
      : [await this.runCompiledReported(compileAggregates(this.deps.dialect, query, this.deps.config.window.deliveryMarginDays))];
    const rows = separate ? reported.map((r) => r.rows) : partRows(query, reported[0]!.rows);
    const whole = reported.every((r) => !r.report.unreadable?.length) && (this.deps.whole?.(reported.map((r) => r.query)) ?? true);
    return { rows, whole };
  }

  /** A statement compiled from plans whose scans `scanFor` scoped (a combined form), run as every other: cache, budget, cost report. */
  runCompiled(query: CompiledQuery): Promise<Row[]> {
    return this.runner.run(query);
  }

  /** The query a connection's cursors belong to (`queryOf`); a nested connection's binding names its parent (`parent`). */
  fingerprintOf(connection: string, binding: object): string {
    const { parent } = binding as { parent?: unknown };
    return queryOf(connection, { filter: binding, scope: { a: this.scope.accounts, r: this.scope.regions } }, typeof parent === 'string' ? parent : undefined);
  }

  /** A page of calls, newest first, keyset-paged on (eventTime, eventId, account and region). */
  apiCalls(
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    columns?: readonly string[],
    order: CallOrder = 'NEWEST_FIRST',
    withTotal = false,
    /** False when the selection reads no edge, node or page info (only totalCount, say): no page is read. */
    withPage = true,
  ): Promise<Connection<ApiCallNode>> {
    return this.callsConnection('apiCalls', filter, [], first, after, undefined, columns, order, withTotal, withPage);
  }

  /** The window a filter asks for: its own bounds, else the cursor's, else `fallback`, else the default. */
  window(filter: CallFilter | null | undefined, fallback?: Window, path?: string): Window {
    const { config } = this.deps;
    if (!filter?.to && !fallback?.to) this.runner.dependsOnClock();
    return resolveWindow(filter ?? {}, { defaultHours: config.window.defaultHours, maxDays: config.window.maxDays }, this.now(), fallback, path);
  }

  /**
   * A calls connection for `filter` plus fixed extra predicates (a nested connection's parent).
   * `name` and `parentKey` bind cursors to the connection they came from.
   *
   * `withTotal` (the client asked for totalCount): when a first page's statement reads the whole
   * window, it carries the count (`count(*) OVER ()`) instead of a second statement reading the
   * same files. The count never widens what a page reads: a newest-first page the newest day
   * fills (see `newestRows`) keeps its one-day statement and the count its own; a window count
   * over the page's columns gathers every matching row on one worker, which the separate count
   * (a plain aggregate) does not, and would save only the newest day's bytes. A page after a
   * cursor reads only up to its cursor, so its count is a statement of its own too.
   */
  async callsConnection(
    name: string,
    filter: CallFilter | null | undefined,
    extra: Pred[],
    first: number | null | undefined,
    after: string | null | undefined,
    parent?: { key: string; window: Window },
    columns?: readonly string[],
    order: CallOrder = 'NEWEST_FIRST',
    withTotal = false,
    withPage = true,
  ): Promise<Connection<ApiCallNode>> {
    const size = this.pageSize(first);
    // A cursor is bound to its order: a newest-first cursor means nothing oldest first.
    const fp = this.fingerprintOf(name, { filter: filter ?? {}, parent: parent?.key, ...(order === 'OLDEST_FIRST' ? { order } : {}) });
    const cursor = after !== null && after !== undefined ? this.deps.cursors.decode(after, fp) : undefined;
    if (cursor && (cursor.k.length !== 3 || cursor.k.some((v) => typeof v !== 'string'))) {
      throw new BadInputError('invalid cursor: malformed', 'after');
    }
    const window = this.window(filter, cursor ? { from: new Date(cursor.from), to: new Date(cursor.to) } : parent?.window);
    const { scan, where } = await this.scanFor(filter, window);
    // Only the columns the selection needs (event_id and event_time always: cursors and order).
    const select = eventColumns(columns);
    const plan: EventsQuery = {
      kind: 'events',
      label: name,
      scan,
      where: [...where, ...extra],
      select,
      orderBy: order === 'OLDEST_FIRST' ? OLDEST_FIRST : NEWEST_FIRST,
      limit: size + 1,
      ...(cursor ? { after: { time: cursor.k[0] as string, id: cursor.k[1] as string, tie: cursor.k[2] as string } } : {}),
    };
    // The newest-day shortcut holds for newest-first pages only. A page nobody reads is not read:
    // its arguments were checked all the same, and the count is a statement of its own.
    const { rows, counted } = !withPage
      ? { rows: [], counted: false }
      : order === 'OLDEST_FIRST'
        ? await this.wholeRows(plan, withTotal && !cursor)
        : await this.newestRows(plan, withTotal && !cursor);
    const totalCount = counted ? () => Promise.resolve(totalOf(rows)) : () => this.countCalls(scan, [...where, ...extra]);
    const connection = this.connectionOf(rows, size, fp, window, cursor !== undefined, totalCount);
    const withUntimed = { ...connection, untimedCount: () => this.countCalls(scan, [...where, ...extra], true) };
    return extra.length || parent ? withUntimed : { ...withUntimed, downloadFilter: { ...filter, from: window.from, to: window.to } };
  }

  /**
   * The first page of `filter` narrowed by `n.where` to `n.window`, newest first, as
   * `callsConnection` with that parent would answer it (the same cursors, so later pages go there).
   * Every first page and every totalCount asked for in one tick with the same filter is answered
   * by one statement each (branches: one per narrowing), however many narrowings there are.
   */
  async narrowedPage(n: Narrowing, first: number | null | undefined): Promise<Connection<ApiCallNode>> {
    const size = this.pageSize(first);
    const filter = { ...n.filter, from: n.window.from, to: n.window.to };
    const window = this.window(filter);
    const key: NarrowingKey = { ...n, window, size };
    const rows = await this.narrowedPages.load(key);
    const fp = this.fingerprintOf(n.name, { filter, parent: n.key });
    const connection = this.connectionOf(rows, size, fp, window, false, () => this.narrowedCounts.load({ ...n, window }));
    const untimedCount = async () => {
      const { scan, where } = await this.scanFor(filter, window);
      return this.countCalls(scan, [...where, ...n.where], true);
    };
    return { ...connection, untimedCount };
  }

  private async loadNarrowedPages(keys: readonly NarrowingKey[]): Promise<Row[][]> {
    const out = new Map<string, Row[]>();
    for (const g of byFilter(keys)) {
      const size = g.keys[0].size;
      const { scan, where } = await this.scanFor(g.keys[0].filter, g.window);
      const items = g.keys.map(branchOf);
      const rows = await this.run({
        kind: 'events',
        label: `${g.keys[0].name}:batch`,
        scan,
        where: [...where, or(...items)],
        select: EVENT_COLUMNS,
        orderBy: NEWEST_FIRST,
        limit: items.length * (size + 1),
        branches: { alias: 'trailql_branch', items, limit: size + 1 },
      });
      g.keys.forEach((k, i) => out.set(narrowingId(k, size), rows.filter((r) => Number(r.trailql_branch) === i)));
    }
    return keys.map((k) => out.get(narrowingId(k, k.size)) ?? []);
  }

  private async loadNarrowedCounts(keys: readonly Narrowing[]): Promise<number[]> {
    const out = new Map<string, number>();
    for (const g of byFilter(keys)) {
      const { scan, where } = await this.scanFor(g.keys[0].filter, g.window);
      const items = g.keys.map(branchOf);
      const rows = await this.run({
        kind: 'aggregate',
        label: `${g.keys[0].name}.totalCount:batch`,
        scan,
        where: [...where, or(...items)],
        groupBy: [],
        measures: [{ alias: 'calls', m: { k: 'count' } }],
        orderBy: [],
        limit: items.length,
        branches: { alias: 'trailql_branch', items },
      });
      const counts = new Map(rows.map((r) => [Number(r.trailql_branch), Number(r.calls)]));
      g.keys.forEach((k, i) => out.set(narrowingId(k), counts.get(i) ?? 0));
    }
    return keys.map((k) => out.get(narrowingId(k)) ?? 0);
  }

  /**
   * The rows of a newest-first page. When the window (up to the cursor, for a page after one) is
   * longer than two days, its newest day is asked first: every call of that day comes before every
   * older one, so when that day alone fills the page, its rows are the page, read from one day's
   * files (plus the delivery margin) instead of the whole window's. Otherwise the whole window is
   * asked, as if the first try had not happened (with the count, when `count`); a page not full
   * in the newest day pays for one day's reading twice.
   */
  private async newestRows(plan: EventsQuery, count: boolean): Promise<{ rows: Row[]; counted: boolean }> {
    const to = plan.after ? keysetEnd(plan.scan.to, plan.after.time) : plan.scan.to;
    if (to.getTime() - plan.scan.from.getTime() > 2 * NEWEST_FIRST_MS) {
      const newest = await this.run({ ...plan, scan: { ...plan.scan, from: new Date(to.getTime() - NEWEST_FIRST_MS) } });
      if (newest.length >= plan.limit) return { rows: newest, counted: false };
    }
    return this.wholeRows(plan, count);
  }

  /** The rows of a page read over its whole window, with the count of the window when `count`. */
  private async wholeRows(plan: EventsQuery, count: boolean): Promise<{ rows: Row[]; counted: boolean }> {
    return { rows: await this.run(count ? { ...plan, withTotal: TOTAL } : plan), counted: count };
  }

  /**
   * Edges, page info and cursors for rows fetched with one extra row to tell whether more follow.
   * A cursor is signed only when read (an edge's `cursor`, pageInfo's start/end cursor), once.
   */
  connectionOf(rows: Row[], size: number, fp: string, window: Window, hasPrevious: boolean, totalCount: () => Promise<number>): Connection<ApiCallNode> {
    const page = rows.slice(0, size);
    const { cursors } = this.deps;
    const edges = page.map((row) =>
      lazyEdge(nodeOfCall(this.redact(apiCallFromRow(row)), window), () =>
        cursors.encode({ q: fp, from: window.from.getTime(), to: window.to.getTime(), k: [String(row.event_time), String(row.event_id), String(row[CALL_TIE.alias])] }),
      ),
    );
    return {
      edges,
      pageInfo: lazyPageInfo(edges, rows.length > size, hasPrevious),
      window,
      totalCount,
    };
  }

  /**
   * Where a grouped page starts, the one step every grouped connection takes before its plan: the
   * fingerprint its cursors are bound to (`bound`: what they must not be replayed across), the
   * position of `after` checked against the connection and its order, and the window (the
   * cursor's, else the filter's, else `fallback`).
   */
  pageStart(
    name: string,
    bound: object,
    filter: CallFilter | null | undefined,
    after: string | null | undefined,
    order: readonly OrderItem[],
    fallback?: Window,
  ): { fp: string; position?: { cursor: CursorPayload; after: (Value | null)[] }; window: Window } {
    const fp = this.fingerprintOf(name, bound);
    const position = this.groupCursor(after, fp, order);
    const window = this.window(filter, position ? { from: new Date(position.cursor.from), to: new Date(position.cursor.to) } : fallback);
    return { fp, position, window };
  }

  /** A grouped page's cursor, checked against the connection and its order. */
  private groupCursor(after: string | null | undefined, fp: string, order: readonly OrderItem[]): { cursor: CursorPayload; after: (Value | null)[] } | undefined {
    if (after === null || after === undefined) return undefined;
    const cursor = this.deps.cursors.decode(after, fp);
    // Its keys are null, text or finite numbers (CursorCodec.verify): one per order item here.
    if (cursor.k.length !== order.length) throw new BadInputError('invalid cursor: malformed', 'after');
    return { cursor, after: cursor.k.map((v) => (v === null ? null : val(v))) };
  }

  /**
   * Edges, nodes and page info of grouped rows fetched with one extra row; cursors signed only when
   * read, as `connectionOf`'s. `walk`: the digest of the list the rows were cut from, for cursors.
   */
  groupConnectionOf<T>(
    rows: readonly Row[],
    size: number,
    fp: string,
    window: Window,
    order: readonly OrderItem[],
    hasPrevious: boolean,
    toNode: (row: Row, window: Window) => T,
    totalCount: () => Promise<number>,
    walk?: () => string,
  ): GroupConnection<T> {
    const cursor = (r: Row) => ({ q: fp, from: window.from.getTime(), to: window.to.getTime(), k: positionOf(r, order), ...(walk ? { w: walk() } : {}) });
    const edges = rows.slice(0, size).map((r) => lazyEdge(toNode(r, window), () => this.deps.cursors.encode(cursor(r))));
    return {
      edges,
      nodes: edges.map((e) => e.node),
      pageInfo: lazyPageInfo(edges, rows.length > size, hasPrevious),
      window,
      totalCount,
    };
  }

  /**
   * How many groups a grouped connection reads whole, in one statement, its pages cut from that
   * list (CACHE_GROUP_LIST_MAX; 0: by keyset): src/query/walks.ts says why.
   */
  wholeGroupListMax(): number {
    return this.deps.config.cache.groupListMax;
  }

  private walkKey(fp: string, window: Window, digest: string): string {
    return JSON.stringify([this.scope.principal, fp, window.from.getTime(), window.to.getTime(), digest]);
  }

  /** The list a walk's first page was cut from (`digest`, from its cursor), when this process still keeps it. */
  keptWalk(fp: string, window: Window, digest: string): KeptList | undefined {
    return this.deps.walks?.get(this.walkKey(fp, window, digest));
  }

  /** A page is cut from a kept list: the request reports the list's statement as answered from where it was kept. */
  answeredFromWalk(kept: KeptList): void {
    this.runner.answeredFromWalk(kept.query, kept.rows.length, kept.unreadable);
  }

  /**
   * Whether the list `plan` reads may be kept for its walk: asked before it is read, since Event
   * history catching up while it is read would otherwise go unseen (WalkStoreOptions.whole).
   */
  walkKeepable(plan: QueryPlan): boolean {
    return this.deps.walks?.keepable(() => this.compile(plan)) ?? false;
  }

  /** Keeps a list a walk goes on with (WALK_KEEP_SECONDS). */
  keepWalk(fp: string, window: Window, digest: string, list: KeptList): void {
    this.deps.walks?.set(this.walkKey(fp, window, digest), list);
  }

  /** Digest of a whole ordered list of groups, for cursors (src/query/walks.ts). */
  listDigestOf(all: readonly Row[], order: readonly OrderItem[]): string {
    return listDigest(all.map((r) => positionOf(r, order)));
  }

  /** A page cut from the whole ordered list of groups after the cursor's position (walks.ts `pageAfter`); undefined when the list is another. */
  pageOfList(all: readonly Row[], size: number, cursor: CursorPayload | undefined, order: readonly OrderItem[]): readonly Row[] | undefined {
    return pageAfter(all, size, cursor?.k, order);
  }

  pageSize(first: number | null | undefined): number {
    return checkPageSize(first, this.deps.config.page.defaultSize, this.deps.config.page.maxSize);
  }

  /** Calls in the window, or (`untimed`) records of its day folders whose eventTime cannot be read. */
  async countCalls(scan: Scan, where: Pred[], untimed = false): Promise<number> {
    const plan: AggregateQuery = {
      kind: 'aggregate',
      label: untimed ? 'untimedCount' : 'apiCallsCount',
      scan,
      where,
      groupBy: [],
      measures: [{ alias: 'calls', m: { k: 'count' } }],
      orderBy: [],
      limit: 1,
      ...(untimed ? { untimed } : {}),
    };
    const rows = await this.run(plan);
    return Number(rows[0]?.calls ?? 0);
  }

  /**
   * Records of the window's day folders whose eventTime cannot be read, matching the filter's other
   * conditions, under the caller's scope: by delivery file, then eventId, account and region,
   * keyset-paged like every connection. `totalCount` is `apiCalls.untimedRecords`.
   */
  async untimedRecords(filter: CallFilter | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<GroupConnection<UntimedRecord>> {
    const size = this.pageSize(first);
    const { fp, position, window } = this.pageStart('untimedRecords', { filter: filter ?? {} }, filter, after, UNTIMED_ORDER);
    const { scan, where } = await this.scanFor(filter, window);
    const rows = await this.run({
      kind: 'aggregate',
      label: 'untimedRecords',
      scan,
      where,
      groupBy: UNTIMED_KEY,
      measures: UNTIMED_FIELDS,
      orderBy: UNTIMED_ORDER,
      limit: size + 1,
      untimed: true,
      ...(position ? { after: position.after } : {}),
    });
    return this.groupConnectionOf(rows, size, fp, window, UNTIMED_ORDER, position !== undefined, untimedRecordFromRow, () => this.countCalls(scan, where, true));
  }

  /** One call by eventId within a window (lookups are bounded in time like everything else). */
  async apiCall(eventId: string, input: { from?: Date | null; to?: Date | null }): Promise<ApiCallNode | null> {
    checkEventId(eventId);
    const window = this.window(input, undefined, '');
    const call = await this.apiCallLoader.load({ eventId, from: window.from, to: window.to });
    return call && nodeOfCall(call, window);
  }

  /** Batch for apiCall: one query per distinct window, whatever the number of ids. */
  private async loadApiCalls(keys: readonly { eventId: string; from: Date; to: Date }[]): Promise<(ApiCallRecord | null)[]> {
    const byWindow = new Map<string, { window: Window; ids: string[] }>();
    for (const k of keys) {
      const w = `${k.from.toISOString()}|${k.to.toISOString()}`;
      const group = byWindow.get(w) ?? { window: { from: k.from, to: k.to }, ids: [] };
      group.ids.push(k.eventId);
      byWindow.set(w, group);
    }
    const found = new Map<string, ApiCallRecord>();
    for (const [w, { window, ids }] of byWindow) {
      const { scan, where } = await this.scanFor({}, window);
      const plan: EventsQuery = {
        kind: 'events',
        label: 'apiCall',
        scan,
        where: [...where, { k: 'in', e: FIELDS.eventId, values: [...new Set(ids)].map((id) => val(id)) }],
        select: EVENT_COLUMNS,
        orderBy: NEWEST_FIRST,
        // One call per id: the same eventID may be a call of several accounts and regions, and
        // those must not take another id's place. Of them, the first in the calls' order.
        perGroup: { alias: 'lookup_id', e: FIELDS.eventId, limit: 1 },
        limit: ids.length,
      };
      for (const row of await this.run(plan)) found.set(`${row.event_id}|${w}`, this.redact(apiCallFromRow(row)));
    }
    return keys.map((k) => found.get(`${k.eventId}|${k.from.toISOString()}|${k.to.toISOString()}`) ?? null);
  }

  /**
   * Calls by eventId and exact eventTime (what a global id names). Batched: the times are sorted
   * and cut into stretches of at most a day, and each stretch is one statement over its own
   * window, so ids from one page cost one statement and far-apart ids do not read the days between.
   * `window` is the window its nested fields (caller, sourceIp) cover: the one of the list it came from.
   */
  callAt(eventId: string, time: Date, window: Window, account: string | null, region: string | null): Promise<ApiCallNode | null> {
    return this.callAtLoader.load({ eventId, time, window, account, region });
  }

  private readonly callAtLoader = new DataLoader<{ eventId: string; time: Date; window: Window; account: string | null; region: string | null }, ApiCallNode | null, string>(
    async (keys) => {
      const sorted = [...keys].sort((a, b) => a.time.getTime() - b.time.getTime());
      const stretches: { eventId: string; time: Date; account: string | null; region: string | null }[][] = [];
      for (const k of sorted) {
        const last = stretches[stretches.length - 1];
        if (last && k.time.getTime() - last[0].time.getTime() < NEWEST_FIRST_MS) last.push(k);
        else stretches.push([k]);
      }
      const found = new Map<string, ApiCallRecord>();
      for (const stretch of stretches) {
        // Statements bound windows to whole seconds, as CloudTrail writes eventTime.
        const window = { from: new Date(Math.floor(stretch[0].time.getTime() / 1000) * 1000), to: new Date(Math.floor(stretch[stretch.length - 1].time.getTime() / 1000) * 1000 + 1000) };
        // A table read only for named accounts (Athena, organization trail, accounts injected) is
        // read for the accounts the ids name: an id carries its call's account. There, an id with
        // no account names no call the table can be read for: it is not found.
        const byAccount = this.deps.dialect.requiresAccounts;
        const asked = byAccount ? stretch.filter((k) => k.account !== null) : stretch;
        if (asked.length === 0) continue;
        const { scan, where } = await this.scanFor(byAccount ? { accounts: [...new Set(asked.map((k) => k.account as string))] } : {}, window);
        // A call is its eventID in its account and region (the dedup key): the same eventID in
        // another account or region is another call, and must not take this one's place.
        const named = new Map(asked.map((k) => [callKey(k.eventId, k.time, k.account, k.region), k]));
        const is = (e: Expr, v: string | null): Pred => (v === null ? { k: 'cond', cond: { k: 'isNull', e } } : { k: 'in', e, values: [val(v)] });
        const rows = await this.run({
          kind: 'events',
          label: 'node:ApiCall',
          scan,
          where: [
            ...where,
            { k: 'in', e: FIELDS.eventId, values: [...new Set(asked.map((k) => k.eventId))].map((id) => val(id)) },
            or(...[...named.values()].map((k) => and({ k: 'in', e: FIELDS.eventId, values: [val(k.eventId)] }, is(FIELDS.account, k.account), is(FIELDS.region, k.region)))),
          ],
          select: EVENT_COLUMNS,
          orderBy: NEWEST_FIRST,
          limit: named.size,
        });
        for (const row of rows) {
          const call = this.redact(apiCallFromRow(row));
          found.set(callKey(call.eventId, call.eventTime, call.account, call.region), call);
        }
      }
      return keys.map((k) => {
        const call = found.get(callKey(k.eventId, k.time, k.account, k.region));
        if (!call) return null;
        return nodeOfCall(call, k.window);
      });
    },
    { cacheKeyFn: (k) => `${callKey(k.eventId, k.time, k.account, k.region)}|${k.window.from.getTime()}|${k.window.to.getTime()}`, maxBatchSize: 100 },
  );

  /** Payload fields are withheld from keys whose scope does not include them. */
  redact(call: ApiCallRecord): ApiCallRecord {
    if (this.scope.readPayloads) return call;
    // Resource names stay visible: they are read before the parameters that hold them are withheld.
    const redacted: ApiCallRecord = { ...call, namedResources: iotEventsResourcesOf(call) };
    for (const field of PAYLOAD_FIELDS) redacted[field] = null;
    return redacted;
  }
}


