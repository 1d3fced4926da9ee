/**
 * IAM Identity Center users are written with no ARN, principal id or invoking service, only their
 * account and `onBehalfOf` (the identity store and their user id in it). Each is a caller of its
 * own, alike for a call and for the lists and counts, on every engine: two users of one account are
 * never one caller `account:<id>`.
 */
import { FixtureServers, ONE_DAY_TRAIL, serveRecords } from './support/fixture-engines';

const { account: A, window: WINDOW } = ONE_DAY_TRAIL;
const STORE = `arn:aws:identitystore::${A}:identitystore/d-9067bc44a8`;
const user = (userId: string | null) => ({ type: 'IdentityCenterUser', accountId: A, onBehalfOf: { userId, identityStoreArn: STORE }, credentialId: `cred-${userId}` });

/** [eventID, userIdentity] — two calls by ana, one by ben, one without a user id, one role session on behalf of ana. */
const CALLS: [string, Record<string, unknown>][] = [
  ['ana-1', user('a1b2c3d4-ana')],
  ['ana-2', user('a1b2c3d4-ana')],
  ['ben-1', user('e5f6a7b8-ben')],
  ['no-user-id', user(null)],
  [
    'role-for-ana',
    {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:ana',
      arn: `arn:aws:sts::${A}:assumed-role/Ops/ana`,
      accountId: A,
      onBehalfOf: { userId: 'a1b2c3d4-ana', identityStoreArn: STORE },
      sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: `arn:aws:iam::${A}:role/Ops`, accountId: A, userName: 'Ops' } },
    },
  ],
];

const KEYS: Record<string, string> = {
  'ana-1': `identity-center-user:${STORE}/a1b2c3d4-ana`,
  'ana-2': `identity-center-user:${STORE}/a1b2c3d4-ana`,
  'ben-1': `identity-center-user:${STORE}/e5f6a7b8-ben`,
  'no-user-id': `account:${A}`,
  'role-for-ana': `arn:aws:sts::${A}:assumed-role/Ops/ana`,
};

let fixture: FixtureServers;

beforeAll(async () => {
  const records = CALLS.map(([eventID, userIdentity], i) => ({
    eventVersion: '1.09',
    userIdentity,
    eventTime: `2026-03-15T10:00:0${i}Z`,
    eventSource: 'iotevents.amazonaws.com',
    eventName: 'ListDetectorModels',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    requestID: `req-${i}`,
    eventID,
    eventType: 'AwsApiCall',
    recipientAccountId: A,
  }));
  fixture = await serveRecords('idc', records, { EVENT_SOURCES: 'iotevents.amazonaws.com', CURSOR_SECRET: 'idc-cursor-secret' });
}, 120_000);

afterAll(() => fixture?.close());

const ENGINES = ['json', 'parquet', 'athena'] as const;

test.each(ENGINES)('on %s, each Identity Center user is a caller of its own, for its calls and in the lists', async (name) => {
  const r = await fixture.servers[name].gql<{
    apiCalls: { nodes: { eventId: string; caller: { key: string; principal: string; calls: { totalCount: number } } }[] };
    callers: { nodes: { key: string; stats: { calls: number } }[] };
    principals: { nodes: { key: string }[] };
  }>(
    `query($w: ApiCallFilter) {
      apiCalls(filter: $w, first: 10) { nodes { eventId caller { key principal calls { totalCount } } } }
      callers(filter: $w, first: 10) { nodes { key stats { calls } } }
      principals: callers(filter: $w, first: 10, groupBy: PRINCIPAL) { nodes { key } }
    }`,
    { w: WINDOW },
  );
  expect(r.errors).toBeUndefined();
  const calls = r.data!.apiCalls.nodes;
  expect(Object.fromEntries(calls.map((c) => [c.eventId, c.caller.key]))).toEqual(KEYS);
  const counts = new Map<string, number>();
  for (const key of Object.values(KEYS)) counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const c of calls) expect([c.eventId, c.caller.calls.totalCount]).toEqual([c.eventId, counts.get(c.caller.key)]);
  expect(Object.fromEntries(r.data!.callers.nodes.map((n) => [n.key, n.stats.calls]))).toEqual(Object.fromEntries(counts));
  expect(r.data!.principals.nodes.map((n) => n.key).sort()).toEqual([...new Set(calls.map((c) => c.caller.principal))].sort());
});

test.each(ENGINES)("on %s, an Identity Center user is looked up by its key, and node takes back its id", async (name) => {
  const s = fixture.servers[name];
  const key = KEYS['ana-1'];
  const r = await s.gql<{ caller: { id: string; key: string; calls: { nodes: { eventId: string }[] } } }>(
    'query($k: String!, $w: ApiCallFilter) { caller(key: $k, filter: $w) { id key calls(first: 10) { nodes { eventId } } } }',
    { k: key, w: WINDOW },
  );
  expect(r.errors).toBeUndefined();
  expect(r.data!.caller.calls.nodes.map((n) => n.eventId).sort()).toEqual(['ana-1', 'ana-2']);
  const back = await s.gql<{ node: { key: string } }>('query($id: ID!) { node(id: $id) { ... on Caller { key } } }', { id: r.data!.caller.id });
  expect(back.errors).toBeUndefined();
  expect(back.data!.node.key).toBe(key);
});
