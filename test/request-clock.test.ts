/**
 * One request reads the clock once: every window of the request that ends now (a default one, one
 * given only `from`) ends at the same instant, whichever field resolves it and when. The clock
 * here moves 1.5 s each time it is read, as time passes while a request's fields resolve.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestServer, startServer } from './support/server';
import { tempDir } from './support/trails';

const A = '111122223333';
const T0 = Date.parse('2026-03-16T00:00:00Z');
let reads = 0;
const clock = () => new Date(T0 + 1500 * reads++);

let server: TestServer;
let dir: string;

beforeAll(async () => {
  dir = tempDir('trailql-clock-');
  const folder = path.join(dir, 'AWSLogs', A, 'CloudTrail', 'eu-west-1', '2026', '03', '16');
  fs.mkdirSync(folder, { recursive: true });
  // One call a second from T0 on, each changing detector model m1.
  const records = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((s) => ({
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${A}:user/ops`, accountId: A },
    eventTime: `2026-03-16T00:00:0${s}Z`,
    eventSource: 'iotevents.amazonaws.com',
    eventName: 'UpdateDetectorModel',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    requestParameters: { detectorModelName: 'm1' },
    requestID: `req-${s}`,
    eventID: `00000000-0000-4000-8000-00000000000${s}`,
    readOnly: false,
    eventType: 'AwsApiCall',
    recipientAccountId: A,
  }));
  fs.writeFileSync(path.join(folder, `${A}_CloudTrail_eu-west-1_20260316T0005Z_clock.json`), JSON.stringify({ Records: records }));
  server = await startServer(dir, { EVENT_SOURCES: 'iotevents.amazonaws.com', CACHE_ENABLED: 'false' }, { now: clock });
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the fields of one request answer over windows that end at the same instant', async () => {
  // From 1.5 s after the first call on: each field read after the first would see more calls.
  reads = 1;
  const r = await server.gql<{
    apiCalls: { totalCount: number; window: { to: string } };
    later: { totalCount: number; window: { to: string } };
    actions: { calls: number }[];
    resource: { window: { to: string }; changes: { eventTime: string }[] };
  }>(`{
    apiCalls(first: 1) { totalCount window { to } }
    later: apiCalls(first: 1, filter: { from: "2026-03-15T12:00:00Z" }) { totalCount window { to } }
    actions { calls }
    resource(name: "m1") { window { to } changes { eventTime } }
  }`);
  expect(r.errors).toBeUndefined();
  const d = r.data!;
  const to = d.apiCalls.window.to;
  expect([d.later.window.to, d.resource.window.to]).toEqual([to, to]);
  const before = (t: string) => Date.parse(t) < Date.parse(to);
  expect(d.resource.changes.every((c) => before(c.eventTime))).toBe(true);
  const n = d.apiCalls.totalCount;
  expect(n).toBeGreaterThan(0);
  expect([d.later.totalCount, d.actions.reduce((s, a) => s + a.calls, 0), d.resource.changes.length]).toEqual([n, n, n]);
});
