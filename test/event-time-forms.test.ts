/**
 * The eventTime texts read as a time (fields.ts EVENT_TIME_PATTERN) are the same on DuckDB over
 * JSON, over the Parquet store and on the Athena dialect (through the shim): each engine's own
 * reader takes more, and differently. A record's time never depends on another record's text.
 * Texts outside the pattern are untimed records everywhere, and the rules that bucket times
 * (insights) still run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVENT_TIME_PATTERN } from '../src/query/fields';
import { recordTime } from '../src/history/sync';
import { FixtureServers, serveFixture } from './support/fixture-engines';
import { tempDir } from './support/trails';

const ACCOUNT = '111122223333';
const NOW = () => new Date('2026-03-16T00:00:00Z');
const WINDOW = { from: '2026-03-15T00:00:00Z', to: '2026-03-16T00:00:00Z' };

/** eventTime as written -> the time every engine reads, or null (untimed). */
const FORMS: [string, string | null][] = [
  ['2026-03-15T10:00:01Z', '2026-03-15T10:00:01Z'],
  ['2026-03-15 10:00:02', '2026-03-15T10:00:02Z'],
  ['2026-03-15T10:00:03', '2026-03-15T10:00:03Z'],
  // A zone name: DuckDB alone would read it, and then read the zone-less times after it in that zone.
  ['2026-03-15T12:00:04 Europe/Berlin', null],
  ['2026-03-15T10:00:05', '2026-03-15T10:00:05Z'],
  ['2026-03-15T12:00:06+02:00', '2026-03-15T10:00:06Z'],
  ['2026-03-15T12:00:07+0200', '2026-03-15T10:00:07Z'],
  ['2026-03-15T12:00:08+02', '2026-03-15T10:00:08Z'],
  ['2026-03-15T10:00:09.123456789Z', '2026-03-15T10:00:09Z'],
  [' 2026-03-15T10:00:10Z', null],
  ['2026-03-15T10:00:11Z ', null],
  ['2026-03-15  10:00:12', null],
  ['2026-03-15T10:00:13 UTC', null],
  ['2026-03-15T10:00Z', null],
  ['2026-03-15T10:00:15z', null],
  ['2026-03-15', null],
  ['2026-03-15T24:00:00Z', null],
  ['2026-02-30T10:00:17Z', null],
  ['infinity', null],
  ['-infinity', null],
  ['epoch', null],
  ['', null],
  // Offsets: up to 23:59 either way, as JavaScript, Trino and the sync read them; DuckDB alone
  // would read minutes or hours past those (+99:99 as 99 hours and 99 minutes).
  ['2026-03-15T23:30:23+23:30', '2026-03-15T00:00:23Z'],
  ['2026-03-15T10:00:24+05:75', null],
  ['2026-03-15T10:00:25+24:00', null],
  ['2026-03-15T10:00:26+99', null],
];

const idOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function writeTrail(): string {
  const dir = tempDir('trailql-time-forms-');
  const folder = path.join(dir, 'AWSLogs', ACCOUNT, 'CloudTrail', 'eu-west-1', '2026', '03', '15');
  fs.mkdirSync(folder, { recursive: true });
  const records = FORMS.map(([eventTime], i) => ({
    eventVersion: '1.09',
    userIdentity: { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT },
    eventTime,
    eventSource: 'iotevents.amazonaws.com',
    eventName: 'ListInputs',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${i}`,
    eventID: idOf(i),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  }));
  // All in one file, in this order: a record read before another must not change how it is read.
  fs.writeFileSync(path.join(folder, `${ACCOUNT}_CloudTrail_eu-west-1_20260315T2355Z_forms.json`), JSON.stringify({ Records: records }));
  return dir;
}

let fixture: FixtureServers;
let source: string;

beforeAll(async () => {
  source = writeTrail();
  fixture = await serveFixture(source, { EVENT_SOURCES: 'iotevents.amazonaws.com', CURSOR_SECRET: 'time-forms-cursor-secret' }, NOW);
}, 120_000);

afterAll(async () => {
  await fixture?.close();
  if (source) fs.rmSync(source, { recursive: true, force: true });
});

test('the pattern is what the table says, in JavaScript too', () => {
  const pattern = new RegExp(EVENT_TIME_PATTERN);
  for (const [text, time] of FORMS) if (!['2026-02-30T10:00:17Z'].includes(text)) expect([text, pattern.test(text)]).toEqual([text, time !== null]);
  // A date not in the calendar matches the pattern; the engines' own readers refuse it.
  expect(pattern.test('2026-02-30T10:00:17Z')).toBe(true);
  // No question mark: a statement's only ones are its parameters.
  expect(EVENT_TIME_PATTERN).not.toContain('?');
});

test('the Event history sync reads each form as the table says (to the second: it files by day)', () => {
  const second = (d: Date | undefined) => (d ? new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString() : null);
  for (const [text, time] of FORMS) expect([text, second(recordTime(text))]).toEqual([text, time && new Date(time).toISOString()]);
});

describe.each(['json', 'parquet', 'athena'] as const)('on %s', (name) => {
  test('each form is read as the table says, whatever the records around it', async () => {
    const r = await fixture.servers[name].gql<{ apiCalls: { totalCount: number; untimedRecords: number; edges: { node: { eventId: string; eventTime: string } }[] } }>(
      'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 100) { totalCount untimedRecords edges { node { eventId eventTime } } } }',
      { f: WINDOW },
    );
    expect(r.errors).toBeUndefined();
    const timed = FORMS.flatMap(([, time], i) => (time ? [[idOf(i), new Date(time).toISOString()]] : []));
    expect(r.data!.apiCalls.edges.map((e) => [e.node.eventId, new Date(e.node.eventTime).toISOString()]).sort()).toEqual(timed.sort());
    expect(r.data!.apiCalls.totalCount).toBe(timed.length);
    expect(r.data!.apiCalls.untimedRecords).toBe(FORMS.length - timed.length);
  });

  test('rules that bucket times run over untimed records', async () => {
    const r = await fixture.servers[name].gql<{ insights: { totalCount: number } }>('query($f: ApiCallFilter) { insights(filter: $f) { totalCount } }', { f: WINDOW });
    expect(r.errors).toBeUndefined();
    expect(r.data!.insights.totalCount).toBeGreaterThan(0);
  });
});
