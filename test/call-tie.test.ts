/**
 * Calls of one second and one eventID are told apart by account and region (CALL_TIE). A record's
 * own text may hold `/` or `\` there: pairs that would print alike when joined with `/` (account
 * `x`, region `y/`; account `x/ry`, no region) are still two calls, and every walk meets each once,
 * on every engine, in the same order.
 */
import { followPages } from './support/api-calls';
import { FixtureEngine, FixtureServers, ONE_DAY_TRAIL, serveRecords } from './support/fixture-engines';

const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String, $orderBy: CallOrder) {
  apiCalls(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { eventId account region } } }
}`;

/** [account, region]: each pair a call of its own, all with one eventID at one second. */
const PAIRS: [string, string | undefined][] = [
  ['x', 'y/'],
  ['x/ry', undefined],
  ['x', '/y'],
  ['x/', 'y'],
  ['x\\', '/y'],
  ['x', '\\/y'],
  ['x\\/', 'y'],
  ['111122223333', 'eu-west-1'],
];

let fixture: FixtureServers;

beforeAll(async () => {
  const records = PAIRS.map(([account, region]) => ({
    eventVersion: '1.09',
    userIdentity: { type: 'Root', principalId: '111122223333', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333' },
    eventTime: '2026-03-15T10:00:00Z',
    eventSource: 'iotevents.amazonaws.com',
    eventName: 'ListDetectorModels',
    ...(region === undefined ? {} : { awsRegion: region }),
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${account}-${region}`,
    eventID: 'one-id-for-all',
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
  }));
  fixture = await serveRecords('call-tie', records, {});
});

afterAll(async () => {
  await fixture?.close();
});

const engines: FixtureEngine[] = ['json', 'parquet', 'athena'];
const key = (n: { account: string; region: string | null }) => JSON.stringify([n.account, n.region]);

test.each(engines)('%s: every walk meets each of the calls once, in one order', async (engine) => {
  const server = fixture.servers[engine];
  for (const orderBy of ['NEWEST_FIRST', 'OLDEST_FIRST']) {
    const walked: string[] = [];
    let total = 0;
    await followPages(async (after) => {
      const res = await server.gql(PAGE, { filter: ONE_DAY_TRAIL.window, first: 1, after, orderBy });
      expect(res.errors).toBeUndefined();
      total = res.data.apiCalls.totalCount;
      walked.push(...res.data.apiCalls.edges.map((e: { node: { account: string; region: string | null } }) => key(e.node)));
      return res.data.apiCalls;
    }, 50);
    const whole = await server.gql(PAGE, { filter: ONE_DAY_TRAIL.window, first: 50, orderBy });
    const once: string[] = whole.data.apiCalls.edges.map((e: { node: { account: string; region: string | null } }) => key(e.node));
    expect(total).toBe(PAIRS.length);
    expect(walked).toEqual(once);
    expect(new Set(walked)).toEqual(new Set(PAIRS.map(([account, region]) => JSON.stringify([account, region ?? null]))));
  }
});

test('the engines give the calls in one order', async () => {
  const orders = await Promise.all(engines.map(async (engine) => {
    const res = await fixture.servers[engine].gql(PAGE, { filter: ONE_DAY_TRAIL.window, first: 50 });
    return res.data.apiCalls.edges.map((e: { node: { account: string; region: string | null } }) => key(e.node));
  }));
  expect(orders[1]).toEqual(orders[0]);
  expect(orders[2]).toEqual(orders[0]);
});
