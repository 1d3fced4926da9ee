/**
 * Data-plane batch calls, alike on DuckDB over JSON, over the store and on the Athena dialect.
 * - They name their detector models, inputs and alarm models inside arrays of entries:
 *   `resourceName` finds them by any entry's name, and a call lists them in `iotEventsResources`;
 *   arrays under other actions, an object where the array belongs, or a name that is not a text
 *   find nothing. A resource's history stays its own control-plane changes.
 * - A BatchDeleteDetector answers without an errorCode when its entries fail (each failed entry
 *   is an error entry of its response): one whose every entry failed is no destructive change.
 */
import { FixtureServers, ONE_DAY_TRAIL, serveRecords } from './support/fixture-engines';

const { account: A, window: WINDOW } = ONE_DAY_TRAIL;
const DATA = 'ioteventsdata.amazonaws.com';
const CONTROL = 'iotevents.amazonaws.com';

/** [eventID suffix, source, action, requestParameters, errorCode, responseElements] */
const CALLS: [string, string, string, unknown, string | null, unknown?][] = [
  ['01', DATA, 'BatchUpdateDetector', { detectors: [{ messageId: 'm1', detectorModelName: 'boiler', keyValue: 'k1' }, { messageId: 'm2', detectorModelName: 'chiller', keyValue: 'k2' }] }, null],
  ['02', DATA, 'BatchPutMessage', { messages: [{ messageId: 'm3', inputName: 'temps' }] }, null],
  ['03', DATA, 'BatchSnoozeAlarm', { snoozeActionRequests: [{ requestId: 'r1', alarmModelName: 'overheat', keyValue: 'k1', snoozeDuration: 300 }] }, null],
  ['04', DATA, 'BatchDeleteDetector', { detectors: [{ messageId: 'm4', detectorModelName: 'boiler', keyValue: 'k3' }] }, null],
  ['05', DATA, 'BatchAcknowledgeAlarm', { acknowledgeActionRequests: [{ requestId: 'r2', alarmModelName: 'HIDDEN_DUE_TO_SECURITY_REASONS' }] }, null],
  // Decoys: an array under an action that sends none, an object where the array belongs, a name
  // that is an object, entries of another action's array.
  ['06', CONTROL, 'ListDetectorModels', { detectors: [{ detectorModelName: 'boiler' }] }, null],
  ['07', DATA, 'BatchUpdateDetector', { detectors: { detectorModelName: 'boiler' } }, null],
  ['08', DATA, 'BatchDeleteDetector', { detectors: [{ detectorModelName: { name: 'boiler' } }, 'boiler', 7] }, null],
  ['09', DATA, 'BatchPutMessage', { detectors: [{ detectorModelName: 'boiler' }] }, null],
  // The model's own control-plane change, refused.
  ['10', CONTROL, 'UpdateDetectorModel', { detectorModelName: 'boiler' }, 'AccessDeniedException'],
  // Deletions of detectors: every entry failed; one of two failed.
  ['11', DATA, 'BatchDeleteDetector', { detectors: [{ messageId: 'm5', detectorModelName: 'pump' }, { messageId: 'm6', detectorModelName: 'pump' }] }, null, {
    batchDeleteDetectorErrorEntries: [{ messageId: 'm5', errorCode: 'ResourceNotFoundException' }, { messageId: 'm6', errorCode: 'ResourceNotFoundException' }],
  }],
  ['12', DATA, 'BatchDeleteDetector', { detectors: [{ messageId: 'm7', detectorModelName: 'pump' }, { messageId: 'm8', detectorModelName: 'pump' }] }, null, {
    batchDeleteDetectorErrorEntries: [{ messageId: 'm7', errorCode: 'ResourceNotFoundException' }],
  }],
  // Names written as numbers: found by their text, and listed so.
  ['13', DATA, 'BatchPutMessage', { messages: [{ messageId: 'm9', inputName: 7 }] }, null],
  ['14', CONTROL, 'DescribeDetectorModel', { detectorModelName: 8 }, null],
];

let fixture: FixtureServers;

beforeAll(async () => {
  const records = CALLS.map(([id, eventSource, eventName, requestParameters, errorCode, responseElements], i) => ({
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${A}:user/ops`, accountId: A },
    eventTime: `2026-03-15T10:00:${String(i).padStart(2, '0')}Z`,
    eventSource,
    eventName,
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    requestParameters,
    responseElements: responseElements ?? null,
    ...(errorCode ? { errorCode, errorMessage: 'no' } : {}),
    requestID: `req-${id}`,
    eventID: `00000000-0000-4000-8000-0000000000${id}`,
    eventType: 'AwsApiCall',
    recipientAccountId: A,
  }));
  fixture = await serveRecords('batch', records, { CURSOR_SECRET: 'batch-cursor-secret' });
}, 120_000);

afterAll(() => fixture?.close());

const ENGINES = ['json', 'parquet', 'athena'] as const;
type EngineName = (typeof ENGINES)[number];

interface Found {
  apiCalls: { totalCount: number; nodes: { eventId: string; iotEventsResources: { kind: string; name: string }[] }[] };
}

const found = async (engine: EngineName, filter: Record<string, unknown>) => {
  const r = await fixture.servers[engine].gql<Found>(
    'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 50) { totalCount nodes { eventId iotEventsResources { kind name } } } }',
    { f: { ...WINDOW, ...filter } },
  );
  expect(r.errors).toBeUndefined();
  const ids = r.data!.apiCalls.nodes.map((n) => n.eventId.slice(-2)).sort();
  expect(r.data!.apiCalls.totalCount).toBe(ids.length);
  return ids;
};

test.each(ENGINES)('on %s, a batch call is found by the name in any of its entries, and only by it', async (engine) => {
  expect(await found(engine, { resourceName: 'boiler' })).toEqual(['01', '04', '10']);
  expect(await found(engine, { resourceName: 'chiller' })).toEqual(['01']);
  expect(await found(engine, { resourceName: 'temps' })).toEqual(['02']);
  expect(await found(engine, { resourceName: 'overheat' })).toEqual(['03']);
  expect(await found(engine, { resourceName: 'nothing' })).toEqual([]);
  expect(await found(engine, { resourceName: '7' })).toEqual(['13']);
  expect(await found(engine, { resourceName: '8' })).toEqual(['14']);
  // Every call is read (control): the decoys are there, not found by name.
  expect(await found(engine, {})).toEqual(CALLS.map(([id]) => id).sort());
});

test.each(ENGINES)('on %s, a batch call lists the resources its entries name', async (engine) => {
  const r = await fixture.servers[engine].gql<Found>('query($f: ApiCallFilter) { apiCalls(filter: $f, first: 50) { totalCount nodes { eventId iotEventsResources { kind name } } } }', { f: WINDOW });
  const named = Object.fromEntries(r.data!.apiCalls.nodes.map((n) => [n.eventId.slice(-2), n.iotEventsResources]));
  expect(named['01']).toEqual([
    { kind: 'detectorModel', name: 'boiler' },
    { kind: 'detectorModel', name: 'chiller' },
  ]);
  expect(named['02']).toEqual([{ kind: 'input', name: 'temps' }]);
  expect(named['03']).toEqual([{ kind: 'alarmModel', name: 'overheat' }]);
  expect(named['05']).toEqual([]);
  for (const id of ['06', '07', '08', '09']) expect([id, named[id]]).toEqual([id, []]);
  expect([named['13'], named['14']]).toEqual([[{ kind: 'input', name: '7' }], [{ kind: 'detectorModel', name: '8' }]]);
});

test.each(ENGINES)("on %s, a resource's history holds its control-plane changes, not its detectors' batch calls", async (engine) => {
  const r = await fixture.servers[engine].gql<{ resource: { changes: { eventId: string }[]; failedAttempts: { eventId: string }[]; deleted: unknown } }>(
    'query($f: ApiCallFilter) { resource(name: "boiler", filter: $f) { changes { eventId } failedAttempts { eventId } deleted { eventId } } }',
    { f: WINDOW },
  );
  expect(r.errors).toBeUndefined();
  expect(r.data!.resource.changes.map((c) => c.eventId.slice(-2))).toEqual(['10']);
  expect(r.data!.resource.failedAttempts.map((c) => c.eventId.slice(-2))).toEqual(['10']);
  expect(r.data!.resource.deleted).toBeNull();
  // Asked for by name, a batch call is still not a change of the resource; nor are no actions at all.
  const asked = async (actions: string[]) => {
    const a = await fixture.servers[engine].gql<{ resource: { changes: { eventId: string }[] } }>(
      'query($f: ApiCallFilter) { resource(name: "boiler", filter: $f) { changes { eventId } } }',
      { f: { ...WINDOW, actions } },
    );
    expect(a.errors).toBeUndefined();
    return a.data!.resource.changes.map((c) => c.eventId.slice(-2));
  };
  expect(await asked(['BatchDeleteDetector', 'UpdateDetectorModel'])).toEqual(['10']);
  expect(await asked(['BatchDeleteDetector'])).toEqual([]);
  expect(await asked([])).toEqual(['10']);
});

test.each(ENGINES)('on %s, a BatchDeleteDetector whose every entry failed is no destructive change', async (engine) => {
  const r = await fixture.servers[engine].gql<{ insights: { nodes: { action: string; count: number; evidence: { totalCount: number; nodes: { eventId: string }[] } }[] } }>(
    'query($f: ApiCallFilter) { insights(filter: $f, kinds: [DESTRUCTIVE_CHANGE]) { nodes { action count evidence(first: 50) { totalCount nodes { eventId } } } } }',
    { f: WINDOW },
  );
  expect(r.errors).toBeUndefined();
  const [finding, ...others] = r.data!.insights.nodes;
  expect(others).toEqual([]);
  expect(finding!.action).toBe('BatchDeleteDetector');
  // One of two failed, and those whose response holds no error entries (taken at their word).
  const ids = finding!.evidence.nodes.map((n) => n.eventId.slice(-2)).sort();
  expect(ids).toEqual(['04', '08', '12']);
  expect([finding!.count, finding!.evidence.totalCount]).toEqual([3, 3]);
});
