/**
 * A caller's identity fields are those of its newest call, all of them from that one call: a
 * field the newest call lacks is null, never filled from an older call; the access key and the
 * session's creation time are among them. On both dialects (DuckDB, and the Athena SQL through
 * the shim, whose max_by keeps a NULL where DuckDB's skips it). A caller none of whose records
 * names an identity type keeps its newest call's fields.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DialectPair, startDialectPair } from './support/dialect-pair';
import { RawRecord, listRecordFiles, readRecords } from './support/records';
import { SAMPLE_END, sampleTrail } from './support/trails';

const ARN = 'arn:aws:iam::111122223333:user/mixed-caller';
const SERVICE = 'untyped-test.amazonaws.com';
const F = { from: new Date(SAMPLE_END.getTime() - 3 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
const at = (minutesBefore: number) => new Date(SAMPLE_END.getTime() - minutesBefore * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

let pair: DialectPair;
let dir: string;

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 10 });
  const file = listRecordFiles(dir).at(-1)!;
  const base = readRecords(dir).find((f) => f.record.eventSource === 'iotevents.amazonaws.com' && f.record.userIdentity?.type === 'IAMUser')!.record;
  const identity = { type: 'IAMUser', principalId: 'AIDAMIXEDCALLER', arn: ARN, accountId: '111122223333', userName: 'mixed-caller' };
  const call = (n: number, minutesBefore: number, extra: Record<string, unknown>): RawRecord => ({
    ...base,
    eventID: `00000000-0000-4000-8000-00000000c0${n}0`,
    eventTime: at(minutesBefore),
    userIdentity: { ...identity, ...extra },
  });
  const records = [
    // Older calls: one through the console (invokedBy, a long-term key), one with MFA.
    call(1, 90, { invokedBy: 'AWS Internal', accessKeyId: 'AKIAOLDERKEY0000', sessionContext: { attributes: { mfaAuthenticated: 'true', creationDate: at(120) } } }),
    call(2, 60, { accessKeyId: 'AKIAOLDERKEY0001' }),
    // The newest: no invokedBy, a session key, no MFA attribute, a session created 30 minutes before.
    call(3, 10, { accessKeyId: 'ASIANEWESTKEY000', sessionContext: { attributes: { creationDate: at(40) } } }),
  ];
  // A service whose records name no identity type, only who invoked the call.
  const service = (n: number, minutesBefore: number): RawRecord => ({ ...base, eventID: `00000000-0000-4000-8000-00000000d0${n}0`, eventTime: at(minutesBefore), userIdentity: { invokedBy: SERVICE } });
  records.push(service(1, 50), service(2, 20));
  fs.writeFileSync(path.join(path.dirname(file), `mixed_${Date.now()}.json.gz`), gzipSync(JSON.stringify({ Records: records })));
  pair = await startDialectPair(dir);
});

afterAll(async () => {
  await pair?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const FIELDS = 'key arn userName invokedBy accessKeyId temporaryCredentials mfaAuthenticated sessionCreated';

test.each(['duck', 'athena'] as const)('%s: caller and callers give the newest call\'s identity, field for field', async (which) => {
  const server = pair[which];
  const res = await server.gql(`query($f: ApiCallFilter) {
    caller(key: "${ARN}", filter: $f) { ${FIELDS} calls(first: 1) { nodes { caller { ${FIELDS.replace('key ', '')} } } } }
    callers(filter: { from: "${F.from}", to: "${F.to}", callerArns: ["${ARN}"] }) { nodes { ${FIELDS} } }
  }`, { f: F });
  expect(res.errors).toBeUndefined();
  const newest = { arn: ARN, userName: 'mixed-caller', invokedBy: null, accessKeyId: 'ASIANEWESTKEY000', temporaryCredentials: true, mfaAuthenticated: null, sessionCreated: new Date(at(40)).toISOString() };
  const { calls, ...caller } = res.data.caller;
  expect(caller).toEqual({ key: ARN, ...newest });
  expect(calls.nodes[0].caller).toEqual(newest);
  expect(res.data.callers.nodes).toEqual([{ key: ARN, ...newest }]);
});

test.each(['duck', 'athena'] as const)('%s: a caller none of whose records names an identity type keeps what its newest call says', async (which) => {
  const res = await pair[which].gql(`query($f: ApiCallFilter) {
    caller(key: "${SERVICE}", filter: $f) { key invokedBy identityType category calls(first: 1) { nodes { caller { invokedBy identityType category } } } }
  }`, { f: F });
  expect(res.errors).toBeUndefined();
  const { calls, ...caller } = res.data.caller;
  expect(caller).toEqual({ key: SERVICE, ...calls.nodes[0].caller });
  expect(caller.invokedBy).toBe(SERVICE);
  expect(caller.category).toBe('AWS_SERVICE');
});
