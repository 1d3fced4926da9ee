/**
 * The service layer: what a request may see, which queries answer it, and per-request loaders.
 * Resolvers call it with GraphQL arguments and get domain objects back; it builds plans, applies
 * guards, compiles for the configured engine and runs through the request's QueryRunner.
 */
import DataLoader from 'dataloader';
import { Config } from '../config';
import { ApiCallRecord, PAYLOAD_FIELDS, apiCallFromRow } from '../domain/api-call';
import { ApiCallNode, nodeOfCall } from '../domain/graph';
import { Row } from '../query/engine';
import { BadInputError } from '../errors';
import { NEWEST_FIRST } from '../query/builders';
import { Dialect, compile, keysetEnd } from '../query/compiler';
import { CursorCodec, fingerprint } from '../query/cursor';
import { EVENT_COLUMNS, FIELDS } from '../query/fields';
import { CallFilter, validateFilter } from '../query/filter';
import { Scope, Window, applyScope, checkPageSize, resolveWindow } from '../query/guards';

export type { Window };
import { AggregateQuery, EventsQuery, Pred, QueryPlan, Scan, val } from '../query/plan';
import { QueryRunner } from '../query/runner';

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

/** Shared, long-lived parts; a TrailService is made from them per request. */
export interface ServiceDeps {
  readonly config: Config;
  readonly dialect: Dialect;
  readonly cursors: CursorCodec;
  readonly now?: () => Date;
}

/** How far back from the end of its window a newest-first page looks first (see `newestRows`). */
export const NEWEST_FIRST_MS = 86_400_000;

/** Order of a calls connection. */
export type CallOrder = 'NEWEST_FIRST' | 'OLDEST_FIRST';

const OLDEST_ORDER = [
  { alias: 'event_time', dir: 'asc' },
  { alias: 'event_id', dir: 'asc' },
] as const;

export class TrailService {
  private readonly apiCallLoader: DataLoader<{ eventId: string; from: Date; to: Date }, ApiCallRecord | null, string>;

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

  now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Validated scan and predicates for a filter and window, with the caller's scope applied. */
  scanFor(filter: CallFilter | null | undefined, window: Window): { scan: Scan; where: Pred[] } {
    const v = validateFilter(filter, this.deps.config.eventSources, { readPayloads: this.scope.readPayloads });
    const scan = applyScope(
      { from: window.from, to: window.to, eventSources: v.eventSources, regions: v.regions, accounts: v.accounts },
      this.scope,
    );
    return { scan, where: v.predicates };
  }

  compile(plan: QueryPlan) {
    return compile(this.deps.dialect, plan, this.deps.config.window.deliveryMarginDays);
  }

  async run(plan: QueryPlan): Promise<Row[]> {
    return this.runner.run(this.compile(plan));
  }

  fingerprintOf(connection: string, filter: unknown): string {
    return fingerprint({ connection, filter, scope: { a: this.scope.accounts, r: this.scope.regions } });
  }

  /** A page of calls, newest first, keyset-paged on (eventTime, eventId). */
  apiCalls(
    filter: CallFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
    columns?: readonly string[],
    order: CallOrder = 'NEWEST_FIRST',
  ): Promise<Connection<ApiCallNode>> {
    return this.callsConnection('apiCalls', filter, [], first, after, undefined, columns, order);
  }

  /** The window a filter asks for: its own bounds, else the cursor's, else `fallback`, else the default. */
  window(filter: CallFilter | null | undefined, fallback?: Window, path?: string): Window {
    const { config } = this.deps;
    return resolveWindow(filter ?? {}, { defaultHours: config.window.defaultHours, maxDays: config.window.maxDays }, this.now(), fallback, path);
  }

  /**
   * A calls connection for `filter` plus fixed extra predicates (a nested connection's parent).
   * `name` and `parentKey` bind cursors to the connection they came from.
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
  ): Promise<Connection<ApiCallNode>> {
    const size = this.pageSize(first);
    // A cursor is bound to its order: a newest-first cursor means nothing oldest first.
    const fp = this.fingerprintOf(name, { filter: filter ?? {}, parent: parent?.key, ...(order === 'OLDEST_FIRST' ? { order } : {}) });
    const cursor = after !== null && after !== undefined ? this.deps.cursors.decode(after, fp) : undefined;
    if (cursor && (cursor.k.length !== 2 || typeof cursor.k[0] !== 'string' || typeof cursor.k[1] !== 'string')) {
      throw new BadInputError('invalid cursor: malformed', 'after');
    }
    const window = this.window(filter, cursor ? { from: new Date(cursor.from), to: new Date(cursor.to) } : parent?.window);
    const { scan, where } = this.scanFor(filter, window);
    // Only the columns the selection needs (event_id and event_time always: cursors and order).
    const select = columns ? EVENT_COLUMNS.filter((c) => columns.includes(c.alias)) : EVENT_COLUMNS;
    const plan: EventsQuery = {
      kind: 'events',
      label: name,
      scan,
      where: [...where, ...extra],
      select,
      orderBy: order === 'OLDEST_FIRST' ? OLDEST_ORDER : NEWEST_FIRST,
      limit: size + 1,
      ...(cursor ? { after: { time: cursor.k[0] as string, id: cursor.k[1] as string } } : {}),
    };
    // The newest-day shortcut holds for newest-first pages only.
    const rows = order === 'OLDEST_FIRST' ? await this.run(plan) : await this.newestRows(plan);
    const connection = this.connectionOf(rows, size, fp, window, cursor !== undefined, () => this.countCalls(scan, [...where, ...extra]));
    const withUntimed = { ...connection, untimedCount: () => this.countCalls(scan, [...where, ...extra], true) };
    return extra.length || parent ? withUntimed : { ...withUntimed, downloadFilter: { ...filter, from: window.from, to: window.to } };
  }

  /**
   * The rows of a newest-first page. When the window (up to the cursor, for a page after one) is
   * longer than two days, its newest day is asked first: every call of that day comes before every
   * older one, so when that day alone fills the page, its rows are the page, read from one day's
   * files (plus the delivery margin) instead of the whole window's. Otherwise the whole window is
   * asked, as if the first try had not happened; a page not full in the newest day pays for one
   * day's reading twice.
   */
  private async newestRows(plan: EventsQuery): Promise<Row[]> {
    const to = plan.after ? keysetEnd(plan.scan.to, plan.after.time) : plan.scan.to;
    if (to.getTime() - plan.scan.from.getTime() <= 2 * NEWEST_FIRST_MS) return this.run(plan);
    const newest = await this.run({ ...plan, scan: { ...plan.scan, from: new Date(to.getTime() - NEWEST_FIRST_MS) } });
    return newest.length >= plan.limit ? newest : this.run(plan);
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
        cursors.encode({ q: fp, from: window.from.getTime(), to: window.to.getTime(), k: [String(row.event_time), String(row.event_id)] }),
      ),
    );
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > size,
        hasPreviousPage: hasPrevious,
        get startCursor() {
          return edges[0]?.cursor ?? null;
        },
        get endCursor() {
          return edges[edges.length - 1]?.cursor ?? null;
        },
      },
      window,
      totalCount,
    };
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

  /** One call by eventId within a window (lookups are bounded in time like everything else). */
  async apiCall(eventId: string, input: { from?: Date | null; to?: Date | null }): Promise<ApiCallNode | null> {
    if (!/^[A-Za-z0-9-]{1,128}$/.test(eventId)) throw new BadInputError('eventId: not an event id', 'eventId');
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
      const { scan, where } = this.scanFor({}, window);
      const plan: EventsQuery = {
        kind: 'events',
        label: 'apiCall',
        scan,
        where: [...where, { k: 'in', e: FIELDS.eventId, values: [...new Set(ids)].map((id) => val(id)) }],
        select: EVENT_COLUMNS,
        orderBy: NEWEST_FIRST,
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
  callAt(eventId: string, time: Date, window: Window): Promise<ApiCallNode | null> {
    return this.callAtLoader.load({ eventId, time, window });
  }

  private readonly callAtLoader = new DataLoader<{ eventId: string; time: Date; window: Window }, ApiCallNode | null, string>(
    async (keys) => {
      const sorted = [...keys].sort((a, b) => a.time.getTime() - b.time.getTime());
      const stretches: { eventId: string; time: Date }[][] = [];
      for (const k of sorted) {
        const last = stretches[stretches.length - 1];
        if (last && k.time.getTime() - last[0].time.getTime() < NEWEST_FIRST_MS) last.push(k);
        else stretches.push([k]);
      }
      const found = new Map<string, ApiCallRecord>();
      for (const stretch of stretches) {
        // Statements bound windows to whole seconds, as CloudTrail writes eventTime.
        const window = { from: new Date(Math.floor(stretch[0].time.getTime() / 1000) * 1000), to: new Date(Math.floor(stretch[stretch.length - 1].time.getTime() / 1000) * 1000 + 1000) };
        const { scan, where } = this.scanFor({}, window);
        const ids = [...new Set(stretch.map((k) => k.eventId))];
        const rows = await this.run({
          kind: 'events',
          label: 'node:ApiCall',
          scan,
          where: [...where, { k: 'in', e: FIELDS.eventId, values: ids.map((id) => val(id)) }],
          select: EVENT_COLUMNS,
          orderBy: NEWEST_FIRST,
          limit: ids.length,
        });
        for (const row of rows) {
          const call = this.redact(apiCallFromRow(row));
          found.set(`${call.eventId}|${call.eventTime.getTime()}`, call);
        }
      }
      return keys.map((k) => {
        const call = found.get(`${k.eventId}|${k.time.getTime()}`);
        if (!call) return null;
        return nodeOfCall(call, k.window);
      });
    },
    { cacheKeyFn: (k) => `${k.eventId}|${k.time.getTime()}|${k.window.from.getTime()}|${k.window.to.getTime()}`, maxBatchSize: 100 },
  );

  /** Payload fields are withheld from keys whose scope does not include them. */
  redact(call: ApiCallRecord): ApiCallRecord {
    if (this.scope.readPayloads) return call;
    const redacted: ApiCallRecord = { ...call };
    for (const field of PAYLOAD_FIELDS) redacted[field] = null;
    return redacted;
  }
}


