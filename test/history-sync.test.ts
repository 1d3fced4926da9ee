/**
 * Event history sync against a stand-in LookupEvents (aws-sdk-client-mock, and a fake HTTP
 * handler where the SDK's own retry strategy must run): paging, one lookup attribute per call,
 * incremental runs, an interrupted run resumed, throttling, the rate limit on a fake clock, and the
 * same GraphQL answers from a synced folder as from the delivered trail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { EventHistoryConfig, loadConfig } from '../src/config';
import { EXPORT_PAGE_QUERY } from '../src/export/columns';
import { runSync } from '../src/history/run';
import { SyncFailedError, syncEventHistory } from '../src/history/sync';
import { STATE_FOLDER } from '../src/history/state';
import { HistoryCoverage } from '../src/history/coverage';
import { parseDeliveryKey } from '../src/trail/layout';
import { FakeEventHistory, eventOf, mockCredentialsAccount, withCallerIdentity } from './support/event-history';
import { IOT_SOURCES, RawRecord, listRecordFiles, readRecords } from './support/records';
import { TEST_KEY, TEST_KEYS, startServer, testConfig } from './support/server';
import { createCache } from '../src/cache';
import { createLogger } from '../src/logger';
import { SAMPLE_END, sampleTrail, settleFolders, tempDir } from './support/trails';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const NOW = new Date('2026-03-15T12:00:00Z');
const HOUR = 3_600_000;

function record(i: number, time: Date, source = 'iotevents.amazonaws.com'): RawRecord {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:user/ops`, accountId: ACCOUNT, accessKeyId: 'AKIAEXAMPLE', userName: 'ops' },
    eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: source,
    eventName: 'DescribeDetectorModel',
    awsRegion: REGION,
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15',
    requestParameters: { detectorModelName: `model-${i}` },
    responseElements: null,
    requestID: `req-${i}`,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    readOnly: true,
    resources: [{ ARN: `arn:aws:iotevents:${REGION}:${ACCOUNT}:detectorModel/model-${i}`, accountId: ACCOUNT, type: 'AWS::IoTEvents::DetectorModel' }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  };
}

/** `n` records spread over the hours before `end`, alternating between the two IoT Events sources. */
function records(n: number, end: Date, first = 0, spanMs = 20 * HOUR): RawRecord[] {
  return Array.from({ length: n }, (_, k) => record(first + k, new Date(end.getTime() - 1000 - Math.floor((k * spanMs) / n)), IOT_SOURCES[k % 2]));
}

/** Every record in the folder, with the file it is in. */
function onDisk(dir: string) {
  return readRecords(dir);
}

function expectEachOnce(dir: string, expected: RawRecord[]) {
  const found = onDisk(dir);
  expect(found.map((f) => f.record.eventID).sort()).toEqual(expected.map((r) => r.eventID).sort());
  for (const { file, record: r } of found) {
    const key = parseDeliveryKey(file.slice(dir.length + 1));
    expect(key).toMatchObject({ account: r.recipientAccountId, region: REGION });
    expect(key!.deliveryTime!.getTime()).toBeGreaterThan(Date.parse(r.eventTime));
  }
}

const SOURCES = IOT_SOURCES;

function mocked(history: FakeEventHistory) {
  const client = new CloudTrailClient({ region: REGION });
  const mock = mockClient(client);
  mock.on(LookupEventsCommand).callsFake((input) => history.answer(input));
  return { client, mock };
}

/** A client over `history` whose `failAt`-th request fails (a reset connection) until `heal()`. */
function failingAt(history: FakeEventHistory, failAt: number) {
  const client = new CloudTrailClient({ region: REGION });
  let n = 0;
  let failing = true;
  mockClient(client)
    .on(LookupEventsCommand)
    .callsFake((input) => {
      n += 1;
      if (failing && n === failAt) throw Object.assign(new Error('connection reset'), { name: 'NetworkingError' });
      return history.answer(input);
    });
  return { client, heal: () => (failing = false) };
}

function options(dir: string, client: CloudTrailClient, now = NOW) {
  return { trailDir: dir, regions: [REGION], account: ACCOUNT, eventSources: SOURCES, days: 90, overlapMinutes: 30, client: () => client, now: () => now };
}

describe('paging and files', () => {
  test('many pages, one EventSource attribute per call, each record written once, text untouched', async () => {
    const dir = tempDir();
    const all = records(620, NOW);
    const history = new FakeEventHistory(all.map(eventOf));
    const { client } = mocked(history);
    const [a, b] = await syncEventHistory(options(dir, client));
    expect(a.pages + b.pages).toBe(history.calls.length);
    expect(history.calls.length).toBe(Math.ceil(310 / 50) * 2);
    for (const call of history.calls) {
      expect(call.MaxResults).toBe(50);
      expect(call.LookupAttributes).toHaveLength(1);
      expect(call.LookupAttributes![0].AttributeKey).toBe('EventSource');
    }
    expect(a.written + b.written).toBe(620);
    expect(a.account).toBe(ACCOUNT);
    expectEachOnce(dir, all);
    const texts = new Set(all.map((r) => JSON.stringify(r)));
    const lines = listRecordFiles(dir).flatMap((f) => gunzipSync(fs.readFileSync(f)).toString('utf8').split('\n'));
    expect(lines.filter((l: string) => l.startsWith('{"eventVersion"')).every((l: string) => texts.has(l.replace(/,$/, '')))).toBe(true);
    expect(fs.existsSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a second run asks from the last synced time minus the overlap and writes only the new events', async () => {
    const dir = tempDir();
    const old = records(120, NOW);
    const history = new FakeEventHistory(old.map(eventOf));
    const { client } = mocked(history);
    await syncEventHistory(options(dir, client));
    const later = new Date(NOW.getTime() + 2 * HOUR);
    const fresh = records(80, later, 1000, HOUR);
    // An event that showed up late: its time is before the first run's end, within the overlap.
    const late = record(5000, new Date(NOW.getTime() - 10 * 60_000));
    history.add([...fresh, late].map(eventOf));
    history.calls.length = 0;
    const results = await syncEventHistory(options(dir, client, later));
    expect(results.reduce((s, r) => s + r.written, 0)).toBe(81);
    for (const call of history.calls) expect(call.StartTime!.getTime()).toBe(NOW.getTime() - 30 * 60_000);
    expectEachOnce(dir, [...old, ...fresh, late]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('records without an account to file them under are left out, counted and kept in the state', async () => {
    const dir = tempDir();
    // Within the overlap a second run asks again.
    const when = new Date(NOW.getTime() - 10 * 60_000);
    const r = record(1, when);
    delete r.recipientAccountId;
    delete r.userIdentity.accountId;
    const history = new FakeEventHistory([eventOf(r), { ...eventOf(record(2, when)), CloudTrailEvent: undefined }]);
    const { client } = mocked(history);
    const results = await syncEventHistory({ ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] });
    expect(results[0]).toMatchObject({ events: 2, written: 0, skipped: 2, account: ACCOUNT });
    expect(listRecordFiles(dir)).toHaveLength(0);
    // The state keeps them, each once however often a run meets them again.
    const second = await syncEventHistory({ ...options(dir, client, new Date(NOW.getTime() + 60_000)), eventSources: ['iotevents.amazonaws.com'] });
    expect(second[0]).toMatchObject({ events: 2, skipped: 2 });
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    const time = when.toISOString();
    expect(state.leftOut).toEqual([
      { eventId: record(2, when).eventID, from: time, to: time, reason: 'no CloudTrailEvent' },
      { eventId: r.eventID, from: time, to: time, reason: 'no account' },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

test("an event left out whose text names another time than LookupEvents' is filed over both: an answer over either says it lacks it", async () => {
  const dir = tempDir();
  const listed = new Date(NOW.getTime() - HOUR);
  const written = new Date(NOW.getTime() - 40 * 24 * HOUR);
  const r = record(7, written);
  delete r.recipientAccountId;
  delete r.userIdentity.accountId;
  const history = new FakeEventHistory([{ ...eventOf(r), EventTime: listed }]);
  await syncEventHistory({ ...options(dir, mocked(history).client), eventSources: ['iotevents.amazonaws.com'] });
  const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
  expect(state.leftOut).toEqual([{ eventId: r.eventID, from: written.toISOString(), to: listed.toISOString(), reason: 'no account' }]);
  const coverage = new HistoryCoverage({ trailDir: dir, regions: [REGION], eventSources: ['iotevents.amazonaws.com'], graceMs: 15 * 60_000, now: () => NOW });
  const around = (t: Date) => ({ window: { from: new Date(t.getTime() - 5 * 60_000), to: new Date(t.getTime() + 5 * 60_000) }, partitions: { days: [], regions: [], accounts: [] } });
  expect(coverage.leftOut([around(listed)])).toEqual([expect.objectContaining({ count: 1, reasons: ['no account'] })]);
  expect(coverage.leftOut([around(written)])).toEqual([expect.objectContaining({ count: 1, reasons: ['no account'] })]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('over a synced folder, an answer that may hold data-plane calls says Event history has none; one of the control plane is whole', async () => {
  const dir = tempDir();
  const history = new FakeEventHistory([eventOf(record(1, new Date(NOW.getTime() - HOUR)))]);
  await syncEventHistory(options(dir, mocked(history).client));
  const server = await startServer(dir, { EVENT_HISTORY_REGIONS: REGION, EVENT_HISTORY_SYNC_INTERVAL_MINUTES: '0' }, { now: () => NOW });
  const COUNT = 'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }';
  const window = { from: new Date(NOW.getTime() - 3 * HOUR).toISOString(), to: NOW.toISOString() };
  try {
    const data = await server.gql(COUNT, { f: { ...window, actions: ['BatchPutMessage'] } });
    expect(data.data.apiCalls.totalCount).toBe(0);
    expect(data.extensions?.complete).toBe(false);
    const [warning] = data.extensions?.warnings as { code: string; message: string; regions: unknown[] }[];
    expect(warning!.code).toBe('HISTORY_NOT_SYNCED');
    expect(warning!.regions).toEqual([{ region: REGION, source: 'ioteventsdata.amazonaws.com', coveredFrom: null, coveredTo: null, neverInEventHistory: true }]);
    expect(warning!.message).toMatch(/Event history holds no data events: ioteventsdata\.amazonaws\.com calls are not in this answer/);

    const control = await server.gql(COUNT, { f: { ...window, eventSources: ['iotevents.amazonaws.com'] } });
    expect(control.data.apiCalls.totalCount).toBe(1);
    expect(control.extensions?.complete).toBe(true);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('several accounts synced into one folder', () => {
  const OTHER = '210987654321';
  /** `record` of `account` (its identity, resources and recipient). */
  const recordOf = (account: string, i: number, time: Date) => JSON.parse(JSON.stringify(record(i, time)).split(ACCOUNT).join(account)) as RawRecord;
  const stateOf = (dir: string, account: string) => JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${account}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));

  test("each credentials' run continues its own account's state: no account's events are skipped", async () => {
    const dir = tempDir();
    const opts = (account: string, client: CloudTrailClient, now: Date) => ({ ...options(dir, client, now), account, eventSources: ['iotevents.amazonaws.com'] });
    const mine = new FakeEventHistory([eventOf(record(1, new Date(NOW.getTime() - HOUR)))]);
    const theirs = new FakeEventHistory([eventOf(recordOf(OTHER, 2, new Date(NOW.getTime() - 30 * 24 * HOUR)))]);
    await syncEventHistory(opts(ACCOUNT, mocked(mine).client, NOW));
    // A day later the other account's credentials sync into the same folder: its first run reaches back 90 days.
    const later = new Date(NOW.getTime() + 24 * HOUR);
    const between = record(3, new Date(NOW.getTime() + 12 * HOUR));
    mine.add([eventOf(between)]);
    const [other] = await syncEventHistory(opts(OTHER, mocked(theirs).client, later));
    expect(other).toMatchObject({ account: OTHER, written: 1 });
    expect(theirs.calls[0]!.StartTime!.getTime()).toBe(later.getTime() - 90 * 24 * HOUR);
    expect(stateOf(dir, OTHER)).toMatchObject({ syncedTo: later.toISOString(), coveredFrom: new Date(later.getTime() - 90 * 24 * HOUR).toISOString() });
    // The first account's state is where its own run left it, so its next run asks for the day between.
    expect(stateOf(dir, ACCOUNT).syncedTo).toBe(NOW.toISOString());
    const [again] = await syncEventHistory(opts(ACCOUNT, mocked(mine).client, new Date(later.getTime() + HOUR)));
    expect(again).toMatchObject({ account: ACCOUNT, written: 1 });
    expect(onDisk(dir).map((f) => f.record.eventID).sort()).toEqual([record(1, NOW).eventID, recordOf(OTHER, 2, NOW).eventID, between.eventID].sort());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a state an earlier version kept before it knew the account gives its left-out events, not its progress', async () => {
    const dir = tempDir();
    const when = new Date(NOW.getTime() - 5 * HOUR).toISOString();
    const pendingFile = `${dir}/${STATE_FOLDER}/_pending/${REGION}/iotevents.amazonaws.com.json`;
    fs.mkdirSync(path.dirname(pendingFile), { recursive: true });
    // Synced up to now by credentials of an account that had no events: perhaps not this one.
    fs.writeFileSync(pendingFile, JSON.stringify({ syncedTo: NOW.toISOString(), coveredFrom: new Date(NOW.getTime() - 90 * 24 * HOUR).toISOString(), walk: null, leftOut: [{ eventId: 'e-9', from: when, to: when, reason: 'no account' }] }));
    const history = new FakeEventHistory([eventOf(record(1, new Date(NOW.getTime() - 40 * 24 * HOUR)))]);
    const later = new Date(NOW.getTime() + HOUR);
    await syncEventHistory({ ...options(dir, mocked(history).client, later), eventSources: ['iotevents.amazonaws.com'] });
    expect(history.calls[0]!.StartTime!.getTime()).toBe(later.getTime() - 90 * 24 * HOUR);
    expect(onDisk(dir)).toHaveLength(1);
    expect(stateOf(dir, ACCOUNT).leftOut).toEqual([{ eventId: 'e-9', from: when, to: when, reason: 'no account' }]);
    expect(fs.existsSync(pendingFile)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('the oldest day Event history keeps', () => {
  test('a first walk that takes hours begins its stretch where Event history still held calls when the walk reached them', async () => {
    const dir = tempDir();
    const history = new FakeEventHistory(records(300, NOW, 0, 89 * 24 * HOUR).map(eventOf));
    const { client } = mocked(history);
    // Every request takes an hour: the walk reaches its oldest page three hours after it began.
    const clock = () => new Date(NOW.getTime() + history.calls.length * HOUR);
    await syncEventHistory({ ...options(dir, client), eventSources: ['iotevents.amazonaws.com'], now: clock });
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    expect(history.calls).toHaveLength(3);
    expect(history.calls[0]!.StartTime!.getTime()).toBe(NOW.getTime() - 90 * 24 * HOUR);
    expect(state).toMatchObject({ syncedTo: NOW.toISOString(), coveredFrom: new Date(NOW.getTime() + 3 * HOUR - 90 * 24 * HOUR).toISOString() });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a record whose text names another time than LookupEvents' EventTime", () => {
  test('is filed by its own time, and the walk counts its progress by EventTime', async () => {
    const dir = tempDir();
    const all = records(120, NOW).filter((r) => r.eventSource === 'iotevents.amazonaws.com');
    // Among the newest: listed at its EventTime, its text dated six years earlier.
    const odd = { ...eventOf(all[3]!), CloudTrailEvent: JSON.stringify({ ...all[3], eventTime: '2020-01-01T00:05:00Z' }) };
    const history = new FakeEventHistory([...all.filter((_, i) => i !== 3).map(eventOf), odd]);
    const { client, heal } = failingAt(history, 2);
    const opts = { ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] };
    await expect(syncEventHistory(opts)).rejects.toThrow('connection reset');
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    // One page of 50 fetched: done down to (the slot of) its oldest EventTime, not to 2020.
    const pageOldest = Math.min(...all.slice(0, 50).map((r) => Date.parse(r.eventTime)));
    expect(Date.parse(state.walk.doneDownTo)).toBeGreaterThanOrEqual(pageOldest - 5 * 60_000);
    heal();
    await syncEventHistory(opts);
    expect(onDisk(dir).find((f) => f.record.eventID === all[3]!.eventID)!.file).toContain('/2020/01/01/');
    expect(onDisk(dir)).toHaveLength(all.length);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a record's own eventTime", () => {
  test('is read as the engines read it, a time without a zone as UTC whatever the host zone; a record without one they read is left out and said so', async () => {
    const dir = tempDir();
    const at = (minutes: number) => new Date(NOW.getTime() - 2 * HOUR + minutes * 60_000);
    const text = (r: RawRecord, eventTime: unknown) => JSON.stringify({ ...r, eventTime });
    const stamp = (t: Date) => t.toISOString().slice(0, 19);
    const written = [
      { r: record(1, at(0)), as: (t: Date) => stamp(t) },
      { r: record(2, at(1)), as: (t: Date) => stamp(t).replace('T', ' ') },
      { r: record(3, at(2)), as: (t: Date) => `${stamp(t)}+0000` },
      { r: record(4, at(3)), as: (t: Date) => `${stamp(new Date(t.getTime() + 2 * HOUR))}+02` },
    ];
    const unreadable = [
      { r: record(5, at(4)), eventTime: undefined, reason: 'no eventTime' },
      { r: record(6, at(5)), eventTime: '2026-02-30T10:00:00Z', reason: 'eventTime not readable' },
      { r: record(7, at(6)), eventTime: stamp(at(6)).slice(0, 16) + 'Z', reason: 'eventTime not readable' },
      { r: record(8, at(7)), eventTime: `${stamp(at(7))}z`, reason: 'eventTime not readable' },
    ];
    const events = [
      ...written.map(({ r, as }) => ({ ...eventOf(r), CloudTrailEvent: text(r, as(new Date(Date.parse(r.eventTime)))) })),
      ...unreadable.map(({ r, eventTime }) => ({ ...eventOf(r), CloudTrailEvent: text(r, eventTime) })),
    ];
    const zone = process.env.TZ;
    // Twelve hours and more ahead of UTC: read as local time, a zone-less time would move a day folder.
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      const { client } = mocked(new FakeEventHistory(events));
      const [result] = await syncEventHistory({ ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] });
      expect(result).toMatchObject({ written: written.length, skipped: unreadable.length });
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect(onDisk(dir).map((f) => f.record.eventID).sort()).toEqual(written.map(({ r }) => r.eventID).sort());
    const env = { EVENT_HISTORY_REGIONS: REGION, EVENT_SOURCES: 'iotevents.amazonaws.com' };
    const server = await startServer(dir, env, { now: () => NOW });
    try {
      const window = { from: at(-60).toISOString(), to: at(60).toISOString() };
      const r = await server.gql<{ apiCalls: { totalCount: number; edges: { node: { eventId: string; eventTime: string } }[] } }>(
        'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 20) { totalCount edges { node { eventId eventTime } } } }',
        { f: window },
      );
      expect(r.errors).toBeUndefined();
      // Each written record at its own time, in UTC.
      expect(r.data!.apiCalls.edges.map((e) => [e.node.eventId, Date.parse(e.node.eventTime)]).sort()).toEqual(written.map(({ r }) => [r.eventID, Date.parse(r.eventTime)]).sort());
      expect(r.extensions?.complete).toBe(false);
      expect(r.extensions?.warnings).toEqual([
        expect.objectContaining({
          code: 'HISTORY_EVENTS_LEFT_OUT',
          count: unreadable.length,
          regions: [expect.objectContaining({ count: unreadable.length, from: at(4).toISOString(), to: at(7).toISOString(), reasons: ['eventTime not readable', 'no eventTime'] })],
        }),
      ]);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('files a crash of the machine can leave damaged', () => {
  test('a slot file that cannot be read is set aside under a name the engine still reads, and the sync goes on', async () => {
    const dir = tempDir();
    const first = record(1, new Date(NOW.getTime() - 10 * 60_000));
    const history = new FakeEventHistory([eventOf(first)]);
    const { client } = mocked(history);
    const opts = (now: Date) => ({ ...options(dir, client, now), eventSources: ['iotevents.amazonaws.com'] });
    await syncEventHistory(opts(NOW));
    const [file] = listRecordFiles(dir);
    // Emptied by a power loss after its rename reached the disk.
    fs.writeFileSync(file!, '');
    const second = record(2, new Date(NOW.getTime() - 9 * 60_000));
    history.add([eventOf(second)]);
    const [result] = await syncEventHistory(opts(new Date(NOW.getTime() + 60_000)));
    expect(result).toMatchObject({ written: 2 });
    const files = listRecordFiles(dir).sort();
    expect(files).toHaveLength(2);
    const aside = files.find((f) => f !== file)!;
    expect(path.basename(aside)).toMatch(/^\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[0-9a-f]{16}Unreadable[0-9a-z]+\.json\.gz$/);
    expect(fs.statSync(aside).size).toBe(0);
    // The slot, written again with what this run met (its overlap met the first record again).
    const slot = JSON.parse(gunzipSync(fs.readFileSync(file!)).toString('utf8')) as { Records: RawRecord[] };
    expect(slot.Records.map((r) => r.eventID).sort()).toEqual([first.eventID, second.eventID].sort());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a state file that cannot be read is kept aside, and the sync starts a first walk again', async () => {
    const dir = tempDir();
    const history = new FakeEventHistory([eventOf(record(1, new Date(NOW.getTime() - 10 * 60_000)))]);
    const { client } = mocked(history);
    const opts = (now: Date) => ({ ...options(dir, client, now), eventSources: ['iotevents.amazonaws.com'] });
    await syncEventHistory(opts(NOW));
    const stateFile = `${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`;
    fs.writeFileSync(stateFile, '{"syncedTo": "2026-03-');
    history.calls.length = 0;
    const later = new Date(NOW.getTime() + HOUR);
    await syncEventHistory(opts(later));
    expect(history.calls[0]!.StartTime!.getTime()).toBe(later.getTime() - 90 * 24 * HOUR);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))).toMatchObject({ syncedTo: later.toISOString(), walk: null });
    expect(fs.readdirSync(path.dirname(stateFile)).filter((f) => f.includes('unreadable-'))).toHaveLength(1);
    expect(onDisk(dir)).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('an event left out', () => {
  test('that a later run gets whole is written and no longer counted as missing', async () => {
    const dir = tempDir();
    const when = new Date(NOW.getTime() - 10 * 60_000);
    const whole = eventOf(record(7, when));
    const opts = (client: CloudTrailClient, now: Date) => ({ ...options(dir, client, now), eventSources: ['iotevents.amazonaws.com'] });
    await syncEventHistory(opts(mocked(new FakeEventHistory([{ ...whole, CloudTrailEvent: undefined }])).client, NOW));
    const first = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    expect(first.leftOut).toEqual([{ eventId: whole.EventId, from: when.toISOString(), to: when.toISOString(), reason: 'no CloudTrailEvent' }]);
    // Within the next run's overlap, Event history now gives its record.
    const [result] = await syncEventHistory(opts(mocked(new FakeEventHistory([whole])).client, new Date(NOW.getTime() + 60_000)));
    expect(result).toMatchObject({ written: 1, skipped: 0, account: ACCOUNT });
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    expect(state.leftOut).toBeUndefined();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('stays missing until its record is on disk: a run stopped before writing it keeps it', async () => {
    const dir = tempDir();
    const when = new Date(NOW.getTime() - 10 * 60_000);
    const whole = eventOf(record(7, when));
    // The next run's first page: 49 newer events and this one, the oldest, whose slot is written
    // only once an older page comes; the page after it fails.
    const newer = Array.from({ length: 49 }, (_, k) => eventOf(record(100 + k, new Date(NOW.getTime() - 60_000 - k * 10_000))));
    const older = Array.from({ length: 10 }, (_, k) => eventOf(record(200 + k, new Date(NOW.getTime() - 15 * 60_000 - k * 30_000))));
    const opts = (client: CloudTrailClient, now: Date) => ({ ...options(dir, client, now), eventSources: ['iotevents.amazonaws.com'] });
    await syncEventHistory(opts(mocked(new FakeEventHistory([...newer, { ...whole, CloudTrailEvent: undefined }, ...older])).client, NOW));
    const file = `${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`;
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).leftOut).toEqual([expect.objectContaining({ eventId: whole.EventId })]);
    const { client } = failingAt(new FakeEventHistory([...newer, whole, ...older]), 2);
    await expect(syncEventHistory(opts(client, new Date(NOW.getTime() + 60_000)))).rejects.toThrow('connection reset');
    const onDisk = readRecords(dir).map((f) => f.record.eventID);
    expect(onDisk).not.toContain(whole.EventId);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).leftOut).toEqual([expect.objectContaining({ eventId: whole.EventId })]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('many events left out', () => {
  test('across pages and an interrupted walk resumed: each counted once, whether kept one by one or folded by day', async () => {
    const dir = tempDir();
    const bad = Array.from({ length: 700 }, (_, k) => ({ ...eventOf(record(2000 + k, new Date(NOW.getTime() - 1000 - k * 60_000))), CloudTrailEvent: undefined }));
    const good = records(50, NOW).map((r) => ({ ...r, eventSource: 'iotevents.amazonaws.com' }));
    const history = new FakeEventHistory([...good.map(eventOf), ...bad]);
    // After 12 pages: 600 met, more than a state keeps one by one.
    const { client, heal } = failingAt(history, 13);
    const opts = { ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] };
    await expect(syncEventHistory(opts)).rejects.toThrow('connection reset');
    heal();
    await syncEventHistory(opts);
    const file = `${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`;
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { leftOut: { count?: number; folded?: boolean }[] };
    expect(state.leftOut.some((e) => e.folded)).toBe(true);
    expect(state.leftOut.reduce((t, e) => t + (e.count ?? 1), 0)).toBe(700);
    const coverage = new HistoryCoverage({ trailDir: dir, regions: [REGION], eventSources: ['iotevents.amazonaws.com'], graceMs: HOUR, now: () => NOW });
    const all = { window: { from: new Date(NOW.getTime() - 48 * HOUR), to: NOW }, partitions: { regions: [], accounts: [], days: [] } };
    expect(coverage.leftOut([all])).toEqual([expect.objectContaining({ count: 700 })]);
    // A third run meets the newest again (its overlap) and 20 new ones: each once, though the
    // state, past its bound, now folds some it kept one by one.
    history.add(Array.from({ length: 20 }, (_, k) => ({ ...eventOf(record(3000 + k, new Date(NOW.getTime() + 1000 + k * 60_000))), CloudTrailEvent: undefined })));
    await syncEventHistory({ ...opts, now: () => new Date(NOW.getTime() + HOUR) });
    expect(coverage.leftOut([{ ...all, window: { ...all.window, to: new Date(NOW.getTime() + HOUR) } }])).toEqual([expect.objectContaining({ count: 720 })]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('more than a state keeps one by one, all within the overlap: the runs that meet them again count each once', async () => {
    const dir = tempDir();
    // 600 in the last quarter of an hour, each without an account to file it under.
    const bad = Array.from({ length: 600 }, (_, k) => {
      const r = record(4000 + k, new Date(NOW.getTime() - 1000 - k * 1500));
      delete r.recipientAccountId;
      return eventOf(r);
    });
    const { client } = mocked(new FakeEventHistory(bad));
    const opts = { ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] };
    const coverage = (now: Date) => new HistoryCoverage({ trailDir: dir, regions: [REGION], eventSources: ['iotevents.amazonaws.com'], graceMs: HOUR, now: () => now });
    const window = { window: { from: new Date(NOW.getTime() - HOUR), to: NOW }, partitions: { regions: [], accounts: [], days: [] } };
    // Each later run asks again from the last one's end minus the 30-minute overlap: all 600 again.
    for (const minutes of [0, 15, 25, 40]) {
      const now = new Date(NOW.getTime() + minutes * 60_000);
      const [result] = await syncEventHistory({ ...opts, now: () => now });
      expect(result).toMatchObject({ events: minutes === 40 ? expect.any(Number) : 600 });
      expect(coverage(now).leftOut([window])).toEqual([expect.objectContaining({ count: 600 })]);
    }
    // Once no run asks for them again, a state keeps them folded by day, still counted once.
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8')) as { leftOut: { count?: number; folded?: boolean }[] };
    expect(state.leftOut.some((e) => e.folded)).toBe(true);
    expect(state.leftOut.reduce((t, e) => t + (e.count ?? 1), 0)).toBe(600);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a state holding one entry that is not one keeps the others', async () => {
    const dir = tempDir();
    const kept = { eventId: 'e-1', from: new Date(NOW.getTime() - 5 * HOUR).toISOString(), to: new Date(NOW.getTime() - 5 * HOUR).toISOString(), reason: 'no account' };
    const file = `${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`;
    fs.mkdirSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}`, { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ syncedTo: new Date(NOW.getTime() - HOUR).toISOString(), walk: null, coveredFrom: new Date(NOW.getTime() - 48 * HOUR).toISOString(), leftOut: [kept, { eventId: 'e-2', from: 'not a time' }] }));
    const { client } = mocked(new FakeEventHistory(records(10, NOW).map((r) => eventOf({ ...r, eventSource: 'iotevents.amazonaws.com' }))));
    await syncEventHistory({ ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).leftOut).toEqual([kept]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('answers over events the sync could not write', () => {
  test('say so: complete false, how many, where, when and why, on /graphql and in downloads, never given again', async () => {
    const dir = tempDir();
    const good = records(30, NOW).map((r) => ({ ...r, eventSource: 'iotevents.amazonaws.com' }));
    const badTime = new Date(NOW.getTime() - 2 * HOUR);
    const bad = { ...eventOf(record(900, badTime)), CloudTrailEvent: '{"eventID": "cut short' };
    const history = new FakeEventHistory([...good.map(eventOf), bad]);
    const { client } = mocked(history);
    await syncEventHistory({ ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] });
    const env = { EVENT_HISTORY_REGIONS: REGION, EVENT_SOURCES: 'iotevents.amazonaws.com' };
    const cache = createCache(testConfig(dir, env), createLogger('silent'), { now: () => NOW });
    const server = await startServer(dir, env, { now: () => NOW, cache });
    const COUNT = 'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount } }';
    const ask = (from: Date, to: Date) => server.gql(COUNT, { f: { from: from.toISOString(), to: to.toISOString() } });
    try {
      // A window holding the event it could not write.
      const over = [new Date(badTime.getTime() - HOUR), new Date(badTime.getTime() + HOUR)] as const;
      const first = await ask(...over);
      expect(first.extensions?.complete).toBe(false);
      expect(first.extensions?.warnings).toEqual([
        expect.objectContaining({
          code: 'HISTORY_EVENTS_LEFT_OUT',
          count: 1,
          regions: [{ region: REGION, source: 'iotevents.amazonaws.com', count: 1, from: badTime.toISOString(), to: badTime.toISOString(), reasons: ['CloudTrailEvent is not JSON'] }],
        }),
      ]);
      // Not kept to be given again as if whole: the cost report shows it ran again.
      const again = await ask(...over);
      expect(again.extensions?.complete).toBe(false);
      expect(again.extensions?.cost.answeredAgain).toBeUndefined();
      // A window without it is whole.
      const before = await ask(new Date(badTime.getTime() - 3 * HOUR), new Date(badTime.getTime() - HOUR));
      expect(before.extensions?.complete).toBe(true);
      expect(before.extensions?.warnings).toBeUndefined();
      // A download over it says so before its first row.
      const filter = encodeURIComponent(JSON.stringify({ from: over[0].toISOString(), to: over[1].toISOString() }));
      const res = await fetch(`${server.url.replace(/\/graphql$/, '')}/export/api-calls?format=csv&filter=${filter}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-trailql-complete')).toBe('false');
      expect(res.headers.get('x-trailql-warnings')).toBe('HISTORY_EVENTS_LEFT_OUT');
      expect(res.headers.get('content-disposition')).toMatch(/_incomplete\.csv"$/);
      await res.text();
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a kept answer is not given again once a later run meets, within its window, an event it cannot write', async () => {
    const dir = tempDir();
    // None in the next run's overlap: it writes no file (and changes no day folder), only its state.
    const good = records(30, new Date(NOW.getTime() - HOUR)).map((r) => ({ ...r, eventSource: 'iotevents.amazonaws.com' }));
    const history = new FakeEventHistory(good.map(eventOf));
    const { client } = mocked(history);
    const opts = { ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] };
    await syncEventHistory(opts);
    // Written a while ago: answers over its folders are kept.
    settleFolders(dir);
    const env = { EVENT_HISTORY_REGIONS: REGION, EVENT_SOURCES: 'iotevents.amazonaws.com' };
    const cache = createCache(testConfig(dir, env), createLogger('silent'), { now: () => NOW });
    const server = await startServer(dir, env, { now: () => NOW, cache });
    const COUNT = 'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount } }';
    // An ended window: its answer is kept and given again while nothing changes.
    const window = { from: new Date(NOW.getTime() - 25 * 60_000).toISOString(), to: new Date(NOW.getTime() - 5 * 60_000).toISOString() };
    const ask = () => server.gql(COUNT, { f: window });
    try {
      expect((await ask()).extensions?.complete).toBe(true);
      expect((await ask()).extensions?.cost.answeredAgain).toBe(true);
      // Event history shows an event of that window late, without a usable record; the next run's overlap meets it.
      const late = new Date(NOW.getTime() - 10 * 60_000);
      history.add([{ ...eventOf(record(901, late)), CloudTrailEvent: undefined }]);
      const [result] = await syncEventHistory({ ...opts, now: () => new Date(NOW.getTime() + 60_000) });
      expect(result).toMatchObject({ skipped: 1, written: 0 });
      const after = await ask();
      expect(after.extensions?.cost.answeredAgain).toBeUndefined();
      expect(after.extensions?.complete).toBe(false);
      expect(after.extensions?.warnings).toEqual([expect.objectContaining({ code: 'HISTORY_EVENTS_LEFT_OUT', count: 1 })]);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a region that fails', () => {
  test('does not keep the other regions from their walk: they are written, and the run names the failed one', async () => {
    const dir = tempDir();
    const all = records(120, NOW).map((r) => ({ ...r, eventSource: 'iotevents.amazonaws.com' }));
    const history = new FakeEventHistory(all.map(eventOf));
    const { client } = mocked(history);
    const denied = new CloudTrailClient({ region: 'ap-east-1' });
    mockClient(denied)
      .on(LookupEventsCommand)
      .rejects(Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException' }));
    const opts = { ...options(dir, client), regions: ['ap-east-1', REGION], eventSources: ['iotevents.amazonaws.com'], client: (region: string) => (region === REGION ? client : denied) };
    const failed = await syncEventHistory(opts).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(SyncFailedError);
    const { results, failures, message } = failed as SyncFailedError;
    expect(message).toMatch(/^ap-east-1 iotevents\.amazonaws\.com: The security token/);
    expect(failures.map((f) => f.region)).toEqual(['ap-east-1']);
    expect(results.map((r) => [r.region, r.written])).toEqual([[REGION, 120]]);
    expectEachOnce(dir, all);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('an interrupted run', () => {
  test('keeps what it wrote and the next run continues below it, repeating at most a slot', async () => {
    const dir = tempDir();
    const all = records(400, NOW).map((r) => ({ ...r, eventSource: 'iotevents.amazonaws.com' }));
    const history = new FakeEventHistory(all.map(eventOf));
    const client = new CloudTrailClient({ region: REGION });
    const mock = mockClient(client);
    let n = 0;
    mock.on(LookupEventsCommand).callsFake((input) => {
      n += 1;
      if (n === 4) throw Object.assign(new Error('connection reset'), { name: 'NetworkingError' });
      return history.answer(input);
    });
    const opts = { ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] };
    await expect(syncEventHistory(opts)).rejects.toThrow('connection reset');
    const kept = onDisk(dir).length;
    expect(kept).toBeGreaterThan(100);
    expect(kept).toBeLessThan(150);
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    expect(state.syncedTo).toBeNull();
    expect(Date.parse(state.walk.doneDownTo)).toBeLessThan(NOW.getTime());
    // The failure is written down (answers then give the newest minutes no grace), until a run finishes.
    expect(state.failedAt).toBe(NOW.toISOString());
    history.calls.length = 0;
    const [result] = await syncEventHistory(opts);
    expect(JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8')).failedAt).toBeUndefined();
    // The resumed walk asks only below what was kept (plus a minute), then the new window.
    expect(history.calls[0].EndTime!.getTime()).toBe(Date.parse(state.walk.doneDownTo) + 60_000);
    const repeated = result.events - (400 - kept);
    expect(repeated).toBeLessThan(50);
    expect(result.written).toBe(400 - kept);
    expectEachOnce(dir, all);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('answers over time the sync has not reached', () => {
  test('runs failing since the last one that finished: the newest minutes, within the schedule, are said missing', async () => {
    const dir = tempDir();
    const MIN = 60_000;
    const history = new FakeEventHistory([eventOf({ ...record(1, new Date(NOW.getTime() - 60 * MIN)), eventSource: 'iotevents.amazonaws.com' })]);
    const { client } = mocked(history);
    const opts = { ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] };
    await syncEventHistory(opts);
    // An event after the last finished run; the next runs are throttled all the way.
    history.add([eventOf({ ...record(2, new Date(NOW.getTime() + 10 * MIN)), eventSource: 'iotevents.amazonaws.com' })]);
    const throttled = new CloudTrailClient({ region: REGION });
    mockClient(throttled).on(LookupEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    for (const m of [15, 30]) await expect(syncEventHistory({ ...opts, client: () => throttled, now: () => new Date(NOW.getTime() + m * MIN) })).rejects.toBeInstanceOf(SyncFailedError);
    // Forty minutes after the last finished run, inside its interval and overlap (45 minutes).
    const at = new Date(NOW.getTime() + 40 * MIN);
    const server = await startServer(dir, { EVENT_HISTORY_REGIONS: REGION, EVENT_SOURCES: 'iotevents.amazonaws.com' }, { now: () => at });
    try {
      const res = await server.gql('query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount } }', { f: { from: NOW.toISOString(), to: at.toISOString() } });
      expect(res.data.apiCalls.totalCount).toBe(0);
      expect(res.extensions?.complete).toBe(false);
      expect(res.extensions?.warnings).toEqual([expect.objectContaining({ code: 'HISTORY_NOT_SYNCED', regions: [expect.objectContaining({ region: REGION, coveredTo: NOW.toISOString() })] })]);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('say so until the sync has come down to it: complete false, the region and what it holds named, never given again', async () => {
    const dir = tempDir();
    const all: RawRecord[] = records(400, NOW).map((r) => ({ ...r, eventSource: 'iotevents.amazonaws.com' }));
    const history = new FakeEventHistory(all.map(eventOf));
    const { client, heal } = failingAt(history, 4);
    const opts = { ...options(dir, client), eventSources: ['iotevents.amazonaws.com'] };
    await expect(syncEventHistory(opts)).rejects.toThrow('connection reset');
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    const doneDownTo = new Date(state.walk.doneDownTo);
    const env = { EVENT_HISTORY_REGIONS: REGION, EVENT_SOURCES: 'iotevents.amazonaws.com' };
    // Answers kept as deployed: a complete answer over an ended window is given again while its files stay as they are.
    const cache = createCache(testConfig(dir, env), createLogger('silent'), { now: () => NOW });
    const server = await startServer(dir, env, { now: () => NOW, cache });
    const COUNT = 'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount } }';
    const ask = (from: Date, to: Date) => server.gql(COUNT, { f: { from: from.toISOString(), to: to.toISOString() } });
    const between = (from: Date, to: Date) => all.filter((r) => Date.parse(r.eventTime) >= from.getTime() && Date.parse(r.eventTime) < to.getTime()).length;
    try {
      // What the walk has fetched is all there: complete.
      const recent = await ask(doneDownTo, NOW);
      expect(recent.extensions?.complete).toBe(true);
      expect(recent.data.apiCalls.totalCount).toBe(between(doneDownTo, NOW));
      // Below it, the calls are not on disk yet: the answer says so, and what the region holds.
      const older = new Date(NOW.getTime() - 20 * HOUR);
      const gap = await ask(older, doneDownTo);
      expect(gap.extensions?.complete).toBe(false);
      expect(gap.extensions?.warnings).toEqual([
        expect.objectContaining({ code: 'HISTORY_NOT_SYNCED', regions: [{ region: REGION, source: 'iotevents.amazonaws.com', coveredFrom: state.walk.doneDownTo, coveredTo: state.walk.to }] }),
      ]);
      expect(gap.data.apiCalls.totalCount).toBeLessThan(between(older, doneDownTo));
      // Days with no calls at all: nothing on disk changes when the sync reaches them.
      const quiet = [new Date(NOW.getTime() - 5 * 24 * HOUR), new Date(NOW.getTime() - 4 * 24 * HOUR)] as const;
      expect((await ask(...quiet)).extensions?.complete).toBe(false);

      heal();
      await syncEventHistory(opts);
      const done = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
      expect(done.coveredFrom).toBe(new Date(NOW.getTime() - 90 * 24 * HOUR).toISOString());
      const synced = await ask(older, doneDownTo);
      expect(synced.extensions?.complete).toBe(true);
      expect(synced.data.apiCalls.totalCount).toBe(between(older, doneDownTo));
      // The answer that said "not synced" was not kept to be given again.
      const quietNow = await ask(...quiet);
      expect(quietNow.extensions?.complete).toBe(true);
      expect(quietNow.data.apiCalls.totalCount).toBe(0);
      // Before the oldest day Event history keeps, nothing was synced.
      const tooOld = await ask(new Date(NOW.getTime() - 92 * 24 * HOUR), new Date(NOW.getTime() - 91 * 24 * HOUR));
      expect(tooOld.extensions?.complete).toBe(false);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const SETTINGS: EventHistoryConfig = { regions: [REGION], intervalMinutes: 0, days: 90, overlapMinutes: 30, requestsPerSecond: 2, maxAttempts: 4 };
const WIRE = { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } };

describe('through the SDK stack', () => {
  let sts: ReturnType<typeof mockCredentialsAccount>;
  beforeEach(() => (sts = mockCredentialsAccount(ACCOUNT)));
  afterEach(() => sts.restore());

  test('a ThrottlingException is retried by the SDK retry strategy, and the page is kept', async () => {
    const dir = tempDir();
    const all = records(60, new Date());
    const history = new FakeEventHistory(all.map(eventOf));
    let requests = 0;
    const handler = history.handler((k) => k === 1 || k === 2, () => (requests += 1));
    const results = await runSync({ trailDir: dir, eventSources: ['iotevents.amazonaws.com'], settings: SETTINGS, clientExtra: { ...WIRE, requestHandler: handler } });
    expect(requests).toBe(3);
    expect(results[0]).toMatchObject({ pages: 1, events: 30, written: 30, account: ACCOUNT });
    // The account came from the credentials, asked once before the walk.
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a host clock 45 minutes ahead of AWS's: the run syncs up to AWS's time, so the next one still asks for what came since", async () => {
    sts.restore();
    const dir = tempDir();
    const AHEAD = 45 * 60_000;
    const aws = () => new Date(Date.now() - AHEAD);
    const history = new FakeEventHistory(records(10, aws()).map(eventOf));
    const handler = withCallerIdentity(history.handler(), ACCOUNT, aws);
    await runSync({ trailDir: dir, eventSources: ['iotevents.amazonaws.com'], settings: SETTINGS, clientExtra: { ...WIRE, requestHandler: handler } });
    const state = JSON.parse(fs.readFileSync(`${dir}/${STATE_FOLDER}/${ACCOUNT}/${REGION}/iotevents.amazonaws.com.json`, 'utf8'));
    // Within a minute of AWS's time (the SDK measures the offset to the second), far from this host's.
    expect(Math.abs(Date.parse(state.syncedTo) - aws().getTime())).toBeLessThan(60_000);
    expect(Math.abs(history.calls[0]!.EndTime!.getTime() - aws().getTime())).toBeLessThan(60_000);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('throttled beyond maxAttempts: the run fails after exactly maxAttempts requests', async () => {
    const dir = tempDir();
    const history = new FakeEventHistory(records(10, new Date()).map(eventOf));
    let requests = 0;
    const handler = history.handler(() => true, () => (requests += 1));
    await expect(runSync({ trailDir: dir, eventSources: ['iotevents.amazonaws.com'], settings: { ...SETTINGS, maxAttempts: 2 }, clientExtra: { ...WIRE, requestHandler: handler } })).rejects.toThrow(/Rate exceeded/);
    expect(requests).toBe(2);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('fake clock: never more than 2 requests in any second per account and region', async () => {
    jest.useFakeTimers({ now: NOW });
    try {
      const dir = tempDir();
      const history = new FakeEventHistory([...records(500, NOW)].map(eventOf));
      const at: number[] = [];
      const handler = history.handler((k) => k === 3, () => at.push(Date.now()));
      let done = false;
      const run = runSync({ trailDir: dir, eventSources: SOURCES, settings: SETTINGS, clientExtra: { ...WIRE, requestHandler: handler } }).finally(() => (done = true));
      for (let i = 0; i < 2000 && !done; i++) await jest.advanceTimersByTimeAsync(50);
      await run;
      expect(at.length).toBe(10 + 1);
      for (let i = 2; i < at.length; i++) expect(at[i] - at[i - 2]).toBeGreaterThanOrEqual(1000);
      fs.rmSync(dir, { recursive: true, force: true });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('a synced folder answers like the delivered trail', () => {
  test('same apiCalls pages, actions and callers', async () => {
    const trail = await sampleTrail(1, { iotEventsPerDay: 120, otherEventsPerIotEvent: 1 });
    const synced = tempDir();
    try {
      const seen = new Set<string>();
      const iot = readRecords(trail)
        .map((f) => f.record)
        .filter((r) => IOT_SOURCES.includes(r.eventSource) && r.eventID && !seen.has(r.eventID) && seen.add(r.eventID));
      // Event history is regional: each region's client answers that region's events.
      const regions = [...new Set(iot.map((r) => r.awsRegion as string))];
      const clients = new Map(
        regions.map((region) => {
          const history = new FakeEventHistory(iot.filter((r) => r.awsRegion === region).map(eventOf));
          const client = new CloudTrailClient({ region });
          mockClient(client).on(LookupEventsCommand).callsFake((input) => history.answer(input));
          return [region, client] as const;
        }),
      );
      // (The sample holds several accounts' calls; each record is filed under its own account.)
      await syncEventHistory({ trailDir: synced, regions, account: iot[0]!.recipientAccountId as string, eventSources: SOURCES, days: 90, overlapMinutes: 30, client: (r) => clients.get(r)!, now: () => SAMPLE_END });
      const filter = { from: new Date(SAMPLE_END.getTime() - 30 * HOUR).toISOString(), to: SAMPLE_END.toISOString() };
      const ask = async (dir: string) => {
        const server = await startServer(dir, { MAX_PAGE_SIZE: '500' }, { now: () => SAMPLE_END });
        try {
          const page = await server.gql(EXPORT_PAGE_QUERY, { filter, first: 500, withTotal: false });
          const summary = await server.gql('query($f: ApiCallFilter) { actions(filter: $f) { action calls errors } callers(filter: $f, first: 50) { nodes { key principal category } } }', { f: filter });
          return { page: page.data, errors: [page.errors, summary.errors], summary: summary.data };
        } finally {
          await server.close();
        }
      };
      const fromTrail = await ask(trail);
      const fromSync = await ask(synced);
      expect(fromTrail.errors).toEqual([undefined, undefined]);
      expect(fromTrail.page.apiCalls.edges.length).toBeGreaterThan(50);
      expect(fromTrail.page.apiCalls.pageInfo.hasNextPage).toBe(false);
      expect(fromSync.page.apiCalls.edges.map((e: { node: unknown }) => e.node)).toEqual(fromTrail.page.apiCalls.edges.map((e: { node: unknown }) => e.node));
      expect(fromSync.summary).toEqual(fromTrail.summary);
    } finally {
      fs.rmSync(trail, { recursive: true, force: true });
      fs.rmSync(synced, { recursive: true, force: true });
    }
  });
});

describe('configuration', () => {
  test('regions are validated and need a trail folder to write into', () => {
    expect(() => loadConfig({ EVENT_HISTORY_REGIONS: 'us-east-1', API_KEYS: JSON.stringify(TEST_KEYS) })).toThrow(/EVENT_HISTORY_REGIONS: Event history is synced into TRAIL_DIR/);
    expect(() => loadConfig({ TRAIL_DIR: '/tmp/x', EVENT_HISTORY_REGIONS: 'us-east-1,not a region', API_KEYS: JSON.stringify(TEST_KEYS) })).toThrow(/EVENT_HISTORY_REGIONS/);
    expect(() => loadConfig({ TRAIL_DIR: '/tmp/x', EVENT_HISTORY_DAYS: '91', API_KEYS: JSON.stringify(TEST_KEYS) })).toThrow(/EVENT_HISTORY_DAYS/);
    expect(() => loadConfig({ TRAIL_DIR: '/tmp/x', EVENT_HISTORY_REQUESTS_PER_SECOND: '3', API_KEYS: JSON.stringify(TEST_KEYS) })).toThrow(/EVENT_HISTORY_REQUESTS_PER_SECOND/);
    // Shorter than Event history's lateness, a late event would never be fetched.
    expect(() => loadConfig({ TRAIL_DIR: '/tmp/x', EVENT_HISTORY_OVERLAP_MINUTES: '14', API_KEYS: JSON.stringify(TEST_KEYS) })).toThrow(/EVENT_HISTORY_OVERLAP_MINUTES/);
    expect(loadConfig({ TRAIL_DIR: '/tmp/x', EVENT_HISTORY_OVERLAP_MINUTES: '15', API_KEYS: JSON.stringify(TEST_KEYS) }).eventHistory.overlapMinutes).toBe(15);
    const config = loadConfig({ TRAIL_DIR: '/tmp/x', EVENT_HISTORY_REGIONS: 'us-east-1, eu-west-1,us-east-1', API_KEYS: JSON.stringify(TEST_KEYS) });
    expect(config.eventHistory).toEqual({ regions: ['us-east-1', 'eu-west-1'], intervalMinutes: 15, days: 90, overlapMinutes: 30, requestsPerSecond: 2, maxAttempts: 8 });
  });
});
