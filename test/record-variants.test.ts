/**
 * Documented CloudTrail record variants (test/fixtures/record-variants: eventVersion 1.0 records
 * without eventID, eventTime in other ISO forms, an Insights event, an AWS service event without
 * userIdentity.type, an eventID shared by two accounts, failed and successful changes of a name
 * with spaces and parentheses) read alike by DuckDB over JSON, DuckDB over the Parquet store and
 * the Athena dialect's SQL (through the Athena-on-DuckDB shim).
 */
import * as path from 'node:path';
import { FixtureServers, serveFixture } from './support/fixture-engines';
import { GqlResponse, TestServer } from './support/server';
import { followPages } from './support/api-calls';

const FIXTURE = path.resolve(__dirname, 'fixtures/record-variants');
const ENV = { EVENT_SOURCES: '*', CURSOR_SECRET: 'record-variants-cursor-secret' };
const NOW = () => new Date('2021-10-20T00:00:00Z');
const DAY14 = { from: '2021-10-14T00:00:00Z', to: '2021-10-15T00:00:00Z' };
const A = '111122223333';
const B = '444455556666';
const SHARED_ID = '0b6a1f3e-0000-4000-8000-000000000004';
const PUMP = 'Pump (line 2)';

let fixture: FixtureServers;
let servers: FixtureServers['servers'];

beforeAll(async () => {
  fixture = await serveFixture(FIXTURE, ENV, NOW);
  servers = fixture.servers;
  expect(fixture.compacted.length).toBeGreaterThan(0);
}, 120_000);

afterAll(() => fixture.close());

const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount untimedRecords
    pageInfo { hasNextPage endCursor }
    edges { cursor node { eventId eventTime eventTimeRaw eventVersion action account errorCode caller { arn rawType category } } }
  }
}`;

interface Node {
  eventId: string;
  eventTime: string;
  eventTimeRaw: string | null;
  eventVersion: string | null;
  action: string | null;
  account: string | null;
  errorCode: string | null;
}

async function walk(s: TestServer, filter: object, first: number) {
  const pages = await followPages(async (after) => {
    const r: GqlResponse<{ apiCalls: Page }> = await s.gql(PAGE, { filter, first, after });
    expect(r.errors).toBeUndefined();
    return r.data!.apiCalls;
  }, 50);
  const edges = pages.flatMap((c) => c.edges);
  const last = pages[pages.length - 1]!;
  return { nodes: edges.map((e) => e.node), cursors: edges.map((e) => e.cursor), totalCount: last.totalCount, untimed: last.untimedRecords };
}

interface Page {
  totalCount: number;
  untimedRecords: number;
  pageInfo: { hasNextPage: boolean; endCursor: string };
  edges: { cursor: string; node: Node }[];
}

const keyOf = (n: Node) => `${n.account}|${n.eventId}`;

describe.each(['json', 'parquet', 'athena'] as const)('record variants on %s', (name) => {
  test.each([1, 2, 3])('pages of %i return every call of the day once, as totalCount counts', async (first) => {
    const { nodes, cursors, totalCount, untimed } = await walk(servers[name], DAY14, first);
    expect(totalCount).toBe(8);
    expect(nodes).toHaveLength(8);
    expect(new Set(nodes.map(keyOf)).size).toBe(8);
    // No id is invented as "" and no cursor holds the text "null".
    for (const n of nodes) expect(n.eventId).toMatch(/^([0-9a-f-]{36}|synthetic-[0-9a-f]{64})$/);
    for (const c of cursors) expect(Buffer.from(c.split('.')[0], 'base64url').toString()).not.toContain('null');
    // eventVersion 1.0: three calls, one of them delivered twice, each with a synthetic id.
    expect(nodes.filter((n) => n.eventVersion === '1.0')).toHaveLength(3);
    expect(nodes.filter((n) => n.eventId.startsWith('synthetic-'))).toHaveLength(3);
    // Insights events are not calls; every call has its action.
    expect(nodes.every((n) => n.action !== null && n.action !== '')).toBe(true);
    // The same eventID in two accounts is two calls.
    expect(nodes.filter((n) => n.eventId === SHARED_ID).map((n) => n.account).sort()).toEqual([A, B]);
    // The record whose eventTime cannot be read is reported, not silently absent.
    expect(untimed).toBe(1);
  });

  test('times in other ISO forms fall in their UTC day and keep their original text', async () => {
    const { nodes } = await walk(servers[name], DAY14, 50);
    const byRaw = Object.fromEntries(nodes.map((n) => [n.eventTimeRaw, n.eventTime]));
    expect(byRaw['2021-10-14 14:21:22']).toBe('2021-10-14T14:21:22.000Z');
    expect(byRaw['2021-10-14T14:21:22.250Z']).toBe('2021-10-14T14:21:22.000Z');
    expect(byRaw['2021-10-15T01:30:00+02:00']).toBe('2021-10-14T23:30:00.000Z');
    const next = await walk(servers[name], { from: '2021-10-15T00:00:00Z', to: '2021-10-16T00:00:00Z' }, 50);
    expect(next.nodes.map((n) => n.eventTimeRaw)).toEqual(['2021-10-15T09:00:00Z']);
  });

  test('a call without eventID is found by apiCall with its synthetic id', async () => {
    const { nodes } = await walk(servers[name], DAY14, 50);
    for (const n of nodes.filter((x) => x.eventId.startsWith('synthetic-'))) {
      const r = await servers[name].gql(`query($id: ID!) { apiCall(eventId: $id, from: "${DAY14.from}", to: "${DAY14.to}") { eventId action } }`, { id: n.eventId });
      expect(r.errors).toBeUndefined();
      expect(r.data.apiCall).toEqual({ eventId: n.eventId, action: n.action });
    }
  });

  test('resource history: successful changes per account, failed attempts apart, any name', async () => {
    const r = await servers[name].gql(
      `query($name: String!) { resource(name: $name, filter: { from: "2021-10-14T00:00:00Z", to: "2021-10-16T00:00:00Z" }) {
        created { eventId } deleted { eventId } failedAttempts { action errorCode }
        instances { kind account region created { eventId account } lastUpdated { eventTimeRaw } deleted { eventId } failedAttempts { action } } } }`,
      { name: PUMP },
    );
    expect(r.errors).toBeUndefined();
    const h = r.data.resource;
    expect(h.created).toBeNull(); // two resources share the name
    expect(h.failedAttempts).toEqual([{ action: 'DeleteDetectorModel', errorCode: 'AccessDeniedException' }]);
    const byAccount = Object.fromEntries(h.instances.map((i: { account: string }) => [i.account, i]));
    expect(byAccount[A]).toEqual({
      kind: 'detectorModel',
      account: A,
      region: 'eu-west-1',
      created: { eventId: SHARED_ID, account: A },
      lastUpdated: { eventTimeRaw: '2021-10-15T01:30:00+02:00' },
      deleted: null,
      failedAttempts: [{ action: 'DeleteDetectorModel' }],
    });
    expect(byAccount[B].created).toEqual({ eventId: SHARED_ID, account: B });
    expect(byAccount[B].deleted).toBeNull();
  });

  test("a caller's identity fields are those of its newest call", async () => {
    const r = await servers[name].gql(`{ caller(arn: "arn:aws:sts::${A}:assumed-role/Operator/ops-a", filter: { from: "${DAY14.from}", to: "${DAY14.to}" }) { mfaAuthenticated } }`);
    expect(r.errors).toBeUndefined();
    // The session with MFA made the older calls; the newest call was made without it.
    expect(r.data.caller.mfaAuthenticated).toBe(false);
  });

  test('aggregates never turn a missing value into the text "null"', async () => {
    const r = await servers[name].gql(`{ actions(filter: { from: "${DAY14.from}", to: "${DAY14.to}" }) { action calls }
      activity(filter: { from: "${DAY14.from}", to: "${DAY14.to}" }, interval: DAY, groupBy: SOURCE_IP) { buckets { key calls } } }`);
    expect(r.errors).toBeUndefined();
    expect(JSON.stringify(r.data)).not.toContain('"null"');
    expect(r.data.actions.reduce((a: number, x: { calls: number }) => a + x.calls, 0)).toBe(8);
  });
});

test('synthetic ids are the same on every engine and store', async () => {
  const ids = await Promise.all((['json', 'parquet', 'athena'] as const).map(async (n) => (await walk(servers[n], DAY14, 50)).nodes.map(keyOf).sort()));
  expect(ids[1]).toEqual(ids[0]);
  expect(ids[2]).toEqual(ids[0]);
});
