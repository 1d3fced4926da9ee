/**
 * Grouped answers as Relay connections: every walk of `callers`, `sourceIps` and the nested lists
 * (page by page, through `after`) returns each entry exactly once, in the order of one big page,
 * as many as `totalCount` says; nested totalCounts are one grouped query per field, however many
 * parents ask.
 */
import { IOT_SOURCES, RawRecord, callerKeyOf, dedupe, groupBy, inWindow, readRecords } from './support/records';
import { TestServer } from './support/server';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const FROM = new Date(SAMPLE_END.getTime() - 20 * 3_600_000);
const W = { from: FROM.toISOString(), to: SAMPLE_END.toISOString() };

let server: TestServer;
let all: RawRecord[];

const sample = useSampleServer(1, { iotEventsPerDay: 120, deliveryMinutes: 60 });

beforeAll(() => {
  server = sample.server;
  all = dedupe(readRecords(sample.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, FROM, SAMPLE_END));
});

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await server.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return res;
}

interface Page<T> {
  totalCount: number;
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
}

/** Walks a connection `size` at a time; `pick` finds it in the answer. */
async function walk<T>(query: string, variables: Record<string, unknown>, size: number, pick: (data: any) => Page<T>): Promise<{ nodes: T[]; totals: number[]; pages: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const nodes: T[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  for (let pages = 1; pages <= 200; pages++) {
    const page = pick((await gql(query, { ...variables, first: size, after })).data);
    expect(page.nodes).toEqual(page.edges.map((e) => e.node));
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(page.edges.length).toBeLessThanOrEqual(size);
    nodes.push(...page.nodes);
    totals.push(page.totalCount);
    if (!page.pageInfo.hasNextPage) return { nodes, totals, pages };
    expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1].cursor);
    after = page.pageInfo.endCursor;
  }
  throw new Error('more than 200 pages');
}

const CONN = '{ totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { KEY } } nodes { KEY } }';
const conn = (key: string) => CONN.replace(/KEY/g, key);

describe('top-level connections', () => {
  const ORDERS = ['CALLS_DESC', 'ERRORS_DESC', 'LAST_SEEN_DESC', 'KEY_ASC'];

  test.each([...ORDERS.map((o) => [o, 'ARN']), ['CALLS_DESC', 'PRINCIPAL']])('callers ordered by %s, grouped by %s: every caller once, in order', async (orderBy, grouping) => {
    const q = `query($f: ApiCallFilter, $first: Int, $after: String) { callers(filter: $f, first: $first, after: $after, orderBy: ${orderBy}, groupBy: ${grouping}) ${conn('key')} }`;
    const one = (await gql(q, { f: W, first: 500, after: null })).data.callers as Page<{ key: string }>;
    const { nodes, totals, pages } = await walk<{ key: string }>(q, { f: W }, Math.max(3, Math.ceil(one.totalCount / 5)), (d) => d.callers);
    expect(pages).toBeGreaterThan(2);
    expect(nodes).toEqual(one.nodes);
    expect(new Set(nodes.map((n) => n.key)).size).toBe(nodes.length);
    expect(totals.every((t) => t === nodes.length)).toBe(true);
    if (grouping === 'ARN') expect(nodes.length).toBe(groupBy(all, callerKeyOf).size);
  });

  test.each(['CALLS_DESC', 'LAST_SEEN_DESC'])('sourceIps ordered by %s: every address once, in order', async (orderBy) => {
    const q = `query($f: ApiCallFilter, $first: Int, $after: String) { sourceIps(filter: $f, first: $first, after: $after, orderBy: ${orderBy}) ${conn('address')} }`;
    const one = (await gql(q, { f: W, first: 500, after: null })).data.sourceIps as Page<{ address: string }>;
    // About five pages, whatever the number of addresses: each page is a query.
    const { nodes, totals, pages } = await walk(q, { f: W }, Math.max(3, Math.ceil(one.totalCount / 5)), (d) => d.sourceIps);
    expect(pages).toBeGreaterThan(2);
    expect(nodes).toEqual(one.nodes);
    expect(nodes.length).toBe(groupBy(all, (r) => r.sourceIPAddress).size);
    expect(totals.every((t) => t === nodes.length)).toBe(true);
  });

  test('a cursor of one connection is refused by another', async () => {
    const ips = (await gql(`query($f: ApiCallFilter) { sourceIps(filter: $f, first: 1) { pageInfo { endCursor } } }`, { f: W })).data.sourceIps;
    const res = await server.gql(`query($f: ApiCallFilter, $a: String) { callers(filter: $f, first: 1, after: $a) { nodes { key } } }`, { f: W, a: ips.pageInfo.endCursor });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('nested connections', () => {
  const busiest = (key: (r: RawRecord) => string | null | undefined) => [...groupBy(all, key).entries()].sort((a, b) => b[1].length - a[1].length)[0];

  test('Caller.sourceIps and Caller.actions walk every entry once', async () => {
    const [key, rs] = busiest(callerKeyOf);
    const ips = `query($k: String!, $f: ApiCallFilter, $first: Int, $after: String) { caller(key: $k, filter: $f) { sourceIps(first: $first, after: $after) ${conn('sourceIp { address } calls')} } }`;
    const byIp = groupBy(rs, (r) => r.sourceIPAddress);
    const walkedIps = await walk(ips, { k: key, f: W }, Math.max(1, Math.ceil(byIp.size / 5)), (d) => d.caller.sourceIps);
    expect(walkedIps.pages).toBeGreaterThan(1);
    expect(walkedIps.nodes.map((n: any) => n.sourceIp.address).sort()).toEqual([...byIp.keys()].sort()); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(walkedIps.totals.every((t) => t === byIp.size)).toBe(true);

    const actions = `query($k: String!, $f: ApiCallFilter, $first: Int, $after: String) { caller(key: $k, filter: $f) { actions(first: $first, after: $after) ${conn('action calls')} } }`;
    const walkedActions = await walk(actions, { k: key, f: W }, 2, (d) => d.caller.actions);
    const byAction = [...groupBy(rs, (r) => r.eventName).entries()].map(([action, x]) => ({ action, calls: x.length })).sort((a, b) => b.calls - a.calls || (a.action! < b.action! ? -1 : 1));
    expect(walkedActions.nodes).toEqual(byAction);
    expect(walkedActions.pages).toBeGreaterThan(1);
    expect(walkedActions.totals.every((t) => t === byAction.length)).toBe(true);
  });

  test('a totalCount after the last entry is still the whole count (the page has no rows to carry it)', async () => {
    const [key, rs] = busiest(callerKeyOf);
    const q = `query($k: String!, $f: ApiCallFilter, $first: Int, $after: String) { caller(key: $k, filter: $f) { actions(first: $first, after: $after) ${conn('action')} } }`;
    const whole = (await gql(q, { k: key, f: W, first: 500, after: null })).data.caller.actions as Page<{ action: string }>;
    expect(whole.pageInfo.hasNextPage).toBe(false);
    const past = (await gql(q, { k: key, f: W, first: 500, after: whole.pageInfo.endCursor })).data.caller.actions as Page<{ action: string }>;
    expect(past.nodes).toEqual([]);
    expect(past.totalCount).toBe(new Set(rs.map((r) => r.eventName)).size);
    const callers = `query($f: ApiCallFilter, $first: Int, $after: String) { callers(filter: $f, first: $first, after: $after) ${conn('key')} }`;
    const all = (await gql(callers, { f: W, first: 500, after: null })).data.callers as Page<{ key: string }>;
    const after = (await gql(callers, { f: W, first: 500, after: all.pageInfo.endCursor })).data.callers as Page<{ key: string }>;
    expect(after.nodes).toEqual([]);
    expect(after.totalCount).toBe(all.totalCount);
  });

  /** Sorted as `orderBy` says, ties by action (the nulls of a missing key last). */
  const inOrder = (orderBy: string, xs: { action: string | null; calls: number; errors: number; lastSeen: string }[]) => {
    const measure = { CALLS_DESC: (x: (typeof xs)[0]) => x.calls, ERRORS_DESC: (x: (typeof xs)[0]) => x.errors, LAST_SEEN_DESC: (x: (typeof xs)[0]) => Date.parse(x.lastSeen), KEY_ASC: () => 0 }[orderBy]!;
    const key = (a: string | null) => a ?? '\uffff';
    return [...xs].sort((a, b) => measure(b) - measure(a) || (key(a.action) < key(b.action) ? -1 : key(a.action) > key(b.action) ? 1 : 0));
  };

  test.each(['CALLS_DESC', 'ERRORS_DESC', 'LAST_SEEN_DESC', 'KEY_ASC'])('Caller.actions ordered by %s walks every action once, in order', async (orderBy) => {
    const [key, rs] = busiest(callerKeyOf);
    const q = `query($k: String!, $f: ApiCallFilter, $first: Int, $after: String) { caller(key: $k, filter: $f) { actions(first: $first, after: $after, orderBy: ${orderBy}) ${conn('action calls errors lastSeen')} } }`;
    const one = (await gql(q, { k: key, f: W, first: 500, after: null })).data.caller.actions;
    const walked = await walk<{ action: string | null; calls: number; errors: number; lastSeen: string }>(q, { k: key, f: W }, 1, (d) => d.caller.actions);
    const actions = new Set(rs.map((r) => r.eventName));
    expect(walked.pages).toBeGreaterThan(2);
    expect(walked.nodes).toEqual(one.nodes);
    expect(walked.nodes).toEqual(inOrder(orderBy, walked.nodes));
    expect(new Set(walked.nodes.map((n) => n.action)).size).toBe(walked.nodes.length);
    expect(new Set(walked.nodes.map((n) => n.action))).toEqual(actions);
    expect(walked.totals.every((t) => t === walked.nodes.length)).toBe(true);
  });

  test('a Caller.actions cursor is bound to its order', async () => {
    const [key] = busiest(callerKeyOf);
    const q = (orderBy: string) => `query($k: String!, $f: ApiCallFilter, $a: String) { caller(key: $k, filter: $f) { actions(first: 1, after: $a, orderBy: ${orderBy}) { pageInfo { endCursor } } } }`;
    const cursor = (await gql(q('ERRORS_DESC'), { k: key, f: W, a: null })).data.caller.actions.pageInfo.endCursor;
    for (const other of ['CALLS_DESC', 'KEY_ASC']) {
      const res = await server.gql(q(other), { k: key, f: W, a: cursor });
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  test.each(['CALLS_DESC', 'ERRORS_DESC', 'LAST_SEEN_DESC', 'KEY_ASC'])('actions ordered by %s: every action once, in order', async (orderBy) => {
    const list = (await gql(`query($f: ApiCallFilter) { actions(filter: $f, orderBy: ${orderBy}) { action eventSource calls errors lastSeen } }`, { f: W })).data.actions;
    expect(list).toEqual(inOrder(orderBy, list));
    const expected = [...groupBy(all, (r) => `${r.eventName}|${r.eventSource}`).keys()].sort();
    expect(list.map((a: { action: string; eventSource: string }) => `${a.action}|${a.eventSource}`).sort()).toEqual(expected);
  });

  test('SourceIp.callers walks every caller once', async () => {
    const [address, rs] = busiest((r) => r.sourceIPAddress);
    const q = `query($a: String!, $f: ApiCallFilter, $first: Int, $after: String) { sourceIp(address: $a, filter: $f) { callers(first: $first, after: $after) ${conn('caller { key } calls')} } }`;
    const walked = await walk(q, { a: address, f: W }, 4, (d) => d.sourceIp.callers);
    const expected = [...groupBy(rs, callerKeyOf).entries()].map(([key, x]) => ({ caller: { key }, calls: x.length })).sort((a, b) => b.calls - a.calls || (a.caller.key! < b.caller.key! ? -1 : 1));
    expect(walked.nodes).toEqual(expected);
    expect(walked.totals.every((t) => t === expected.length)).toBe(true);
  });

  test('nested totalCounts of many parents come with their pages: one grouped statement per field', async () => {
    const res = await gql(
      `query($f: ApiCallFilter) { callers(filter: $f, first: 8) { nodes { key
        calls(first: 1) { totalCount } sourceIps(first: 1) { totalCount } actions(first: 1) { totalCount } } } }`,
      { f: W },
    );
    const labels: string[] = res.extensions?.cost.queries.map((q: { label: string }) => q.label).sort();
    // The calls' totals come with the callers' page (one statement); the lists' with theirs.
    expect(labels).toEqual(['callerActions', 'callerSourceIps', 'callers:ARN+caller.calls']);
    const nodes = res.data.callers.nodes as { key: string; calls: { totalCount: number }; sourceIps: { totalCount: number }; actions: { totalCount: number } }[];
    expect(nodes.length).toBe(8);
    for (const n of nodes) {
      const rs = all.filter((r) => callerKeyOf(r) === n.key);
      expect(n.calls.totalCount).toBe(rs.length);
      expect(n.sourceIps.totalCount).toBe(new Set(rs.map((r) => r.sourceIPAddress)).size);
      expect(n.actions.totalCount).toBe(new Set(rs.map((r) => r.eventName)).size);
    }
  });
});
