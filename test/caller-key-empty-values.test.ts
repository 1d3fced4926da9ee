/**
 * A value CloudTrail wrote as "" is that value, not a missing one: a caller's key and principal are
 * computed the same way for a call (in the service) and for the lists and counts (in SQL), on every
 * engine, so a call's own caller always counts it; and the groups and calls holding "" have ids
 * `node` takes back, and are found by their lookups.
 */
import { FixtureServers, ONE_DAY_TRAIL, serveRecords } from './support/fixture-engines';

const { account: A, window: WINDOW } = ONE_DAY_TRAIL;

const IDENTITIES: Record<string, Record<string, unknown>> = {
  'empty-account': { type: 'AWSAccount', accountId: '' },
  'empty-issuer-arn': { type: 'AssumedRole', principalId: 'AROAEXAMPLE:s', arn: `arn:aws:sts::${A}:assumed-role/R/s`, accountId: A, sessionContext: { sessionIssuer: { type: 'Role', arn: '' } } },
  'empty-arn': { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: '', accountId: A },
  'empty-principal-id': { type: 'AWSAccount', principalId: '', accountId: A },
};

let fixture: FixtureServers;

beforeAll(async () => {
  const records = Object.entries(IDENTITIES).map(([id, userIdentity], i) => ({
    eventVersion: '1.09',
    userIdentity,
    eventTime: `2026-03-15T10:00:0${i}Z`,
    eventSource: 'iotevents.amazonaws.com',
    eventName: 'ListInputs',
    awsRegion: 'eu-west-1',
    sourceIPAddress: id === 'empty-arn' ? '' : '198.51.100.7',
    requestID: `req-${i}`,
    eventID: id,
    eventType: 'AwsApiCall',
    recipientAccountId: A,
  }));
  fixture = await serveRecords('keys', records, { EVENT_SOURCES: 'iotevents.amazonaws.com', CURSOR_SECRET: 'empty-keys-cursor-secret' });
}, 120_000);

afterAll(() => fixture?.close());

type Node = { eventId: string; caller: { key: string; principal: string; calls: { totalCount: number } } };

test.each(['json', 'parquet', 'athena'] as const)('on %s, each call is among its own caller\'s and principal\'s calls, and in the lists under that key', async (name) => {
  const r = await fixture.servers[name].gql<{ apiCalls: { nodes: Node[] }; callers: { nodes: { key: string }[] }; principals: { nodes: { key: string }[] } }>(
    `query($w: ApiCallFilter) {
      apiCalls(filter: $w, first: 10) { nodes { eventId caller { key principal calls { totalCount } } } }
      callers(filter: $w, first: 10) { nodes { key } }
      principals: callers(filter: $w, first: 10, groupBy: PRINCIPAL) { nodes { key } }
    }`,
    { w: WINDOW },
  );
  expect(r.errors).toBeUndefined();
  const calls = r.data!.apiCalls.nodes;
  expect(calls.map((c) => c.eventId).sort()).toEqual(Object.keys(IDENTITIES).sort());
  const keyed = Object.fromEntries(calls.map((c) => [c.eventId, [c.caller.key, c.caller.principal]]));
  expect(keyed).toEqual({
    'empty-account': ['account:', 'account:'],
    'empty-issuer-arn': [`arn:aws:sts::${A}:assumed-role/R/s`, ''],
    'empty-arn': ['', ''],
    'empty-principal-id': ['', ''],
  });
  for (const c of calls) expect([c.eventId, c.caller.calls.totalCount]).toEqual([c.eventId, calls.filter((o) => o.caller.key === c.caller.key).length]);
  expect(r.data!.callers.nodes.map((n) => n.key).sort()).toEqual([...new Set(calls.map((c) => c.caller.key))].sort());
  expect(r.data!.principals.nodes.map((n) => n.key).sort()).toEqual([...new Set(calls.map((c) => c.caller.principal))].sort());
});

test.each(['json', 'parquet', 'athena'] as const)('on %s, the ids of groups and calls holding "" are taken back, and "" is looked up', async (name) => {
  const s = fixture.servers[name];
  const r = await s.gql<{ apiCalls: { nodes: { id: string }[] }; callers: { nodes: { id: string; key: string }[] }; sourceIps: { nodes: { id: string; address: string }[] } }>(
    `query($w: ApiCallFilter) { apiCalls(filter: $w, first: 10) { nodes { id } } callers(filter: $w, first: 10) { nodes { id key } } sourceIps(filter: $w, first: 10) { nodes { id address } } }`,
    { w: WINDOW },
  );
  expect(r.errors).toBeUndefined();
  expect(r.data!.callers.nodes.map((n) => n.key)).toContain('');
  expect(r.data!.sourceIps.nodes.map((n) => n.address)).toContain('');
  const ids = [...r.data!.apiCalls.nodes, ...r.data!.callers.nodes, ...r.data!.sourceIps.nodes].map((n) => n.id);
  const back = await s.gql<{ nodes: ({ id: string } | null)[] }>('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids });
  expect(back.errors).toBeUndefined();
  expect(back.data!.nodes.map((n) => n?.id)).toEqual(ids);
  const looked = await s.gql<{ caller: { key: string; calls: { totalCount: number } }; sourceIp: { address: string; calls: { totalCount: number } } }>(
    `query($w: ApiCallFilter) { caller(key: "", filter: $w) { key calls { totalCount } } sourceIp(address: "", filter: $w) { address calls { totalCount } } }`,
    { w: WINDOW },
  );
  expect(looked.errors).toBeUndefined();
  expect(looked.data).toEqual({ caller: { key: '', calls: { totalCount: 2 } }, sourceIp: { address: '', calls: { totalCount: 1 } } });
});
