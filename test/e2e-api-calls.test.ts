/**
 * apiCalls over HTTP on a generated sample trail: every filter, checked against an independent
 * reading of the JSON files; full pagination; the total count.
 */
import { ipv4ToBigInt, ipv6ToBigInt } from '../src/domain/ip';
import { JSON_SOURCE, columnsUsed } from '../src/engines/duckdb/dialect';
import { fetchAllPages } from './support/api-calls';
import { RawRecord, IOT_SOURCES, byTimeDesc, dedupe, inWindow, principalOf, readRecords } from './support/records';
import { TestServer } from './support/server';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';
import { isIPv4, isIPv6 } from 'node:net';

const FROM = new Date(SAMPLE_END.getTime() - 36 * 3_600_000);
const TO = SAMPLE_END;

let server: TestServer;
let all: RawRecord[];

const QUERY = `query($filter: ApiCallFilter, $first: Int, $after: String, $withTotal: Boolean = false) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount @include(if: $withTotal)
    window { from to }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { eventId eventTime action eventSource region account sourceIpAddress errorCode readOnly
      caller { arn identityType category principal userName accessKeyId } } }
  }
}`;

const sample = useSampleServer(2, { deliveryMinutes: 60 });

beforeAll(() => {
  server = sample.server;
  all = dedupe(readRecords(sample.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, FROM, TO));
  expect(all.length).toBeGreaterThan(1000);
});

/** Every page of a filter, following endCursor. */
async function fetchAll(filter: Record<string, unknown>, first = 500): Promise<{ ids: string[]; total: number; pages: number }> {
  const { nodes, total, pages } = await fetchAllPages(server, { from: FROM, to: TO, ...filter }, first, QUERY);
  return { ids: nodes.map((n) => n.eventId), total, pages };
}

function expectSame(filter: Record<string, unknown>, predicate: (r: RawRecord) => boolean) {
  return async () => {
    const expected = all.filter(predicate).sort(byTimeDesc).map((r) => r.eventID);
    expect(expected.length).toBeGreaterThan(0);
    const got = await fetchAll(filter);
    expect(got.ids).toEqual(expected);
    expect(got.total).toBe(expected.length);
  };
}

const ui = (r: RawRecord) => r.userIdentity ?? {};

describe('apiCalls filters match an independent reading of the files', () => {
  const pick = <T>(f: (r: RawRecord) => T | undefined | null): T => {
    const counts = new Map<T, number>();
    for (const r of all) {
      const v = f(r);
      if (v !== undefined && v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    // A value that is neither the most nor the least frequent: a real narrowing.
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    return sorted[Math.min(2, sorted.length - 1)][0];
  };

  test('no filter: every IoT Events call in the window, newest first', async () => {
    const expected = [...all].sort(byTimeDesc).map((r) => r.eventID);
    const got = await fetchAll({});
    expect(got.ids).toEqual(expected);
    expect(new Set(got.ids).size).toBe(got.ids.length);
  });

  test('actions', async () => {
    const a = pick((r) => r.eventName);
    await expectSame({ actions: [a, 'DescribeAlarm'] }, (r) => r.eventName === a || r.eventName === 'DescribeAlarm')();
  });
  test('eventSources', expectSame({ eventSources: ['ioteventsdata.amazonaws.com'] }, (r) => r.eventSource === 'ioteventsdata.amazonaws.com'));
  test('accounts', async () => {
    const acct = pick((r) => r.recipientAccountId);
    await expectSame({ accounts: [acct] }, (r) => r.recipientAccountId === acct)();
  });
  test('regions', expectSame({ regions: ['eu-west-1'] }, (r) => r.awsRegion === 'eu-west-1'));
  test('callerArns', async () => {
    const arn = pick((r) => ui(r).arn);
    await expectSame({ callerArns: [arn] }, (r) => ui(r).arn === arn)();
  });
  test('principalArns: a role covers all its sessions', async () => {
    const role = pick((r) => (ui(r).type === 'AssumedRole' ? ui(r).sessionContext?.sessionIssuer?.arn : null));
    await expectSame({ principalArns: [role] }, (r) => principalOf(r) === role)();
  });
  test('identityTypes, including UNKNOWN for records without a type', async () => {
    await expectSame({ identityTypes: ['ROOT', 'FEDERATED_USER'] }, (r) => ['Root', 'FederatedUser'].includes(ui(r).type))();
    const known = ['Root', 'IAMUser', 'AssumedRole', 'Role', 'FederatedUser', 'AWSService', 'AWSAccount', 'IdentityCenterUser', 'Directory', 'SAMLUser', 'WebIdentityUser'];
    const unknown = all.filter((r) => !known.includes(ui(r).type));
    if (unknown.length) await expectSame({ identityTypes: ['UNKNOWN'] }, (r) => !known.includes(ui(r).type))();
  });
  test('categories: the three identity questions', async () => {
    await expectSame({ categories: ['ROOT_OR_IAM_USER'] }, (r) => ['Root', 'IAMUser'].includes(ui(r).type))();
    await expectSame({ categories: ['ROLE_OR_FEDERATED_SESSION'] }, (r) =>
      ['AssumedRole', 'Role', 'FederatedUser', 'WebIdentityUser', 'SAMLUser'].includes(ui(r).type),
    )();
    await expectSame({ categories: ['AWS_SERVICE'] }, (r) => ui(r).type === 'AWSService' || (!ui(r).type && !!ui(r).invokedBy))();
  });
  test('userNames', async () => {
    const name = pick((r) => ui(r).userName);
    await expectSame({ userNames: [name] }, (r) => (ui(r).userName ?? ui(r).sessionContext?.sessionIssuer?.userName) === name)();
  });
  test('accessKeyIds', async () => {
    const key = pick((r) => ui(r).accessKeyId);
    await expectSame({ accessKeyIds: [key] }, (r) => ui(r).accessKeyId === key)();
  });
  test('sourceIps', async () => {
    const ip = pick((r) => r.sourceIPAddress);
    await expectSame({ sourceIps: [ip, 'AWS Internal'] }, (r) => r.sourceIPAddress === ip || r.sourceIPAddress === 'AWS Internal')();
  });
  test('sourceCidrs: IPv4 and IPv6 blocks', async () => {
    const v4 = ipv4ToBigInt('203.0.113.0');
    const v6lo = ipv6ToBigInt('2001:db8::');
    const v6hi = ipv6ToBigInt('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff');
    await expectSame({ sourceCidrs: ['203.0.113.0/24'] }, (r) => isIPv4(r.sourceIPAddress) && ipv4ToBigInt(r.sourceIPAddress) >> 8n === v4 >> 8n)();
    await expectSame({ sourceCidrs: ['2001:db8::/32', '10.0.0.0/8'] }, (r) => {
      const ip = r.sourceIPAddress;
      if (isIPv6(ip)) return ipv6ToBigInt(ip) >= v6lo && ipv6ToBigInt(ip) <= v6hi;
      return isIPv4(ip) && ip.startsWith('10.');
    })();
  });
  test('errorCodes and errorsOnly', async () => {
    const code = pick((r) => r.errorCode);
    await expectSame({ errorCodes: [code] }, (r) => r.errorCode === code)();
    await expectSame({ errorsOnly: true }, (r) => !!r.errorCode)();
    await expectSame({ errorsOnly: false }, (r) => !r.errorCode)();
  });
  test('readOnly', async () => {
    await expectSame({ readOnly: true }, (r) => String(r.readOnly) === 'true')();
    await expectSame({ readOnly: false }, (r) => String(r.readOnly) === 'false')();
  });
  test('resourceName', async () => {
    const name = pick((r) => r.requestParameters?.detectorModelName);
    // Data-plane batch calls name theirs in arrays of entries (the IoT Events Data API reference).
    const batch: Record<string, [string, string]> = {
      BatchPutMessage: ['messages', 'inputName'],
      BatchUpdateDetector: ['detectors', 'detectorModelName'],
      BatchDeleteDetector: ['detectors', 'detectorModelName'],
      BatchAcknowledgeAlarm: ['acknowledgeActionRequests', 'alarmModelName'],
      BatchDisableAlarm: ['disableActionRequests', 'alarmModelName'],
      BatchEnableAlarm: ['enableActionRequests', 'alarmModelName'],
      BatchResetAlarm: ['resetActionRequests', 'alarmModelName'],
      BatchSnoozeAlarm: ['snoozeActionRequests', 'alarmModelName'],
    };
    let batched = 0;
    await expectSame({ resourceName: name }, (r) => {
      const p = r.requestParameters ?? {};
      const [array, field] = batch[r.eventName] ?? [];
      const entries: unknown = array ? p[array] : undefined;
      const inEntry = Array.isArray(entries) && entries.some((e) => (e as Record<string, unknown> | null)?.[field!] === name);
      if (inEntry) batched += 1;
      return [p.detectorModelName, p.inputName, p.alarmModelName].includes(name) || (typeof p.resourceArn === 'string' && p.resourceArn.endsWith(`/${name}`)) || inEntry;
    })();
    expect(batched).toBeGreaterThan(0);
  });
  test('userAgentContains (case-insensitive)', expectSame({ userAgentContains: 'AWS-CLI' }, (r) => String(r.userAgent ?? '').toLowerCase().includes('aws-cli')));
  test('filters combine with AND', async () => {
    await expectSame({ regions: ['us-east-1'], errorsOnly: true, categories: ['ROLE_OR_FEDERATED_SESSION'] }, (r) =>
      r.awsRegion === 'us-east-1' && !!r.errorCode && ['AssumedRole', 'Role', 'FederatedUser', 'WebIdentityUser', 'SAMLUser'].includes(ui(r).type),
    )();
  });
});

describe('pagination', () => {
  test('small pages walk the whole window with no row repeated or missing', async () => {
    const expected = [...all].sort(byTimeDesc).map((r) => r.eventID);
    const got = await fetchAll({}, 97);
    expect(got.pages).toBe(Math.ceil(expected.length / 97));
    expect(got.ids).toEqual(expected);
  });

  test('a cursor keeps the first page\'s window when the filter has none', async () => {
    const first = await server.gql(QUERY, { first: 5 });
    expect(first.errors).toBeUndefined();
    const window = first.data.apiCalls.window;
    const second = await server.gql(QUERY, { first: 5, after: first.data.apiCalls.pageInfo.endCursor });
    expect(second.errors).toBeUndefined();
    expect(second.data.apiCalls.window).toEqual(window);
    expect(second.data.apiCalls.pageInfo.hasPreviousPage).toBe(true);
  });

  test('nodes are the edges\' nodes, and a selection under nodes alone reads what it needs', async () => {
    const f = { from: FROM, to: TO };
    const both = await server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 7) { nodes { eventId action region } edges { node { eventId action region } } } }`, { f });
    expect(both.errors).toBeUndefined();
    expect(both.data.apiCalls.nodes).toEqual(both.data.apiCalls.edges.map((e: { node: unknown }) => e.node));
    const nodesOnly = await server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 7) { nodes { eventId action region } } }`, { f });
    expect(nodesOnly.errors).toBeUndefined();
    expect(nodesOnly.data.apiCalls.nodes).toEqual(both.data.apiCalls.nodes);
    const expected = [...all].sort(byTimeDesc).slice(0, 7);
    expect(nodesOnly.data.apiCalls.nodes).toEqual(expected.map((r) => ({ eventId: r.eventID, action: r.eventName, region: r.awsRegion })));
  });

  test('a page reads only the columns its selection needs', async () => {
    server.engine.reset();
    const narrow = await server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 20) { edges { node { eventId action } } } }`, { f: { from: FROM, to: TO } });
    // The statement's own columns, the source it is compiled against left aside (what the driver
    // narrows the source to). The JSON reader still reads the inputs of synthetic eventIds, which
    // the dedup key needs for records without an eventID.
    const used = server.engine.executed.flatMap((q) => columnsUsed(q.sql));
    expect(used).toContain('eventName');
    expect(used.filter((c) => ['requestParameters', 'userIdentity', 'userAgent'].includes(c))).toEqual([]);
    server.engine.reset();
    const wide = await server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 20) { edges { node { eventId action ...Who } } } }
      fragment Who on ApiCall { caller { arn } requestParameters }`, { f: { from: FROM, to: TO } });
    const wideUsed = server.engine.executed.flatMap((q) => columnsUsed(q.sql));
    expect(wideUsed).toEqual(expect.arrayContaining(['requestParameters', 'userIdentity']));
    expect(wide.data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId)).toEqual(
      narrow.data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId),
    );
  });

  test('each caller field asked alone answers what it answers among all of them, reading only what it needs', async () => {
    const f = { from: FROM, to: TO };
    const scalar = ['key', 'arn', 'principal', 'identityType', 'rawType', 'category', 'temporaryCredentials', 'mfaAuthenticated', 'invokedBy', 'accountId', 'userName', 'principalId', 'accessKeyId', 'sessionCreated'];
    const fields = [...scalar, 'id', 'sessionIssuer { type principalId arn accountId userName }'];
    const page = (caller: string) => server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 300) { edges { node { eventId caller { ${caller} } } } } }`, { f });
    const whole = await page(fields.join(' '));
    expect(whole.errors).toBeUndefined();
    const callers = whole.data.apiCalls.edges.map((e: { node: { caller: Record<string, unknown> } }) => e.node.caller);
    // The page holds every kind of caller, so a field computed from too few columns shows.
    expect(new Set(callers.map((c: { category: string }) => c.category)).size).toBeGreaterThanOrEqual(3);
    expect(callers.some((c: { sessionIssuer: unknown }) => c.sessionIssuer !== null)).toBe(true);
    expect(callers.some((c: { temporaryCredentials: boolean }) => c.temporaryCredentials)).toBe(true);
    for (const field of fields) {
      const alone = await page(field);
      expect(alone.errors).toBeUndefined();
      const name = field.split(' ')[0];
      expect(alone.data.apiCalls.edges.map((e: { node: { caller: Record<string, unknown> } }) => e.node.caller[name])).toEqual(callers.map((c: Record<string, unknown>) => c[name]));
    }
    server.engine.reset();
    await page('arn identityType');
    // The statement's own text, the source it is compiled against left aside.
    const sql = server.engine.executed.map((q) => q.sql.replace(JSON_SOURCE, '')).join('\n');
    expect(sql).toContain('"useridentity"."arn"');
    expect(sql).not.toMatch(/sessioncontext|accesskeyid|invokedby/);
  });

  test('values come back as recorded', async () => {
    const res = await server.gql(QUERY, { filter: { from: FROM, to: TO }, first: 50 });
    const byId = new Map(all.map((r) => [r.eventID, r]));
    for (const { node } of res.data.apiCalls.edges) {
      const r = byId.get(node.eventId)!;
      expect(node.eventTime).toBe(new Date(r.eventTime).toISOString());
      expect(node.action).toBe(r.eventName);
      expect(node.region).toBe(r.awsRegion);
      expect(node.account).toBe(r.recipientAccountId);
      expect(node.sourceIpAddress).toBe(r.sourceIPAddress);
      expect(node.errorCode).toBe(r.errorCode ?? null);
      expect(node.caller.arn).toBe(ui(r).arn ?? null);
      expect(node.caller.accessKeyId).toBe(ui(r).accessKeyId ?? null);
    }
  });
});
