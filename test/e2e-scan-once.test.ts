/**
 * A connection's totalCount comes with its first page, and nested lists are cut per parent in SQL,
 * on both dialects (DuckDB, and the Athena compiler's Trino SQL on the Athena-on-DuckDB shim):
 * statements counted, counts checked against a walk, and the per-parent cut checked against
 * fetching every grouped row and cutting it in TypeScript.
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { athenaDialect } from '../src/engines/athena/dialect';
import { COUNTS, TOTAL } from '../src/query/builders';
import { Dialect, compile } from '../src/query/compiler';
import { Row } from '../src/query/engine';
import { FIELDS } from '../src/query/fields';
import { AggregateQuery, Expr, OrderItem, val } from '../src/query/plan';
import { slices } from '../src/services/nested-batches';
import { DialectPair, startDialectPair } from './support/dialect-pair';
import { IOT_EVENT_SOURCES } from './support/plans';
import { TestServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const MARGIN_DAYS = 1;
const DAY = 86_400_000;
const W24 = { from: new Date(SAMPLE_END.getTime() - DAY).toISOString(), to: SAMPLE_END.toISOString() };
/** Longer than two days: a page without its count reads the newest day first. */
const W60 = { from: new Date(SAMPLE_END.getTime() - 2.5 * DAY).toISOString(), to: SAMPLE_END.toISOString() };

let dir: string;
let pair: DialectPair;
let servers: Record<'duckdb' | 'athena', TestServer>;

beforeAll(async () => {
  dir = await sampleTrail(3, { iotEventsPerDay: 60, deliveryMinutes: 60 });
  pair = await startDialectPair(dir, { CACHE_ENABLED: 'false', DELIVERY_MARGIN_DAYS: String(MARGIN_DAYS) });
  servers = { duckdb: pair.duck, athena: pair.athena };
}, 240_000);

afterAll(async () => {
  await pair?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const DIALECTS = ['duckdb', 'athena'] as const;

/** Runs a query on one server; the labels of the statements it ran. */
async function ran(server: TestServer, query: string, variables: Record<string, unknown> = {}) {
  const before = server.engine.executed.length;
  const res = await server.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return { data: res.data, statements: server.engine.executed.slice(before) };
}

/** Every eventId of a window, walked page by page without asking for a count. */
async function walkIds(server: TestServer, filter: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const { data } = await ran(server, `query($f: ApiCallFilter, $a: String) { apiCalls(filter: $f, first: 500, after: $a) { pageInfo { hasNextPage endCursor } edges { node { eventId } } } }`, { f: filter, a: after });
    ids.push(...data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId));
    if (!data.apiCalls.pageInfo.hasNextPage) return ids;
    after = data.apiCalls.pageInfo.endCursor;
  }
  throw new Error('more than 100 pages');
}

describe.each(DIALECTS)('%s: totalCount with the first page', (dialect) => {
  const PAGE = `query($f: ApiCallFilter, $a: String, $n: Int = 7, $o: CallOrder = NEWEST_FIRST) {
    apiCalls(filter: $f, first: $n, after: $a, orderBy: $o) { totalCount pageInfo { endCursor } edges { node { eventId } } } }`;
  const idsOf = (data: { apiCalls: { edges: { node: { eventId: string } }[] } }) => data.apiCalls.edges.map((e) => e.node.eventId);
  const dayOf = (iso: string) => iso.slice(0, 10).replace(/-/g, '/');

  test.each([
    ['24 hours, newest first', W24, 'NEWEST_FIRST'],
    ['60 hours, oldest first', W60, 'OLDEST_FIRST'],
  ])('apiCalls over %s: one statement, reading the whole window, counting what a walk finds', async (_name, window, order) => {
    const server = servers[dialect];
    const { data, statements } = await ran(server, PAGE, { f: window, o: order });
    expect(statements.map((s) => s.label)).toEqual(['apiCalls']);
    // The count is the window's: the statement reads every day folder of it.
    expect(statements[0]!.partitions.days[0]).toBe(dayOf(window.from));
    const ids = await walkIds(server, window);
    expect(new Set(ids).size).toBe(ids.length);
    expect(data.apiCalls.totalCount).toBe(ids.length);
    expect(idsOf(data)).toEqual(order === 'NEWEST_FIRST' ? ids.slice(0, 7) : [...ids].reverse().slice(0, 7));
  });

  test('over 60 hours newest first, a page the newest day fills keeps its one-day statement; the count is its own', async () => {
    const server = servers[dialect];
    const { data, statements } = await ran(server, PAGE, { f: W60 });
    expect(statements.map((s) => s.label).sort()).toEqual(['apiCalls', 'apiCallsCount']);
    const page = statements.find((s) => s.label === 'apiCalls')!;
    expect(page.window.from.getTime()).toBe(SAMPLE_END.getTime() - DAY);
    const ids = await walkIds(server, W60);
    expect(data.apiCalls.totalCount).toBe(ids.length);
    expect(idsOf(data)).toEqual(ids.slice(0, 7));
  });

  test('over 60 hours newest first, a page the newest day cannot fill is read over the window with its count', async () => {
    const server = servers[dialect];
    const { data, statements } = await ran(server, PAGE, { f: W60, n: 500 });
    expect(statements.map((s) => s.label)).toEqual(['apiCalls', 'apiCalls']);
    expect(statements[1]!.partitions.days[0]).toBe(dayOf(W60.from));
    const ids = await walkIds(server, W60);
    expect(data.apiCalls.totalCount).toBe(ids.length);
    expect(idsOf(data)).toEqual(ids.slice(0, 500));
  });

  test('a page without totalCount over a long window still reads the newest day first', async () => {
    const { statements } = await ran(servers[dialect], `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 7) { edges { node { eventId } } } }`, { f: W60 });
    expect(statements).toHaveLength(1);
    expect(statements[0]!.window.from.getTime()).toBe(SAMPLE_END.getTime() - DAY);
  });

  test('totalCount alone reads no page: one count statement, the number a walk finds; its arguments are still checked', async () => {
    const server = servers[dialect];
    const { data, statements } = await ran(server, `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }`, { f: W60 });
    expect(statements.map((s) => s.label)).toEqual(['apiCallsCount']);
    expect(data.apiCalls.totalCount).toBe((await walkIds(server, W60)).length);
    const withInfo = await ran(server, `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount pageInfo { hasNextPage } } }`, { f: W60 });
    expect(withInfo.statements.map((s) => s.label).sort()).toEqual(['apiCalls', 'apiCallsCount']);
    expect(withInfo.data.apiCalls.pageInfo.hasNextPage).toBe(true);
    const before = server.engine.executed.length;
    const bad = await server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1, after: "not-a-cursor") { totalCount } }`, { f: W60 });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(server.engine.executed.length).toBe(before);
  });

  test('after a cursor the count is a statement of its own, and the same number', async () => {
    const server = servers[dialect];
    const first = await ran(server, PAGE, { f: W24 });
    const second = await ran(server, PAGE, { f: W24, a: first.data.apiCalls.pageInfo.endCursor });
    expect(second.statements.map((s) => s.label).sort()).toEqual(['apiCalls', 'apiCallsCount']);
    expect(second.data.apiCalls.totalCount).toBe(first.data.apiCalls.totalCount);
  });

  test('callers and sourceIps: one statement for page and count, the count of every entry', async () => {
    const server = servers[dialect];
    for (const [field, key] of [['callers', 'key'], ['sourceIps', 'address']] as const) {
      const { data, statements } = await ran(server, `query($f: ApiCallFilter) { c: ${field}(filter: $f, first: 3) { totalCount nodes { ${key} } } }`, { f: W24 });
      expect(statements).toHaveLength(1);
      const all = await ran(server, `query($f: ApiCallFilter) { c: ${field}(filter: $f, first: 500) { pageInfo { hasNextPage } nodes { ${key} } } }`, { f: W24 });
      expect(all.data.c.pageInfo.hasNextPage).toBe(false);
      expect(data.c.totalCount).toBe(all.data.c.nodes.length);
    }
  });

  test('nested lists and calls: one statement per field for pages and counts of every parent', async () => {
    const { data, statements } = await ran(
      servers[dialect],
      `query($f: ApiCallFilter) { callers(filter: $f, first: 6) { nodes { key
        calls(first: 2) { totalCount } actions(first: 2) { totalCount nodes { action } } sourceIps(first: 1) { totalCount } } } }`,
      { f: W24 },
    );
    // On DuckDB the callers' page brings their calls (one statement reading the window once); on
    // Athena, which would read the window again for each use of it in one statement, they are two.
    const pages = dialect === 'duckdb' ? ['callers:ARN+caller.calls'] : ['caller.calls', 'callers:ARN'];
    expect(statements.map((s) => s.label).sort()).toEqual(['callerActions', 'callerSourceIps', ...pages].sort());
    // The same counts as the separate count statements give (asked for on a connection without its page's statement).
    for (const node of data.callers.nodes as { key: string; calls: { totalCount: number }; actions: { totalCount: number }; sourceIps: { totalCount: number } }[]) {
      const alone = await ran(servers[dialect], `query($k: String!, $f: ApiCallFilter) { caller(key: $k, filter: $f) { stats { calls distinctActions distinctSourceIps } } }`, { k: node.key, f: W24 });
      expect(node.calls.totalCount).toBe(alone.data.caller.stats.calls);
      expect(node.actions.totalCount).toBe(alone.data.caller.stats.distinctActions);
      expect(node.sourceIps.totalCount).toBe(alone.data.caller.stats.distinctSourceIps);
    }
  });
});

describe('nested lists cut per parent in SQL', () => {
  const COMPILERS: Record<(typeof DIALECTS)[number], Dialect> = {
    duckdb: duckdbDialect,
    athena: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true }),
  };
  const ORDER: OrderItem[] = [
    { alias: 'calls', dir: 'desc' },
    { alias: 'group_key', dir: 'asc' },
  ];
  const BREAKDOWNS: ReadonlyArray<readonly [string, Expr, Expr]> = [
    ['caller -> actions', FIELDS.callerKey, FIELDS.eventName],
    ['caller -> source addresses', FIELDS.callerKey, FIELDS.sourceIp],
    ['source address -> callers', FIELDS.sourceIp, FIELDS.callerKey],
  ];

  async function rows(dialect: (typeof DIALECTS)[number], plan: AggregateQuery): Promise<Row[]> {
    const server = servers[dialect];
    return (await server.engine.execute(compile(COMPILERS[dialect], plan, MARGIN_DAYS))).rows;
  }

  const byParent = (rs: Row[]): Map<string, Row[]> => {
    const out = new Map<string, Row[]>();
    for (const r of rs) out.set(String(r.parent_key), [...(out.get(String(r.parent_key)) ?? []), r]);
    return out;
  };

  let parents: Record<string, string[]>;
  beforeAll(async () => {
    // The busiest parents: those with more entries than a page.
    parents = {};
    for (const [name, parent] of BREAKDOWNS) {
      const plan = planOf(parent, FIELDS.eventName, []);
      const keys = (await rows('duckdb', { ...plan, where: [], groupBy: [{ alias: 'parent_key', e: parent }], orderBy: [{ alias: 'calls', dir: 'desc' }, { alias: 'parent_key', dir: 'asc' }], limit: 12 })).map((r) => r.parent_key);
      parents[name] = keys.filter((k): k is string => typeof k === 'string');
    }
  });

  function planOf(parent: Expr, child: Expr, keys: readonly string[]): AggregateQuery {
    return {
      kind: 'aggregate',
      label: 'breakdown',
      scan: { from: new Date(W24.from), to: new Date(W24.to), eventSources: IOT_EVENT_SOURCES, regions: [], accounts: [] },
      where: [{ k: 'in', e: parent, values: keys.map((k) => val(k)) }],
      groupBy: [
        { alias: 'parent_key', e: parent },
        { alias: 'group_key', e: child },
      ],
      measures: [...COUNTS, { alias: 'first_seen', m: { k: 'min', e: FIELDS.eventTime } }, { alias: 'last_seen', m: { k: 'max', e: FIELDS.eventTime } }],
      orderBy: ORDER,
      limit: 100_000,
    };
  }

  test('per-parent pages and counts equal every grouped row cut in TypeScript, on both dialects', async () => {
    const arbitrary = fc.record({
      breakdown: fc.integer({ min: 0, max: BREAKDOWNS.length - 1 }),
      picks: fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 8 }),
      first: fc.integer({ min: 1, max: 6 }),
    });
    let cutShort = 0;
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ breakdown, picks, first }) => {
        const [name, parent, child] = BREAKDOWNS[breakdown]!;
        const pool = parents[name]!;
        const keys = [...new Set(picks.map((p) => pool[p % pool.length]!))];
        const plan = planOf(parent, child, keys);
        for (const dialect of DIALECTS) {
          // Before: every grouped row, cut to first + 1 per parent here.
          const all = byParent(await rows(dialect, plan));
          // Now: cut in the statement, with each parent's count of entries.
          const cut = await rows(dialect, { ...plan, perGroup: { alias: 'parent_key', limit: first + 1 }, withTotal: TOTAL, limit: keys.length * (first + 1) });
          const got = byParent(cut.map(({ [TOTAL]: _total, ...r }) => r));
          expect([...got.keys()].sort()).toEqual([...all.keys()].sort());
          for (const [key, list] of all) {
            if (list.length > first + 1) cutShort++;
            expect(got.get(key)).toEqual(list.slice(0, first + 1));
            for (const r of cut.filter((x) => String(x.parent_key) === key)) expect(r[TOTAL]).toBe(list.length);
          }
        }
      }),
      // Besides the random runs, each breakdown's busiest parent with pages of one: parents with
      // more entries than their page are then always among the cases.
      { numRuns: 12, examples: BREAKDOWNS.map((_, breakdown) => [{ breakdown, picks: [0], first: 1 }]) },
    );
    // The property says something only if some parents had more entries than their page.
    expect(cutShort).toBeGreaterThan(0);
  });
});

test('a batch of parents too large for one statement is split so each statement fits its LIMIT', () => {
  const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
  const split = slices(keys, 501);
  expect(split.flat()).toEqual(keys);
  for (const ks of split) expect(ks.length * 501).toBeLessThanOrEqual(100_000);
  expect(slices(keys, 3)).toEqual([keys]);
  expect(slices(['a'], 200_000)).toEqual([['a']]);
});
