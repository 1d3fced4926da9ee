/**
 * A JSON file in a trail folder that is no CloudTrail log (no `Records` array, as `{"Records":
 * null}` or `{"Records": 42}`, or an entry in it that is no object: `null`, a number, a string, a list) adds no call: it is left out and named like any file that cannot be read, so an answer
 * over its day says what it lacks instead of counting nothing for it. A log with an empty
 * `Records` list is a log with no records.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { listRecordFiles } from './support/records';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const sample = useSampleServer(1, { iotEventsPerDay: 8, otherEventsPerIotEvent: 1 });

const QUERY = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }`;
const F = { from: new Date(SAMPLE_END.getTime() - 86_400_000).toISOString(), to: SAMPLE_END.toISOString() };

const NOT_A_RECORD = 'not a CloudTrail log file (a Records entry is not an object)';
const NOT_AN_OBJECT = 'not a CloudTrail log file (not a JSON object)';
const CALL = { eventVersion: '1.08', eventID: 'f00dcafe-0000-4000-8000-000000000001', eventTime: new Date(SAMPLE_END.getTime() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), eventSource: 'iotevents.amazonaws.com', eventName: 'ListInputs', awsRegion: 'us-east-1', recipientAccountId: '111122223333' };

test.each([
  ['{"Records": null}', JSON.stringify({ Records: null }), 'not a CloudTrail log file (no Records array)'],
  ['{"Records": {<a call>}}', JSON.stringify({ Records: CALL }), 'not a CloudTrail log file (no Records array)'],
  ['{"Records": 42}', JSON.stringify({ Records: 42 }), 'not a CloudTrail log file (no Records array)'],
  ['{"Records": []}', JSON.stringify({ Records: [] }), null],
  // A record without an eventSource is a record (of no service served): no reason to set its file aside.
  ['{"Records": [{<a record without eventSource>}]}', JSON.stringify({ Records: [{ ...CALL, eventSource: undefined }] }), null],
  ['{"Records": [null]}', JSON.stringify({ Records: [null] }), NOT_A_RECORD],
  ['{"Records": [<a call>, null]}', JSON.stringify({ Records: [CALL, null] }), NOT_A_RECORD],
  ['{"Records": [<a call>, 42]}', JSON.stringify({ Records: [CALL, 42] }), NOT_A_RECORD],
  ['{"Records": [<a call>, "text"]}', JSON.stringify({ Records: [CALL, 'text'] }), NOT_A_RECORD],
  ['{"Records": [[<a call>]]}', JSON.stringify({ Records: [[CALL]] }), NOT_A_RECORD],
  // A file whose top level is no object is no log, whatever it holds: read with the others, it
  // must not make the reader take every file for a list of records.
  ['[]', '[]', NOT_AN_OBJECT],
  ['[{"Records": []}]', JSON.stringify([{ Records: [] }]), NOT_AN_OBJECT],
  ['[{"Records": [<a call>]}]', JSON.stringify([{ Records: [CALL] }]), NOT_AN_OBJECT],
  ['42', '42', NOT_AN_OBJECT],
  ['"text"', '"text"', NOT_AN_OBJECT],
  ['null', 'null', 'not a CloudTrail log file (no Records array)'],
])('%s', async (_name, body, reason) => {
  const file = listRecordFiles(sample.dir).at(-1)!;
  const planted = path.join(path.dirname(file), `111122223333_CloudTrail_us-east-1_20260315T1155Z_notalog${Date.now()}.json.gz`);
  const before = await sample.server.gql(QUERY, { f: F }, { 'x-trailql-no-cache': '1' });
  expect(before.extensions?.complete).toBe(true);
  fs.writeFileSync(planted, gzipSync(body));
  try {
    const res = await sample.server.gql(QUERY, { f: F }, { 'x-trailql-no-cache': '1' });
    expect(res.errors).toBeUndefined();
    expect(res.data.apiCalls.totalCount).toBe(before.data.apiCalls.totalCount);
    if (reason === null) {
      expect(res.extensions?.complete).toBe(true);
      return;
    }
    expect(res.extensions?.complete).toBe(false);
    const warning = (res.extensions?.warnings as { code: string; files: { path: string; reason: string }[] }[]).find((w) => w.code === 'FILES_UNREADABLE')!;
    expect(warning.files).toEqual([{ path: path.relative(sample.dir, planted).split(path.sep).join('/'), reason }]);
  } finally {
    fs.rmSync(planted);
  }
});
