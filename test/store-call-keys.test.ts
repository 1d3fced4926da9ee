/**
 * A call is its account, region and eventID: the same eventID in another account or region is
 * another call, in the store as in queries over JSON, within one file and across days; a record
 * delivered twice is still one call. Compaction once took the first for copies and left them out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compactTrail } from '../src/engines/duckdb/compact';
import { FixtureServers, serveFixture } from './support/fixture-engines';
import { startServer } from './support/server';
import { tempDir } from './support/trails';

const A = '111122223333';
const B = '444455556666';
const record = (over: Record<string, unknown>) => ({
  eventVersion: '1.09',
  userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${A}:user/ops`, accountId: A },
  eventTime: '2026-03-15T10:00:00Z',
  eventSource: 'iotevents.amazonaws.com',
  eventName: 'ListInputs',
  awsRegion: 'eu-west-1',
  sourceIPAddress: '198.51.100.7',
  requestID: 'req',
  eventType: 'AwsApiCall',
  recipientAccountId: A,
  ...over,
});

let fixture: FixtureServers;
let source: string;

beforeAll(async () => {
  source = tempDir('trailql-call-keys-');
  const put = (day: string, name: string, records: unknown[]) => {
    const folder = path.join(source, 'AWSLogs', A, 'CloudTrail', 'eu-west-1', ...day.split('/'));
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, `${A}_CloudTrail_eu-west-1_${name}.json`), JSON.stringify({ Records: records }));
  };
  put('2026/03/14', '20260314T1005Z_early', [
    record({ eventID: 'across-days', recipientAccountId: B, eventTime: '2026-03-14T10:00:00Z' }),
    record({ eventID: 'delivered-twice', eventTime: '2026-03-14T23:59:00Z' }),
  ]);
  put('2026/03/15', '20260315T1005Z_first', [
    record({ eventID: 'two-accounts' }),
    record({ eventID: 'two-accounts', recipientAccountId: B, eventTime: '2026-03-15T10:00:01Z' }),
    record({ eventID: 'two-regions' }),
    record({ eventID: 'two-regions', awsRegion: 'us-east-1', eventTime: '2026-03-15T10:00:02Z' }),
    record({ eventID: 'delivered-twice', eventTime: '2026-03-14T23:59:00Z' }),
  ]);
  put('2026/03/15', '20260315T1105Z_second', [
    record({ eventID: 'across-days', eventTime: '2026-03-15T11:00:00Z' }),
    record({ eventID: 'two-accounts' }),
  ]);
  fixture = await serveFixture(source, { EVENT_SOURCES: 'iotevents.amazonaws.com', CURSOR_SECRET: 'call-keys-cursor-secret' }, () => new Date('2026-03-20T00:00:00Z'));
}, 120_000);

afterAll(async () => {
  await fixture?.close();
  if (source) fs.rmSync(source, { recursive: true, force: true });
});

const calls = async (engine: 'json' | 'parquet' | 'athena', window: { from: string; to: string }, server = fixture.servers[engine]) => {
  const r = await server.gql<{ apiCalls: { totalCount: number; nodes: { eventId: string; account: string; region: string }[] }; actions: { calls: number }[] }>(
    'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 50) { totalCount nodes { eventId account region } } actions(filter: $f) { calls } }',
    { f: window },
  );
  expect(r.errors).toBeUndefined();
  expect(r.extensions?.complete).toBe(true);
  const ids = r.data!.apiCalls.nodes.map((n) => `${n.eventId}@${n.account}/${n.region}`).sort();
  expect([r.data!.apiCalls.totalCount, r.data!.actions.reduce((s, a) => s + a.calls, 0)]).toEqual([ids.length, ids.length]);
  return ids;
};

test('the store was compacted from every day', () => {
  expect(fixture.compacted.length).toBe(2);
});

const DAY_15 = { from: '2026-03-15T00:00:00Z', to: '2026-03-16T00:00:00Z' };
const IN_DAY_15 = [`across-days@${A}/eu-west-1`, `two-accounts@${A}/eu-west-1`, `two-accounts@${B}/eu-west-1`, `two-regions@${A}/eu-west-1`, `two-regions@${A}/us-east-1`].sort();
const DAYS_14_15 = { from: '2026-03-14T00:00:00Z', to: '2026-03-16T00:00:00Z' };
const IN_DAYS_14_15 = [...IN_DAY_15, `across-days@${B}/eu-west-1`, `delivered-twice@${A}/eu-west-1`].sort();

test.each(['json', 'parquet', 'athena'] as const)('on %s, one eventID in two accounts or regions is two calls, and a copy is one', async (engine) => {
  expect(await calls(engine, DAY_15)).toEqual(IN_DAY_15);
  expect(await calls(engine, DAYS_14_15)).toEqual(IN_DAYS_14_15);
});

test('a store written one partition at a time keeps them alike', async () => {
  const dir = tempDir('trailql-call-keys-one-');
  fs.cpSync(source, dir, { recursive: true });
  const server = await (async () => {
    const { compacted } = await compactTrail({ trailDir: dir, eventSources: ['iotevents.amazonaws.com'], batchFiles: 0 });
    expect(compacted.length).toBe(2);
    return startServer(dir, { EVENT_SOURCES: 'iotevents.amazonaws.com' }, { now: () => new Date('2026-03-20T00:00:00Z') });
  })();
  try {
    expect(await calls('parquet', DAY_15, server)).toEqual(IN_DAY_15);
    expect(await calls('parquet', DAYS_14_15, server)).toEqual(IN_DAYS_14_15);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
