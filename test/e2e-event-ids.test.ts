/**
 * Event ids as records hold them: CloudTrail writes UUIDs, but a call is served with whatever
 * eventID its record holds (or a synthetic one when it has none), and every id the service gives
 * out is taken back by `node(id:)` and `apiCall(eventId:)`. What no record can hold is refused
 * before any engine query.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { MAX_EVENT_ID_LENGTH } from '../src/query/guards';
import { TestServer, startServer } from './support/server';
import { tempDir } from './support/trails';

const A = '111122223333';
const NOW = new Date('2026-03-15T12:00:00Z');
const WINDOW = { from: '2026-03-15T00:00:00Z', to: '2026-03-15T12:00:00Z' };

const UUID = 'aaaaaaaa-0000-4000-8000-000000000001';
const ODD = 'weird_id.with:chars';
const LONG = 'x'.repeat(200);
const QUOTED = "it's \"quoted\" / ünïcode ✓";

/** A write call at `minute` past 10:00 on the window's day, with `eventID` (none when undefined). */
function record(minute: number, eventID: string | undefined): Record<string, unknown> {
  return {
    eventVersion: eventID === undefined ? '1.0' : '1.08',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${A}:user/alice`, accountId: A, accessKeyId: 'AKIAEXAMPLE', userName: 'alice' },
    eventTime: `2026-03-15T10:${String(minute).padStart(2, '0')}:00Z`,
    eventSource: 'iotevents.amazonaws.com',
    eventName: 'ListDetectorModels',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.9',
    userAgent: 'aws-cli/2.13.0',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${minute}`,
    ...(eventID === undefined ? {} : { eventID }),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: A,
    eventCategory: 'Management',
  };
}

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = tempDir();
  const folder = path.join(dir, 'AWSLogs', A, 'CloudTrail', 'us-east-1', '2026', '03', '15');
  fs.mkdirSync(folder, { recursive: true });
  const records = [record(1, UUID), record(2, ODD), record(3, LONG), record(4, QUOTED), record(5, undefined)];
  fs.writeFileSync(path.join(folder, `${A}_CloudTrail_us-east-1_20260315T1010Z_EventIds000001.json.gz`), gzipSync(JSON.stringify({ Records: records })));
  server = await startServer(dir, {}, { now: () => NOW });
});

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const LIST = `query($w: ApiCallFilter) { apiCalls(filter: $w, first: 10) { nodes { id eventId } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on ApiCall { eventId } } }`;
const ONE = `query($eventId: ID!, $from: DateTime, $to: DateTime) { apiCall(eventId: $eventId, from: $from, to: $to) { id eventId } }`;

describe('every id the service gives out is taken back', () => {
  let listed: { id: string; eventId: string }[];
  beforeAll(async () => {
    const res = await server.gql(LIST, { w: WINDOW });
    expect(res.errors).toBeUndefined();
    listed = res.data.apiCalls.nodes;
  });

  test('the calls are listed with their records\' eventIDs, a synthetic one for the record without', () => {
    const ids = listed.map((n) => n.eventId);
    expect(ids).toEqual(expect.arrayContaining([UUID, ODD, LONG, QUOTED]));
    expect(ids.filter((id) => /^synthetic-[0-9a-f]{64}$/.test(id))).toHaveLength(1);
    expect(ids).toHaveLength(5);
  });

  test('node(id:) gives each call back', async () => {
    for (const { id, eventId } of listed) {
      const res = await server.gql(NODE, { id });
      expect([eventId, res.status, res.errors]).toEqual([eventId, 200, undefined]);
      expect(res.data.node).toEqual({ id, eventId });
    }
  });

  test('apiCall(eventId:) gives each call back', async () => {
    for (const { id, eventId } of listed) {
      const res = await server.gql(ONE, { eventId, ...WINDOW });
      expect([eventId, res.status, res.errors]).toEqual([eventId, 200, undefined]);
      expect(res.data.apiCall).toEqual({ id, eventId });
    }
  });

  test('an id no record holds is looked up as a value: nothing found, nothing refused', async () => {
    const res = await server.gql(ONE, { eventId: "' OR 1=1 --", ...WINDOW });
    expect(res.errors).toBeUndefined();
    expect(res.data.apiCall).toBeNull();
  });
});

describe('what no record can hold is refused before any engine query', () => {
  test.each([
    ['empty', ''],
    ['over the longest', 'x'.repeat(MAX_EVENT_ID_LENGTH + 1)],
    ['a line break', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['a C1 control character', 'a\u0085b'],
  ])('%s', async (_name, eventId) => {
    const before = server.engine.executed.length;
    const res = await server.gql(ONE, { eventId, ...WINDOW });
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'eventId']]);
    expect(res.extensions?.cost?.totals).toMatchObject({ queries: 0, engineQueries: 0 });
    expect(server.engine.executed.length).toBe(before);
  });

  test('the longest is taken', async () => {
    const res = await server.gql(ONE, { eventId: 'x'.repeat(MAX_EVENT_ID_LENGTH), ...WINDOW });
    expect(res.errors).toBeUndefined();
    expect(res.data.apiCall).toBeNull();
  });
});
