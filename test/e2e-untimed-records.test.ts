/**
 * Records whose eventTime cannot be read (test/fixtures/untimed-records) are in no window, so in no
 * page of calls: the `untimedRecords` query lists them, by delivery file, each once, paged with
 * signed cursors, under the key's account scope, alike on DuckDB over JSON, DuckDB over the Parquet
 * store and the Athena dialect's SQL (through the Athena-on-DuckDB shim).
 */
import * as path from 'node:path';
import { hashKey } from '../src/auth/authenticate';
import { FixtureServers, serveFixture } from './support/fixture-engines';
import { GqlResponse, TEST_KEYS, TestServer } from './support/server';

const FIXTURE = path.resolve(__dirname, 'fixtures/untimed-records');
const A = '111122223333';
const B = '444455556666';
const KEY_A = 'key-scoped-to-account-a-0123456789';
const KEY_B = 'key-scoped-to-account-b-0123456789';
const KEYS = JSON.stringify([
  ...TEST_KEYS,
  { id: 'account-a', sha256: hashKey(KEY_A), accounts: [A], regions: [], payloads: false, admin: false },
  { id: 'account-b', sha256: hashKey(KEY_B), accounts: [B], regions: [], payloads: false, admin: false },
]);
const ENV = { EVENT_SOURCES: '*', CURSOR_SECRET: 'untimed-records-cursor-secret', API_KEYS: KEYS };
const NOW = () => new Date('2021-10-20T00:00:00Z');
const DAY14 = { from: '2021-10-14T00:00:00Z', to: '2021-10-15T00:00:00Z' };
const FILE_A1 = `AWSLogs/${A}/CloudTrail/eu-west-1/2021/10/14/${A}_CloudTrail_eu-west-1_20211014T1015Z_u1a.json`;
const FILE_B = `AWSLogs/${B}/CloudTrail/eu-west-1/2021/10/14/${B}_CloudTrail_eu-west-1_20211014T1025Z_u2a.json`;

let fixture: FixtureServers;
let servers: FixtureServers['servers'];

beforeAll(async () => {
  fixture = await serveFixture(FIXTURE, ENV, NOW);
  servers = fixture.servers;
  expect(fixture.compacted.length).toBe(2);
}, 120_000);

afterAll(() => fixture.close());

const LIST = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  untimedRecords(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { file eventId eventTimeRaw eventVersion eventSource action eventType region account requestId errorCode callerKey sourceIpAddress } }
  }
}`;

interface Untimed {
  file: string;
  eventId: string;
  eventTimeRaw: string | null;
  eventVersion: string | null;
  action: string | null;
  account: string | null;
  errorCode: string | null;
  callerKey: string | null;
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function walk(s: TestServer, filter: object, first: number, headers?: Record<string, string>) {
  const nodes: Untimed[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let i = 0; i < 20; i++) {
    const r: GqlResponse = await s.gql(LIST, { filter, first, after }, headers);
    expect(r.errors).toBeUndefined();
    const c = r.data.untimedRecords;
    expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
    totalCount = c.totalCount;
    nodes.push(...c.edges.map((e: { node: Untimed }) => e.node));
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  return { nodes, totalCount };
}

describe.each(['json', 'parquet', 'athena'] as const)('untimed records on %s', (name) => {
  test.each([1, 2, 3])('pages of %i list each untimed record once, as untimedRecords counts', async (first) => {
    const { nodes, totalCount } = await walk(servers[name], DAY14, first);
    const counted = await servers[name].gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount untimedRecords } }`, { f: DAY14 });
    expect(counted.errors).toBeUndefined();
    expect(counted.data.apiCalls).toEqual({ totalCount: 3, untimedRecords: 4 });
    expect(totalCount).toBe(4);
    expect(nodes).toHaveLength(4);
    expect(new Set(nodes.map((n) => `${n.account}|${n.eventId}`)).size).toBe(4);
    // Ordered by file, then eventId.
    const order = nodes.map((n) => `${n.file}\u0000${n.eventId}`);
    expect(order).toEqual([...order].sort());
  });

  test('each record with its file, original time text and fields; a repeated delivery once, under the first file', async () => {
    const { nodes } = await walk(servers[name], DAY14, 50);
    const byAction = Object.fromEntries(nodes.map((n) => [n.action, n]));
    expect(byAction.ListInputs).toMatchObject({ file: FILE_A1, eventId: '7c1d2e3f-0000-4000-8000-000000000001', eventTimeRaw: 'yesterday', account: A });
    expect(byAction.DescribeInput).toMatchObject({ file: FILE_A1, eventTimeRaw: null, eventVersion: '1.05', account: A });
    expect(byAction.ListDetectorModels).toMatchObject({ file: FILE_A1, eventTimeRaw: '14/10/2021 10:12', eventVersion: '1.0', account: null, callerKey: `arn:aws:iam::${A}:user/alice` });
    expect(byAction.ListDetectorModels.eventId).toMatch(/^synthetic-[0-9a-f]{64}$/);
    expect(byAction.ListAlarmModels).toMatchObject({ file: FILE_B, eventTimeRaw: '', account: B, errorCode: 'AccessDeniedException' });
    // Timed calls are never listed.
    expect(nodes.map((n) => n.action)).not.toContain('CreateInput');
  });

  test("a key scoped to one account lists only that account's untimed records", async () => {
    const b = await walk(servers[name], DAY14, 1, as(KEY_B));
    expect(b.nodes.map((n) => [n.account, n.action])).toEqual([[B, 'ListAlarmModels']]);
    expect(b.totalCount).toBe(1);
    const a = await walk(servers[name], DAY14, 1, as(KEY_A));
    // The eventVersion 1.0 record names no recipient account: only unrestricted keys see it.
    expect(a.nodes.map((n) => n.action).sort()).toEqual(['DescribeInput', 'ListInputs']);
    expect(a.nodes.every((n) => n.account === A)).toBe(true);
    expect(a.totalCount).toBe(2);
  });
});

describe('untimed records: refusals', () => {
  const s = () => servers.json;

  test("a cursor is bound to the key's scope and filter: another key's or a tampered one is refused before any query", async () => {
    const first = await s().gql(LIST, { filter: DAY14, first: 1 }, as(KEY_A));
    const cursor: string = first.data.untimedRecords.pageInfo.endCursor;
    s().engine.reset();
    const other = await s().gql(LIST, { filter: DAY14, first: 1, after: cursor }, as(KEY_B));
    expect(other.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const otherFilter = await s().gql(LIST, { filter: { ...DAY14, actions: ['ListInputs'] }, first: 1, after: cursor }, as(KEY_A));
    expect(otherFilter.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const [body, sig] = cursor.split('.');
    const edited = Buffer.from(body, 'base64url').toString().replace(A, B);
    const tampered = await s().gql(LIST, { filter: DAY14, first: 1, after: `${Buffer.from(edited).toString('base64url')}.${sig}` }, as(KEY_A));
    expect(tampered.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(s().engine.executed).toHaveLength(0);
  });

  test('asking for an account outside the scope is FORBIDDEN; bad page sizes are BAD_USER_INPUT; no query runs', async () => {
    s().engine.reset();
    const forbidden = await s().gql(LIST, { filter: { ...DAY14, accounts: [A] }, first: 5 }, as(KEY_B));
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    for (const first of [0, -1, 100000]) {
      const r = await s().gql(LIST, { filter: DAY14, first });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    expect(s().engine.executed).toHaveLength(0);
  });

  test('the scope and cursor values are bound, never in the statement text', async () => {
    const first = await s().gql(LIST, { filter: DAY14, first: 1 }, as(KEY_B));
    s().engine.reset();
    await s().gql(LIST, { filter: DAY14, first: 1, after: first.data.untimedRecords.pageInfo.endCursor }, as(KEY_B));
    const [q] = s().engine.executed;
    expect(q.params).toContain(B);
    expect(q.params).toContain(FILE_B);
    expect(q.sql).not.toContain(B);
    expect(q.sql).not.toContain(FILE_B);
  });
});
