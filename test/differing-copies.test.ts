/**
 * Copies of one call that differ (test/fixtures/differing-copies): a later delivery of a call with
 * another outcome, caller and address. Every answer takes the call from its first delivery file,
 * whatever a filter asks, so a call is counted once across any split of a filter and its negation,
 * never under what only a later copy holds; and alike on DuckDB over JSON, DuckDB over the Parquet
 * store (which keeps that copy) and the Athena dialect's SQL.
 */
import * as path from 'node:path';
import { FixtureServers, serveFixture } from './support/fixture-engines';
import { followPages } from './support/api-calls';

const FIXTURE = path.resolve(__dirname, 'fixtures/differing-copies');
const ENV = { EVENT_SOURCES: '*', CURSOR_SECRET: 'differing-copies-cursor-secret' };
const NOW = () => new Date('2021-10-20T00:00:00Z');
const DAY14 = { from: '2021-10-14T00:00:00Z', to: '2021-10-15T00:00:00Z' };
const X = 'd1ff0000-0000-4000-8000-000000000001';
const Z = 'd1ff0000-0000-4000-8000-000000000003';
const ENGINES = ['json', 'parquet', 'athena'] as const;

let fixture: FixtureServers;

beforeAll(async () => {
  fixture = await serveFixture(FIXTURE, ENV, NOW);
  expect(fixture.compacted.length).toBe(6);
}, 120_000);

afterAll(() => fixture.close());

const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { eventId action errorCode sourceIpAddress caller { key } } }
  }
}`;

type Node = { eventId: string; action: string; errorCode: string | null; sourceIpAddress: string; caller: { key: string } };
type Page = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Node }[] };

const alice = 'arn:aws:iam::111122223333:user/alice';
const mallory = 'arn:aws:iam::111122223333:user/mallory';

/** Every call a filter returns, walked in pages of one, and the count its first page gives. */
async function walk(name: (typeof ENGINES)[number], filter: Record<string, unknown>): Promise<{ total: number; nodes: Node[] }> {
  const server = fixture.servers[name];
  const pages = await followPages<Page>(async (after) => {
    const r = await server.gql(PAGE, { filter: { ...DAY14, ...filter }, first: 1, after });
    expect(r.errors).toBeUndefined();
    return r.data.apiCalls as Page;
  });
  return { total: pages[0]!.totalCount, nodes: pages.flatMap((p) => p.edges.map((e) => e.node)) };
}

test.each(ENGINES)('%s: each call once, as its first delivery has it', async (name) => {
  const { total, nodes } = await walk(name, {});
  expect(total).toBe(3);
  expect(nodes).toHaveLength(3);
  const x = nodes.find((n) => n.eventId === X)!;
  expect(x).toMatchObject({ action: 'CreateInput', errorCode: null, sourceIpAddress: '198.51.100.7', caller: { key: alice } });
  // The first copy of Z failed; a later one did not: the first is kept, not the kinder one.
  expect(nodes.find((n) => n.eventId === Z)!.errorCode).toBe('ThrottlingException');
});

const SPLITS: [string, Record<string, unknown>, Record<string, unknown>, number][] = [
  ['outcome', { outcome: 'ERROR' }, { outcome: 'SUCCESS' }, 1],
  ['caller', { principalArns: [mallory] }, { not: { principalArns: [mallory] } }, 0],
  ['user name', { userNames: ['alice'] }, { not: { userNames: ['alice'] } }, 1],
  ['source address', { sourceIps: ['203.0.113.9'] }, { not: { sourceIps: ['203.0.113.9'] } }, 0],
  ['address block', { sourceCidrs: ['203.0.113.0/24'] }, { not: { sourceCidrs: ['203.0.113.0/24'] } }, 0],
  ['error code', { errorCodes: ['AccessDeniedException'] }, { not: { errorCodes: ['AccessDeniedException'] } }, 0],
  ['action', { actions: ['DeleteDetectorModel'] }, { not: { actions: ['DeleteDetectorModel'] } }, 0],
];

describe.each(ENGINES)('%s: a filter and its complement part the calls', (name) => {
  test.each(SPLITS)('%s', async (_what, filter, complement, matching) => {
    const [a, b] = await Promise.all([walk(name, filter), walk(name, complement)]);
    expect(a.total).toBe(matching);
    expect(a.nodes).toHaveLength(matching);
    expect(a.total + b.total).toBe(3);
    expect([...a.nodes, ...b.nodes].map((n) => n.eventId).sort()).toEqual([X, 'd1ff0000-0000-4000-8000-000000000002', Z]);
  });
});

const SUMMARIES = `query($filter: ApiCallFilter) {
  actions(filter: $filter, orderBy: KEY_ASC) { action calls errors distinctCallers distinctSourceIps }
  callers(filter: $filter, first: 10, orderBy: KEY_ASC) { totalCount nodes { key stats { calls errors } } }
  errors: apiCalls(filter: { from: "${DAY14.from}", to: "${DAY14.to}", outcome: ERROR }, first: 10) { totalCount }
}`;

test.each(ENGINES)('%s: summaries count each call under its first copy', async (name) => {
  const r = await fixture.servers[name].gql(SUMMARIES, { filter: DAY14 });
  expect(r.errors).toBeUndefined();
  expect(r.data.actions).toEqual([
    { action: 'CreateInput', calls: 1, errors: 0, distinctCallers: 1, distinctSourceIps: 1 },
    { action: 'DeleteInput', calls: 1, errors: 0, distinctCallers: 1, distinctSourceIps: 1 },
    { action: 'UpdateInput', calls: 1, errors: 1, distinctCallers: 1, distinctSourceIps: 1 },
  ]);
  expect(r.data.callers.totalCount).toBe(3);
  expect(r.data.callers.nodes.map((n: { key: string }) => n.key)).not.toContain(mallory);
  expect(r.data.callers.nodes.find((n: { key: string }) => n.key === alice).stats).toEqual({ calls: 1, errors: 0 });
  expect(r.data.errors.totalCount).toBe(1);
});

test.each(ENGINES)('%s: the call by its id is its first copy', async (name) => {
  const r = await fixture.servers[name].gql(`query($id: ID!) { apiCall(eventId: $id, from: "${DAY14.from}", to: "${DAY14.to}") { errorCode caller { key } } }`, { id: X });
  expect(r.errors).toBeUndefined();
  expect(r.data.apiCall).toEqual({ errorCode: null, caller: { key: alice } });
});

test.each(ENGINES)('%s: of copies whose times differ, the first file\'s is the call (the store keeps the same one)', async (name) => {
  const r = await fixture.servers[name].gql(`query($id: ID!) { apiCall(eventId: $id, from: "2021-10-13T00:00:00Z", to: "2021-10-14T00:00:00Z") { eventTime errorCode } }`, {
    id: 'd1ff0000-0000-4000-8000-000000000004',
  });
  expect(r.errors).toBeUndefined();
  expect(r.data.apiCall).toEqual({ eventTime: '2021-10-13T12:05:02.000Z', errorCode: null });
});

test.each(ENGINES)('%s: a walk meets a call once, at its first copy\'s time, though a later copy is older', async (name) => {
  const { total, nodes } = await walk(name, { from: '2021-10-13T00:00:00Z', to: '2021-10-14T00:00:00Z' });
  expect(total).toBe(2);
  expect(nodes.map((n) => [n.eventId, n.errorCode])).toEqual([
    ['d1ff0000-0000-4000-8000-000000000004', null],
    ['d1ff0000-0000-4000-8000-000000000005', null],
  ]);
});

test.each(ENGINES)('%s: a call delivered by an organization trail and the account\'s own is its earlier file\'s copy', async (name) => {
  const { total, nodes } = await walk(name, { from: '2021-10-16T00:00:00Z', to: '2021-10-17T00:00:00Z' });
  expect(total).toBe(1);
  expect(nodes).toEqual([expect.objectContaining({ eventId: 'd1ff0000-0000-4000-8000-000000000006', errorCode: null, caller: { key: 'arn:aws:iam::111122223333:user/carol' } })]);
});

const OLDEST = `query($filter: ApiCallFilter, $after: String) {
  apiCalls(filter: $filter, first: 1, after: $after, orderBy: OLDEST_FIRST) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { eventId errorCode } }
  }
}`;

test.each(ENGINES)('%s: an oldest-first walk meets a call once when its copies lie on both sides of the cursor\'s day', async (name) => {
  const filter = { from: '2021-10-17T00:00:00Z', to: '2021-10-19T00:00:00Z' };
  type Oldest = Pick<Page, 'totalCount' | 'pageInfo'> & { edges: { node: { eventId: string; errorCode: string | null } }[] };
  const pages = await followPages<Oldest>(async (after) => {
    const r = await fixture.servers[name].gql(OLDEST, { filter, after });
    expect(r.errors).toBeUndefined();
    return r.data.apiCalls as Oldest;
  });
  expect(pages[0]!.totalCount).toBe(3);
  expect(pages.flatMap((p) => p.edges.map((e) => [e.node.eventId, e.node.errorCode]))).toEqual([
    ['d1ff0000-0000-4000-8000-000000000007', null],
    ['d1ff0000-0000-4000-8000-000000000008', null],
    ['d1ff0000-0000-4000-8000-000000000009', null],
  ]);
});
