/**
 * A resource named in a call's resourceArn is found by its name whatever characters the name holds
 * (combining marks, joined emoji, flags), alike on DuckDB over JSON, over the store and on the
 * Athena dialect: the ARN's ending is compared by code points, not by any engine's notion of a
 * character.
 */
import { FixtureServers, ONE_DAY_TRAIL, serveRecords } from './support/fixture-engines';

const { account: A, window: WINDOW } = ONE_DAY_TRAIL;
const NAMES = ['cafe\u0301', 'fam\u{1F468}\u200D\u{1F469}', 'flag\u{1F1E9}\u{1F1EA}', 'plain-name', 'e\u0301'];

let fixture: FixtureServers;

beforeAll(async () => {
  const records = NAMES.map((name, i) => ({
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${A}:user/ops`, accountId: A },
    eventTime: `2026-03-15T10:00:0${i}Z`,
    eventSource: 'iotevents.amazonaws.com',
    eventName: 'TagResource',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    requestParameters: { resourceArn: `arn:aws:iotevents:eu-west-1:${A}:detectorModel/${name}`, tags: [] },
    requestID: `req-${i}`,
    eventID: `00000000-0000-4000-8000-00000000000${i}`,
    eventType: 'AwsApiCall',
    recipientAccountId: A,
  }));
  fixture = await serveRecords('names', records, { EVENT_SOURCES: 'iotevents.amazonaws.com', CURSOR_SECRET: 'suffix-cursor-secret' });
}, 120_000);

afterAll(() => fixture?.close());

const count = async (name: 'json' | 'parquet' | 'athena', filter: Record<string, unknown>) => {
  const r = await fixture.servers[name].gql<{ apiCalls: { totalCount: number } }>('query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }', { f: { ...WINDOW, ...filter } });
  expect(r.errors).toBeUndefined();
  return r.data!.apiCalls.totalCount;
};

test.each(['json', 'parquet', 'athena'] as const)('on %s, each name finds its call, and only it', async (name) => {
  // "e\u0301" is also the ending of "cafe\u0301", but not after a "/": the last call's alone.
  for (const n of NAMES) expect([n, await count(name, { resourceName: n })]).toEqual([n, 1]);
  expect(await count(name, { actionPatterns: ['*Resource'] })).toBe(NAMES.length);
});
