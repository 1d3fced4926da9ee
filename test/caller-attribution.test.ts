/**
 * Who made a call, for record shapes where a shortcut attributes it to someone else, alike on
 * DuckDB over JSON, over the Parquet store and in the Athena dialect's SQL:
 * - another account's principal that a service acted for is that principal, not the service (the
 *   service's own calls stay the service's, and the two are never one caller);
 * - a federated user (GetFederationToken) is a principal of its own: the IAM user or root user
 *   that made it keeps only its own calls, shown as what they are;
 * - a type or an `invokedBy` written as "" is classified the same way by the `categories` filter
 *   and by the `category` field;
 * - every principal `callers(groupBy: PRINCIPAL)` lists can be asked for, and left out, by
 *   `principalArns`.
 */
import { FixtureEngine, FixtureServers, ONE_DAY_TRAIL, serveRecords } from './support/fixture-engines';

const A = '111122223333';
const ROOT = `arn:aws:iam::${A}:root`;
const ALICE = `arn:aws:iam::${A}:user/Alice`;
const BOB = `arn:aws:sts::${A}:federated-user/Bob`;
const CAROL = `arn:aws:sts::${A}:federated-user/Carol`;
const OTHER_PRINCIPAL = 'AROAOTHER0000000018:sess';
const IOT = 'iotevents.amazonaws.com';
const STORE = `arn:aws:identitystore::${A}:identitystore/d-9067642ac7`;
const IDC = `identity-center-user:${STORE}/544894e8-80c1-707f-60e3-3ba6510dfac1`;
const DEPLOYER = `arn:aws:iam::${A}:role/Deployer`;

const record = (n: number, userIdentity: object) => ({
  eventVersion: '1.09',
  userIdentity,
  eventTime: `2026-03-15T10:${String(n).padStart(2, '0')}:00Z`,
  eventSource: IOT,
  eventName: 'ListDetectorModels',
  awsRegion: ONE_DAY_TRAIL.region,
  sourceIPAddress: '198.51.100.7',
  userAgent: 'aws-cli/2',
  requestParameters: null,
  responseElements: null,
  requestID: `req-${n}`,
  eventID: `attribution-${String(n).padStart(2, '0')}`,
  readOnly: true,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: A,
  eventCategory: 'Management',
});
const session = (issuer: object) => ({ sessionIssuer: issuer, attributes: { creationDate: '2026-03-15T09:00:00Z', mfaAuthenticated: 'false' } });

/** Each record, and the key, principal and category the service must give its caller. */
const CASES: { n: number; identity: object; key: string; principal: string; category: string }[] = [
  { n: 1, identity: { type: 'Root', principalId: A, arn: ROOT, accountId: A, accessKeyId: 'AKIAROOTLONGTERM001' }, key: ROOT, principal: ROOT, category: 'ROOT_OR_IAM_USER' },
  { n: 2, identity: { type: 'IAMUser', principalId: 'AIDAALICE00000000004', arn: ALICE, accountId: A, accessKeyId: 'AKIAALICE0000000004', userName: 'Alice' }, key: ALICE, principal: ALICE, category: 'ROOT_OR_IAM_USER' },
  {
    n: 3,
    identity: { type: 'FederatedUser', principalId: `${A}:Bob`, arn: BOB, accountId: A, accessKeyId: 'ASIAFEDBOB00000009', sessionContext: session({ type: 'IAMUser', principalId: 'AIDAALICE00000000004', arn: ALICE, accountId: A, userName: 'Alice' }) },
    key: BOB,
    principal: BOB,
    category: 'ROLE_OR_FEDERATED_SESSION',
  },
  {
    n: 4,
    identity: { type: 'FederatedUser', principalId: `${A}:Carol`, arn: CAROL, accountId: A, accessKeyId: 'ASIAFEDCAROL000019', sessionContext: session({ type: 'Root', principalId: A, arn: ROOT, accountId: A }) },
    key: CAROL,
    principal: CAROL,
    category: 'ROLE_OR_FEDERATED_SESSION',
  },
  { n: 5, identity: { type: 'AWSAccount', principalId: OTHER_PRINCIPAL, accountId: '777788889999', invokedBy: IOT }, key: OTHER_PRINCIPAL, principal: OTHER_PRINCIPAL, category: 'OTHER' },
  { n: 6, identity: { type: 'AWSService', invokedBy: IOT }, key: IOT, principal: IOT, category: 'AWS_SERVICE' },
  { n: 7, identity: { invokedBy: IOT }, key: IOT, principal: IOT, category: 'AWS_SERVICE' },
  { n: 8, identity: { type: '', invokedBy: 'svc-a.amazonaws.com', principalId: 'AIDAEMPTYTYPE0000008' }, key: 'AIDAEMPTYTYPE0000008', principal: 'AIDAEMPTYTYPE0000008', category: 'OTHER' },
  { n: 9, identity: { invokedBy: '', principalId: 'AIDAEMPTYINVOKED0009', accountId: A }, key: '', principal: '', category: 'AWS_SERVICE' },
  { n: 10, identity: { type: 'IdentityCenterUser', accountId: A, onBehalfOf: { userId: '544894e8-80c1-707f-60e3-3ba6510dfac1', identityStoreArn: STORE } }, key: IDC, principal: IDC, category: 'OTHER' },
  {
    n: 11,
    identity: { type: 'AssumedRole', principalId: 'AROADEPLOYER00000007:ci-run-8', arn: `arn:aws:sts::${A}:assumed-role/Deployer/ci-run-8`, accountId: A, accessKeyId: 'ASIADEPLOY00000008', sessionContext: session({ type: 'Role', principalId: 'AROADEPLOYER00000007', arn: DEPLOYER, accountId: A, userName: 'Deployer' }) },
    key: `arn:aws:sts::${A}:assumed-role/Deployer/ci-run-8`,
    principal: DEPLOYER,
    category: 'ROLE_OR_FEDERATED_SESSION',
  },
];

const ENGINES: FixtureEngine[] = ['json', 'parquet', 'athena'];
const CALLS = `query($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 100) { edges { node { eventId caller { key principal category identityType } } } } }`;
const CALLERS = `query($filter: ApiCallFilter, $groupBy: CallerGrouping) {
  callers(filter: $filter, groupBy: $groupBy, first: 100) { edges { node { key identityType category arn stats { calls } } } }
}`;

let fixture: FixtureServers;

beforeAll(async () => {
  fixture = await serveRecords('attribution', CASES.map((c) => record(c.n, c.identity)), { EVENT_SOURCES: IOT });
}, 120_000);

afterAll(() => fixture?.close());

async function ask(engine: FixtureEngine, query: string, variables: Record<string, unknown>) {
  const res = await fixture.servers[engine].gql(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
}

const idOf = (n: number) => `attribution-${String(n).padStart(2, '0')}`;
const callIds = async (engine: FixtureEngine, filter: object): Promise<string[]> => {
  const data = await ask(engine, CALLS, { filter: { ...ONE_DAY_TRAIL.window, ...filter } });
  return (data.apiCalls.edges as { node: { eventId: string } }[]).map((e) => e.node.eventId).sort();
};

describe.each(ENGINES)('%s', (engine) => {
  test('each call is attributed to its own caller and principal', async () => {
    const data = await ask(engine, CALLS, { filter: ONE_DAY_TRAIL.window });
    const got = Object.fromEntries((data.apiCalls.edges as { node: { eventId: string; caller: { key: string; principal: string; category: string } } }[]).map(({ node }) => [node.eventId, [node.caller.key, node.caller.principal, node.caller.category]]));
    expect(got).toEqual(Object.fromEntries(CASES.map((c) => [idOf(c.n), [c.key, c.principal, c.category]])));
  });

  test('the categories filter takes the calls the category field names, no more, no fewer', async () => {
    for (const category of ['ROOT_OR_IAM_USER', 'ROLE_OR_FEDERATED_SESSION', 'AWS_SERVICE', 'OTHER']) {
      expect([category, await callIds(engine, { categories: [category] })]).toEqual([category, CASES.filter((c) => c.category === category).map((c) => idOf(c.n)).sort()]);
    }
  });

  test('a service and another account\'s principal it acted for are two callers', async () => {
    const data = await ask(engine, CALLERS, { filter: ONE_DAY_TRAIL.window, groupBy: 'ARN' });
    const byKey = new Map((data.callers.edges as { node: { key: string; identityType: string; category: string; stats: { calls: number } } }[]).map(({ node }) => [node.key, node]));
    expect(byKey.get(IOT)).toMatchObject({ category: 'AWS_SERVICE', stats: { calls: 2 } });
    expect(byKey.get(OTHER_PRINCIPAL)).toMatchObject({ identityType: 'AWS_ACCOUNT', category: 'OTHER', stats: { calls: 1 } });
  });

  test('a federated user is its own principal: the root user and the IAM user that made one keep only their own calls', async () => {
    const data = await ask(engine, CALLERS, { filter: ONE_DAY_TRAIL.window, groupBy: 'PRINCIPAL' });
    const byKey = new Map((data.callers.edges as { node: { key: string; identityType: string; category: string; arn: string; stats: { calls: number } } }[]).map(({ node }) => [node.key, node]));
    expect(byKey.get(ROOT)).toMatchObject({ identityType: 'ROOT', category: 'ROOT_OR_IAM_USER', arn: ROOT, stats: { calls: 1 } });
    expect(byKey.get(ALICE)).toMatchObject({ identityType: 'IAM_USER', category: 'ROOT_OR_IAM_USER', arn: ALICE, stats: { calls: 1 } });
    expect(byKey.get(BOB)).toMatchObject({ identityType: 'FEDERATED_USER', arn: BOB, stats: { calls: 1 } });
    expect(byKey.get(CAROL)).toMatchObject({ identityType: 'FEDERATED_USER', arn: CAROL, stats: { calls: 1 } });
    // Every principal listed is one `principalArns` asks for, and one `not` leaves out.
    const all = CASES.map((c) => idOf(c.n)).sort();
    for (const key of byKey.keys()) {
      const mine = CASES.filter((c) => c.principal === key).map((c) => idOf(c.n)).sort();
      expect([key, await callIds(engine, { principalArns: [key] })]).toEqual([key, mine]);
      expect([key, await callIds(engine, { not: { principalArns: [key] } })]).toEqual([key, all.filter((id) => !mine.includes(id))]);
    }
  });
});
