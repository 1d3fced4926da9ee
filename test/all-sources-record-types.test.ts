/**
 * Serving every event source (EVENT_SOURCES=*), a record whose struct or list field holds a value
 * of another type (resources as an object or a list of texts, tlsDetails as a text, addendum as a
 * list) is read as with the served sources set: that value is null, and neither its file nor its
 * day fails, on JSON, in compaction and on the Athena dialect.
 */
import { FixtureServers, ONE_DAY_TRAIL, serveRecords } from './support/fixture-engines';

const { account: A, window: WINDOW } = ONE_DAY_TRAIL;
const ODD: Record<string, Record<string, unknown>> = {
  'resources-object': { resources: { ARN: `arn:aws:iotevents:eu-west-1:${A}:input/x` } },
  'resources-texts': { resources: [`arn:aws:iotevents:eu-west-1:${A}:input/y`] },
  'tls-text': { tlsDetails: 'TLSv1.2' },
  'addendum-list': { addendum: [1, 2] },
  plain: { resources: [{ ARN: `arn:aws:iotevents:eu-west-1:${A}:input/z`, accountId: A, type: 'AWS::IoTEvents::Input' }] },
};

let fixture: FixtureServers;

beforeAll(async () => {
  const records = Object.entries(ODD).map(([eventID, odd], i) => ({
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${A}:user/ops`, accountId: A },
    eventTime: `2026-03-15T10:00:0${i}Z`,
    eventSource: i % 2 ? 'iotevents.amazonaws.com' : 's3.amazonaws.com',
    eventName: 'ListInputs',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    requestID: `req-${i}`,
    eventID,
    eventType: 'AwsApiCall',
    recipientAccountId: A,
    ...odd,
  }));
  fixture = await serveRecords('odd-types', records, { EVENT_SOURCES: '*', CURSOR_SECRET: 'odd-types-cursor-secret' });
}, 120_000);

afterAll(() => fixture?.close());

test('the day is compacted', () => {
  expect(fixture.compacted.length).toBe(1);
});

test.each(['json', 'parquet', 'athena'] as const)('on %s, every record is read, its odd value null', async (engine) => {
  const r = await fixture.servers[engine].gql<{ apiCalls: { totalCount: number; nodes: { eventId: string; resources: { arn: string | null }[]; tls: { version: string | null } | null }[] } }>(
    'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 10) { totalCount nodes { eventId resources { arn } tls { version } } } }',
    { f: WINDOW },
  );
  expect(r.errors).toBeUndefined();
  expect(r.extensions?.complete).toBe(true);
  const byId = Object.fromEntries(r.data!.apiCalls.nodes.map((n) => [n.eventId, n]));
  expect(Object.keys(byId).sort()).toEqual(Object.keys(ODD).sort());
  expect(byId.plain!.resources.map((x) => x.arn)).toEqual([`arn:aws:iotevents:eu-west-1:${A}:input/z`]);
  expect(byId['tls-text']!.tls).toBeNull();
});
