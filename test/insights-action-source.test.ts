/**
 * An action is a name and its event source in insights as in `actions`: IoT Events has APIs of the
 * same name in its control plane (iotevents.amazonaws.com) and its data plane
 * (ioteventsdata.amazonaws.com), and a rule that grouped calls by name alone would take one for
 * the other.
 *
 * A hand-written trail, one account and region, a window of one day and baseline days before it:
 * - erin calls the data plane's ListDetectors in the baseline, then the control plane's
 *   ListDetectors and the data plane's again in the window: a FIRST_USE_OF_ACTION of the control
 *   plane's alone.
 * - gina's control-plane DescribeDetector succeeds 10 times in the baseline while the data plane's
 *   DescribeDetector fails 10 times; in the window the control plane's fails 5 times in an hour:
 *   an ERROR_SPIKE (by name alone its baseline would be half failures, and no spike).
 * - harry is refused 3 times for each plane's ListDetectors within minutes: a burst across 2 actions.
 * - ivan deletes detectors through the data plane: a destructive change of that plane's action.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestServer, startServer } from './support/server';
import { tempDir } from './support/trails';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const CONTROL = 'iotevents.amazonaws.com';
const DATA = 'ioteventsdata.amazonaws.com';
const NOW = new Date('2026-03-15T12:00:00Z');
const W = { from: '2026-03-15T00:00:00Z', to: '2026-03-15T12:00:00Z' };
const arn = (user: string) => `arn:aws:iam::${ACCOUNT}:user/${user}`;

let ids = 0;
function record(p: { user: string; time: string; source: string; action: string; errorCode?: string }) {
  const id = `rec-${String(++ids).padStart(4, '0')}`;
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', principalId: `AIDA${p.user.toUpperCase()}`, arn: arn(p.user), accountId: ACCOUNT, accessKeyId: `ASIA${p.user.toUpperCase()}0000000001`, userName: p.user },
    eventTime: p.time,
    eventSource: p.source,
    eventName: p.action,
    awsRegion: REGION,
    sourceIPAddress: '10.0.0.7',
    userAgent: 'aws-cli/2.0',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${id}`,
    eventID: id,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: p.source === CONTROL,
    recipientAccountId: ACCOUNT,
    eventCategory: p.source === CONTROL ? 'Management' : 'Data',
    ...(p.errorCode ? { errorCode: p.errorCode, errorMessage: 'refused' } : {}),
  };
}

function put(dir: string, day: string, stamp: string, records: object[]) {
  const folder = path.join(dir, 'AWSLogs', ACCOUNT, 'CloudTrail', REGION, ...day.split('/'));
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, `${ACCOUNT}_CloudTrail_${REGION}_${stamp}_actionsource.json`), JSON.stringify({ Records: records }));
}

const at = (day: string, h: number, m: number) => `${day}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00Z`;

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = tempDir('trailql-action-source-');
  put(dir, '2026/03/11', '20260311T1105Z', [
    ...[0, 1, 2].map((i) => record({ user: 'erin', time: at('2026-03-11', 10, i), source: DATA, action: 'ListDetectors' })),
    ...Array.from({ length: 10 }, (_, i) => record({ user: 'gina', time: at('2026-03-11', 10, 10 + i), source: CONTROL, action: 'DescribeDetector' })),
    ...Array.from({ length: 10 }, (_, i) => record({ user: 'gina', time: at('2026-03-11', 10, 30 + i), source: DATA, action: 'DescribeDetector', errorCode: 'ResourceNotFoundException' })),
    record({ user: 'harry', time: at('2026-03-11', 11, 0), source: CONTROL, action: 'ListInputs' }),
    record({ user: 'ivan', time: at('2026-03-11', 11, 5), source: DATA, action: 'BatchDeleteDetector' }),
  ]);
  put(dir, '2026/03/15', '20260315T1105Z', [
    record({ user: 'erin', time: at('2026-03-15', 9, 0), source: CONTROL, action: 'ListDetectors' }),
    record({ user: 'erin', time: at('2026-03-15', 9, 1), source: DATA, action: 'ListDetectors' }),
    ...Array.from({ length: 5 }, (_, i) => record({ user: 'gina', time: at('2026-03-15', 8, i), source: CONTROL, action: 'DescribeDetector', errorCode: 'ResourceNotFoundException' })),
    record({ user: 'gina', time: at('2026-03-15', 8, 50), source: CONTROL, action: 'DescribeDetector' }),
    record({ user: 'ivan', time: at('2026-03-15', 11, 0), source: DATA, action: 'BatchDeleteDetector' }),
    ...[0, 1, 2].flatMap((i) => [
      record({ user: 'harry', time: at('2026-03-15', 10, i), source: CONTROL, action: 'ListDetectors', errorCode: 'AccessDeniedException' }),
      record({ user: 'harry', time: at('2026-03-15', 10, 3 + i), source: DATA, action: 'ListDetectors', errorCode: 'AccessDeniedException' }),
    ]),
  ]);
  server = await startServer(dir, { CACHE_ENABLED: 'false' }, { now: () => NOW });
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Found {
  kind: string;
  title: string;
  summary: string;
  action: string | null;
  eventSource: string | null;
  count: number;
  principal: { key: string } | null;
  evidence: { totalCount: number; nodes: { eventSource: string; action: string; errorCode: string | null }[] };
}

async function insights(kinds: string[]): Promise<Found[]> {
  const res = await server.gql(
    `query($f: ApiCallFilter, $kinds: [InsightKind!]) { insights(filter: $f, kinds: $kinds, first: 100) { totalCount complete nodes {
      kind title summary action eventSource count principal { key } evidence(first: 50) { totalCount nodes { eventSource action errorCode } } } } }`,
    { f: W, kinds },
  );
  expect(res.errors).toBeUndefined();
  expect(res.data.insights.complete).toBe(true);
  return res.data.insights.nodes;
}

test('FIRST_USE_OF_ACTION: the control plane\'s ListDetectors is new though the data plane\'s is not', async () => {
  const erin = (await insights(['FIRST_USE_OF_ACTION'])).filter((i) => i.principal?.key === arn('erin'));
  expect(erin).toHaveLength(1);
  const [found] = erin;
  expect(found).toMatchObject({ action: 'ListDetectors', eventSource: CONTROL, count: 1, title: `First use of ListDetectors (${CONTROL})` });
  expect(found!.evidence.totalCount).toBe(1);
  expect(found!.evidence.nodes).toEqual([{ eventSource: CONTROL, action: 'ListDetectors', errorCode: null }]);
});

test('ERROR_SPIKE: an action\'s baseline is its own, not that of the same name in the other plane', async () => {
  const spikes = await insights(['ERROR_SPIKE']);
  expect(spikes).toHaveLength(1);
  const [spike] = spikes;
  expect(spike).toMatchObject({ action: 'DescribeDetector', eventSource: CONTROL, count: 5 });
  expect(spike!.summary).toContain('against 0.0% in the baseline');
  expect(spike!.evidence.totalCount).toBe(5);
  for (const call of spike!.evidence.nodes) expect(call).toEqual({ eventSource: CONTROL, action: 'DescribeDetector', errorCode: 'ResourceNotFoundException' });
});

test('ACCESS_DENIED_BURST counts the two planes\' ListDetectors as two actions', async () => {
  const bursts = (await insights(['ACCESS_DENIED_BURST'])).filter((i) => i.principal?.key === arn('harry'));
  expect(bursts).toHaveLength(1);
  expect(bursts[0]!.count).toBe(6);
  expect(bursts[0]!.summary).toContain('across 2 actions');
  expect(bursts[0]!).toMatchObject({ action: null, eventSource: null });
});

test('DESTRUCTIVE_CHANGE names the action with its plane, and its evidence is that plane\'s calls', async () => {
  const changes = (await insights(['DESTRUCTIVE_CHANGE'])).filter((i) => i.principal?.key === arn('ivan'));
  expect(changes).toHaveLength(1);
  expect(changes[0]).toMatchObject({ action: 'BatchDeleteDetector', eventSource: DATA, count: 1 });
  expect(changes[0]!.summary).toContain(`BatchDeleteDetector (${DATA})`);
  expect(changes[0]!.evidence.nodes).toEqual([{ eventSource: DATA, action: 'BatchDeleteDetector', errorCode: null }]);
});
