import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { IOT_EVENTS_ACTIONS, IOT_EVENTS_SOURCES } from '../src/domain/iotevents-actions';
import { dayPath, deliveryKey, parseDeliveryKey } from '../src/trail/layout';
import { generateSampleTrail, type SampleTrailOptions, type SampleTrailResult } from '../src/trail/sample';
import { parseCli } from '../src/trail/sample-cli';

type Rec = Record<string, unknown> & {
  eventTime: string;
  eventSource: string;
  eventName: string;
  eventID: string;
  sourceIPAddress: string;
  userIdentity: Record<string, unknown>;
};

const END = new Date('2024-03-15T12:00:00Z');
const BASE: Omit<SampleTrailOptions, 'outDir' | 'seed'> = { days: 1.5, end: END, iotEventsPerDay: 200 };

let tmp: string;
let dirA: string;
let dirB: string;
let dirC: string;
let resA: SampleTrailResult;
let resC: SampleTrailResult;

function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) visit(full);
      else out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  visit(root);
  return out.sort();
}

function readGz(file: string): unknown {
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8'));
}

interface Loaded {
  rel: string;
  records: Rec[];
}

let recordFiles: Loaded[];
let all: Rec[];
let iot: Rec[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-sample-'));
  dirA = path.join(tmp, 'a');
  dirB = path.join(tmp, 'b');
  dirC = path.join(tmp, 'c');
  // Concurrent runs must not disturb each other either.
  [resA, , resC] = await Promise.all([
    generateSampleTrail({ ...BASE, outDir: dirA, seed: 42 }),
    generateSampleTrail({ ...BASE, outDir: dirB, seed: 42 }),
    generateSampleTrail({ ...BASE, outDir: dirC, seed: 43, days: 0.5 }),
  ]);
  recordFiles = walk(dirA)
    .filter((rel) => rel.includes('/CloudTrail/'))
    .map((rel) => ({ rel, records: (readGz(path.join(dirA, rel)) as { Records: Rec[] }).Records }));
  all = recordFiles.flatMap((f) => f.records);
  iot = all.filter((r) => IOT_EVENTS_SOURCES.includes(r.eventSource));
  // Three trails at once: a machine busy with other suites takes its time.
}, 180_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('layout helpers', () => {
  it('builds account and organization keys', () => {
    const time = new Date('2024-01-02T23:58:41Z');
    expect(deliveryKey({ account: '111122223333', region: 'eu-west-1', time, unique: 'AbCdEf0123456789' })).toBe(
      'AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/02/111122223333_CloudTrail_eu-west-1_20240102T2358Z_AbCdEf0123456789.json.gz',
    );
    expect(deliveryKey({ account: '777788889999', orgId: 'o-a1b2c3d4e5', region: 'us-east-1', time, unique: 'x1' })).toBe(
      'AWSLogs/o-a1b2c3d4e5/777788889999/CloudTrail/us-east-1/2024/01/02/777788889999_CloudTrail_us-east-1_20240102T2358Z_x1.json.gz',
    );
    expect(dayPath(new Date('2024-02-29T23:59:59.999Z'))).toBe('2024/02/29');
    expect(dayPath(new Date('2024-03-01T00:30:00+01:00'))).toBe('2024/02/29');
  });

  it('parses record keys and round-trips', () => {
    const key = deliveryKey({ account: '777788889999', orgId: 'o-a1b2c3d4e5', region: 'us-east-1', time: new Date('2024-01-02T00:05:00Z'), unique: 'Zz9' });
    expect(parseDeliveryKey(key)).toEqual({
      orgId: 'o-a1b2c3d4e5',
      account: '777788889999',
      region: 'us-east-1',
      day: '2024/01/02',
      file: '777788889999_CloudTrail_us-east-1_20240102T0005Z_Zz9.json.gz',
      deliveryTime: new Date('2024-01-02T00:05:00Z'),
    });
    const plain = parseDeliveryKey(
      'some/prefix/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json',
    );
    expect(plain).toMatchObject({ account: '218007301253', region: 'us-east-1', day: '2023/07/10' });
    expect(plain?.orgId).toBeUndefined();
    expect(parseDeliveryKey('AWSLogs\\123456789012\\CloudTrail\\us-east-1\\2019\\02\\07\\x.json.gz')).toMatchObject({ day: '2019/02/07' });
  });

  it('parses the real fixtures laid out as S3', () => {
    const root = path.resolve(__dirname, '../../shared/fixtures/real-cloudtrail');
    const dirs = ['iotevents-docs/s3-layout', 'invictus-ir/s3-layout'].map((d) => path.join(root, d)).filter((d) => fs.existsSync(d));
    for (const dir of dirs) {
      const files = walk(dir);
      expect(files.length).toBeGreaterThan(0);
      expect(files.filter((rel) => parseDeliveryKey(rel) === null)).toEqual([]);
    }
  });

  it('rejects anything that is not a record file', () => {
    for (const p of [
      'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/02/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20240102T060031Z.json.gz',
      'AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/01/02/111122223333_CloudTrail-Insight_us-east-1_20240102T0605Z_abc.json.gz',
      'AWSLogs/o-a1b2c3d4e5/777788889999/CloudTrail-Digest/us-east-1/2024/01/02/x.json.gz',
      'AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02/notes.txt',
      'AWSLogs/111122223333/CloudTrail/us-east-1/2024/13/02/x.json.gz',
      'AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02/sub/x.json.gz',
      'AWSLogs/1111/CloudTrail/us-east-1/2024/01/02/x.json.gz',
      'AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/x.json.gz',
    ]) {
      expect(parseDeliveryKey(p)).toBeNull();
    }
  });
});

describe('sample trail', () => {
  it('is deterministic: same seed, same bytes; other seed, other bytes', () => {
    const a = walk(dirA);
    const b = walk(dirB);
    expect(b).toEqual(a);
    for (const rel of a) {
      expect(fs.readFileSync(path.join(dirB, rel)).equals(fs.readFileSync(path.join(dirA, rel)))).toBe(true);
    }
    // Another seed (over the last day of the same window): other file names, other content.
    const c = walk(dirC);
    const inA = new Set(a);
    expect(c.filter((rel) => inA.has(rel) && !rel.includes('/CloudTrail-Digest/')).length).toBe(0);
    const lastDay = dayPath(new Date(END.getTime() - 1));
    const firstRecords = (dir: string, files: string[]): string =>
      JSON.stringify(files.filter((rel) => rel.includes('/CloudTrail/') && rel.includes(lastDay)).slice(0, 20).map((rel) => readGz(path.join(dir, rel))));
    expect(firstRecords(dirC, c)).not.toBe(firstRecords(dirA, a));
    expect(resC.records).toBeGreaterThan(0);
  });

  it('reports what it wrote', () => {
    expect(resA.files).toBe(recordFiles.length);
    expect(resA.records).toBe(all.length);
    expect(resA.iotEventsRecords).toBe(iot.length);
    expect(resA.end.toISOString()).toBe(END.toISOString());
    expect(resA.start.toISOString()).toBe('2024-03-14T00:00:00.000Z');
    expect(resA.digestFiles).toBeGreaterThan(0);
  });

  it('follows the S3 layout, with events before their delivery and inside the window', () => {
    const start = resA.start.getTime();
    const end = resA.end.getTime();
    let nextDay = 0;
    const bad: string[] = [];
    for (const f of recordFiles) {
      const parsed = parseDeliveryKey(f.rel);
      const delivered = parsed?.deliveryTime;
      if (!parsed || !delivered) {
        bad.push(`unparsed ${f.rel}`);
        continue;
      }
      if (delivered.getTime() > end) bad.push(`delivered after the end: ${f.rel}`);
      if (parsed.day !== dayPath(delivered)) bad.push(`wrong day folder: ${f.rel}`);
      if (f.records.length === 0) bad.push(`empty: ${f.rel}`);
      for (const r of f.records) {
        const t = Date.parse(r.eventTime);
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(r.eventTime)) bad.push(`eventTime ${r.eventTime}`);
        if (t > delivered.getTime()) bad.push(`after delivery: ${r.eventID} in ${f.rel}`);
        if (t < start || t > end) bad.push(`outside the window: ${r.eventID}`);
        if (dayPath(new Date(t)) !== parsed.day) nextDay++;
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(nextDay).toBeGreaterThan(0);
    expect(all.length).toBeGreaterThan(1000);
  });

  it('writes digests and an Insights file that record readers skip', () => {
    const files = walk(dirA);
    const digests = files.filter((rel) => rel.includes('/CloudTrail-Digest/'));
    const insights = files.filter((rel) => rel.includes('/CloudTrail-Insight/'));
    expect(digests.length).toBe(resA.digestFiles);
    expect(insights.length).toBe(1);
    for (const rel of [...digests, ...insights]) expect(parseDeliveryKey(rel)).toBeNull();
    expect(files.length).toBe(recordFiles.length + digests.length + insights.length);
    const digest = readGz(path.join(dirA, digests[digests.length - 1]!)) as {
      awsAccountId: string;
      digestStartTime: string;
      logFiles: { s3Object: string; hashValue: string }[];
    };
    expect(digest.awsAccountId).toMatch(/^\d{12}$/);
    expect(digest.digestStartTime).toMatch(/Z$/);
    expect(digest.logFiles.length).toBeGreaterThan(0);
    for (const lf of digest.logFiles) {
      expect(fs.existsSync(path.join(dirA, lf.s3Object))).toBe(true);
      expect(lf.hashValue).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('has an organization trail beside the account trails', () => {
    const files = recordFiles.map((f) => f.rel);
    expect(files.some((rel) => rel.startsWith('AWSLogs/o-a1b2c3d4e5/777788889999/CloudTrail/us-east-1/'))).toBe(true);
    expect(files.some((rel) => rel.startsWith('AWSLogs/111122223333/CloudTrail/eu-west-1/'))).toBe(true);
    expect(files.some((rel) => rel.startsWith('AWSLogs/444455556666/CloudTrail/us-east-1/'))).toBe(true);
    const org = recordFiles.filter((f) => f.rel.startsWith('AWSLogs/o-a1b2c3d4e5/'));
    expect(org.every((f) => parseDeliveryKey(f.rel)?.orgId === 'o-a1b2c3d4e5')).toBe(true);
    expect(org.every((f) => f.records.every((r) => r.recipientAccountId === '777788889999'))).toBe(true);
  });

  it('covers every IoT Events action, as a minority of all events', () => {
    const names = new Set(iot.map((r) => r.eventName));
    for (const a of IOT_EVENTS_ACTIONS) expect(names).toContain(a.name);
    const wrong = iot.filter((r) => {
      const a = IOT_EVENTS_ACTIONS.find((x) => x.name === r.eventName);
      return !a || (r.eventType === 'AwsApiCall' && r.readOnly !== a.readOnly);
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    const share = iot.length / all.length;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.5);
    expect(new Set(all.map((r) => r.eventSource)).size).toBeGreaterThan(8);
    expect(iot.some((r) => r.eventSource === 'iotevents.amazonaws.com')).toBe(true);
    expect(iot.some((r) => r.eventSource === 'ioteventsdata.amazonaws.com')).toBe(true);
  });

  it('names IoT Events resources in requestParameters and resources[]', () => {
    const params = iot.map((r) => JSON.stringify(r.requestParameters ?? {}));
    for (const field of ['detectorModelName', 'inputName', 'alarmModelName', 'keyValue', 'resourceArn']) {
      expect(params.some((p) => p.includes(`"${field}"`))).toBe(true);
    }
    expect(params.some((p) => p.includes('HIDDEN_DUE_TO_SECURITY_REASONS'))).toBe(true);
    const arns = iot.flatMap((r) => ((r.resources as { accountId: string; type: string; ARN: string }[] | undefined) ?? []));
    const arnShape = /^arn:aws:iotevents:[a-z0-9-]+:\d{12}:(detectorModel|input|alarmModel)\/[A-Za-z0-9_-]+$/;
    expect(arns.filter((res) => Object.keys(res).join() !== 'accountId,type,ARN' || !arnShape.test(res.ARN)).slice(0, 5)).toEqual([]);
    for (const kind of ['detectorModel', 'input', 'alarmModel']) expect(arns.some((a) => a.ARN.includes(`:${kind}/`))).toBe(true);
    const created = iot.find((r) => r.eventName === 'CreateDetectorModel' && !r.errorCode);
    expect(created?.responseElements).toMatchObject({ detectorModelConfiguration: { detectorModelArn: expect.stringMatching(/^arn:aws:iotevents:/) } });
  });

  it('has callers of every identity kind', () => {
    const types = new Set(iot.map((r) => (typeof r.userIdentity.type === 'string' ? r.userIdentity.type : '<none>')));
    for (const t of [
      'Root',
      'IAMUser',
      'AssumedRole',
      'FederatedUser',
      'AWSService',
      'AWSAccount',
      'WebIdentityUser',
      'SAMLUser',
      'IdentityCenterUser',
      '<none>',
    ]) {
      expect(types).toContain(t);
    }
    const noType = all.filter((r) => r.userIdentity.type === undefined);
    expect(noType.length).toBeGreaterThan(0);
    expect(noType.filter((r) => Object.keys(r.userIdentity).join() !== 'accountId,invokedBy' || r.eventType !== 'AwsServiceEvent')).toEqual([]);
    const ids = iot.map((r) => r.userIdentity);
    const mfa = (u: Record<string, unknown>): string | undefined =>
      ((u.sessionContext as { attributes?: { mfaAuthenticated?: string } } | undefined)?.attributes ?? {}).mfaAuthenticated;
    expect(ids.some((u) => u.type === 'Root' && mfa(u) === 'true')).toBe(true);
    expect(ids.some((u) => u.type === 'Root' && mfa(u) !== 'true')).toBe(true);
    expect(ids.some((u) => u.type === 'IAMUser' && String(u.accessKeyId).startsWith('AKIA') && u.sessionContext === undefined)).toBe(true);
    expect(ids.some((u) => u.type === 'IAMUser' && String(u.accessKeyId).startsWith('ASIA') && mfa(u) === 'true')).toBe(true);
    expect(
      ids.some(
        (u) =>
          u.type === 'AssumedRole' &&
          String(u.arn).includes(':assumed-role/AWSServiceRoleForIoTEvents/') &&
          (u.sessionContext as { sessionIssuer: { arn: string } }).sessionIssuer.arn.includes('/aws-service-role/iotevents.amazonaws.com/'),
      ),
    ).toBe(true);
    expect(ids.some((u) => u.type === 'FederatedUser' && /^arn:aws:sts::\d{12}:federated-user\//.test(String(u.arn)))).toBe(true);
    expect(ids.some((u) => u.type === 'AWSService' && u.invokedBy === 'iotevents.amazonaws.com')).toBe(true);
    expect(all.some((r) => r.sessionCredentialFromConsole === 'true')).toBe(true);
    // A fixed population: callers recur.
    const principals = new Set(
      all.filter((r) => r.recipientAccountId === '111122223333').map((r) => String(r.userIdentity.arn ?? r.userIdentity.principalId ?? r.userIdentity.invokedBy)),
    );
    expect(principals.size).toBeLessThan(100);
  });

  it('has every kind of source address', () => {
    const kinds = new Set(
      iot.map((r) => {
        const ip = r.sourceIPAddress;
        if (ip === 'AWS Internal') return 'internal';
        if (/\.amazonaws\.com$/.test(ip)) return 'host';
        if (/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)/.test(ip)) return 'private';
        if (ip.includes(':')) return 'ipv6';
        if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return 'ipv4';
        return 'other';
      }),
    );
    expect([...kinds].sort()).toEqual(['host', 'internal', 'ipv4', 'ipv6', 'private']);
    expect(iot.some((r) => r.sourceIPAddress === 'iotevents.amazonaws.com')).toBe(true);
    expect(new Set(all.map((r) => r.sourceIPAddress)).size).toBeLessThan(120);
  });

  it('has failed calls, with their error and no response', () => {
    const failed = iot.filter((r) => r.errorCode !== undefined);
    const rate = failed.length / iot.length;
    expect(rate).toBeGreaterThan(0.03);
    expect(rate).toBeLessThan(0.15);
    const codes = new Set(failed.map((r) => r.errorCode));
    for (const c of ['ResourceNotFoundException', 'ThrottlingException']) expect(codes).toContain(c);
    expect(codes.has('AccessDenied') || codes.has('AccessDeniedException')).toBe(true);
    expect(codes.has('ValidationException') || codes.has('InvalidRequestException')).toBe(true);
    expect(failed.filter((r) => typeof r.errorMessage !== 'string' || r.responseElements !== null).slice(0, 5)).toEqual([]);
  });

  it('writes records with real CloudTrail field names in a stable order', () => {
    const order = [
      'eventVersion',
      'userIdentity',
      'eventTime',
      'eventSource',
      'eventName',
      'awsRegion',
      'sourceIPAddress',
      'userAgent',
      'errorCode',
      'errorMessage',
      'requestParameters',
      'responseElements',
      'additionalEventData',
      'requestID',
      'eventID',
      'readOnly',
      'resources',
      'eventType',
      'managementEvent',
      'recipientAccountId',
      'sharedEventID',
      'serviceEventDetails',
      'vpcEndpointId',
      'vpcEndpointAccountId',
      'eventCategory',
      'tlsDetails',
      'sessionCredentialFromConsole',
    ];
    const bad: string[] = [];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const r of all) {
      const idx = Object.keys(r).map((k) => order.indexOf(k));
      if (idx.some((i) => i < 0)) bad.push(`unknown field in ${r.eventID}: ${Object.keys(r).join(',')}`);
      if (idx.some((i, n) => n > 0 && i < idx[n - 1]!)) bad.push(`field order in ${r.eventID}`);
      if (r.eventVersion !== '1.08' && r.eventVersion !== '1.09') bad.push(`eventVersion ${String(r.eventVersion)}`);
      if (!uuid.test(r.eventID)) bad.push(`eventID ${r.eventID}`);
      if (typeof r.readOnly !== 'boolean') bad.push(`readOnly in ${r.eventID}`);
      if (r.eventCategory !== 'Management' && r.eventCategory !== 'Data') bad.push(`eventCategory in ${r.eventID}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(new Set(all.map((r) => r.eventType))).toEqual(new Set(['AwsApiCall', 'AwsServiceEvent', 'AwsConsoleSignIn']));
  });

  it('delivers a few records twice, byte for byte, in different files', () => {
    const seen = new Map<string, { file: string; json: string }>();
    let dups = 0;
    const bad: string[] = [];
    for (const f of recordFiles) {
      for (const r of f.records) {
        const json = JSON.stringify(r);
        const prev = seen.get(r.eventID);
        if (prev) {
          dups++;
          if (prev.json !== json || prev.file === f.rel) bad.push(r.eventID);
        } else {
          seen.set(r.eventID, { file: f.rel, json });
        }
      }
    }
    expect(bad).toEqual([]);
    expect(dups).toBeGreaterThan(0);
    expect(dups).toBe(resA.duplicateRecords);
    expect(dups).toBeLessThan(all.length / 100);
  });
});

describe('sample CLI flags', () => {
  it('parses flags into options', () => {
    const parsed = parseCli([
      '--out',
      '/tmp/x',
      '--days',
      '3',
      '--seed',
      '9',
      '--end',
      '2024-03-15T13:00:00+01:00',
      '--regions',
      'us-east-1,ap-southeast-2',
      '--accounts',
      '123456789012',
      '--scale',
      '0.5',
    ]);
    expect(parsed).not.toBe('help');
    if (parsed === 'help') return;
    expect(parsed.options).toMatchObject({
      outDir: '/tmp/x',
      days: 3,
      seed: 9,
      regions: ['us-east-1', 'ap-southeast-2'],
      accounts: ['123456789012'],
      iotEventsPerDay: 150,
    });
    expect(parsed.options.end.toISOString()).toBe('2024-03-15T12:00:00.000Z');
    expect(parseCli(['--help'])).toBe('help');
    expect(() => parseCli(['--days', 'x'])).toThrow(/--days/);
    expect(() => parseCli(['--nope'])).toThrow();
    const noOrg = parseCli(['--no-org', '--end', '2024-01-01T00:00:00Z']);
    expect(noOrg !== 'help' && noOrg.options.orgAccount).toBeNull();
  });
});
