/**
 * Callers, source addresses, actions, activity and resources over HTTP, each answer checked
 * against an independent computation from the JSON files; and DataLoader batching, counted in
 * engine queries.
 */
import { classifySourceIp } from '../src/domain/ip';
import { IOT_SOURCES, RawRecord, byTimeDesc, callerKeyOf, dedupe, groupBy, inWindow, principalOf, readRecords, usage } from './support/records';
import { TEST_KEY, TEST_KEYS, TestServer, startServer } from './support/server';
import { hashKey } from '../src/auth/authenticate';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const FROM = new Date(SAMPLE_END.getTime() - 30 * 3_600_000);
const TO = SAMPLE_END;
const W = { from: FROM.toISOString(), to: TO.toISOString() };

let server: TestServer;
let all: RawRecord[];

const sample = useSampleServer(2, { iotEventsPerDay: 150, deliveryMinutes: 60 }, { env: { MAX_PAGE_SIZE: '1000' } });

beforeAll(() => {
  server = sample.server;
  all = dedupe(readRecords(sample.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, FROM, TO));
});

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await server.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
}

const sortKey = (a: { calls: number; key: string }, b: { calls: number; key: string }) => b.calls - a.calls || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

describe('callers', () => {
  test('grouped by ARN: counts, errors, first/last seen, distinct actions and addresses, in order', async () => {
    const expected = [...groupBy(all, callerKeyOf).entries()]
      .map(([key, rs]) => ({ key: key!, ...usage(rs), distinctActions: new Set(rs.map((r) => `${r.eventName} ${r.eventSource}`)).size, distinctSourceIps: new Set(rs.map((r) => r.sourceIPAddress)).size }))
      .sort(sortKey);
    const nodes: { key: string; stats: Record<string, unknown> }[] = [];
    let after: string | null = null;
    for (;;) {
      const data = await gql(
        `query($f: ApiCallFilter, $after: String) { callers(filter: $f, first: 7, after: $after) { pageInfo { hasNextPage endCursor } nodes { key stats { calls errors firstSeen lastSeen distinctActions distinctSourceIps } } } }`,
        { f: W, after },
      );
      nodes.push(...data.callers.nodes);
      if (!data.callers.pageInfo.hasNextPage) break;
      after = data.callers.pageInfo.endCursor;
    }
    expect(nodes.map((n) => ({ key: n.key, ...n.stats }))).toEqual(expected);
  });

  test("stats without a filter are the counts of the question that found the caller; with {} and from a call, the window's", async () => {
    const action = all[0]!.eventName;
    const q = `query($f: ApiCallFilter) {
      callers(filter: $f, first: 1000) { nodes { key stats { calls } whole: stats(filter: {}) { calls } } }
      apiCalls(filter: $f, first: 3) { nodes { caller { key stats { calls } } } }
      caller(key: "${callerKeyOf(all.find((r) => r.eventName === action)!)}", filter: $f) { stats { calls } }
    }`;
    const data = await gql(q, { f: { ...W, actions: [action] } });
    const byKey = (rs: RawRecord[]) => new Map([...groupBy(rs, callerKeyOf).entries()].map(([k, v]) => [k, v.length]));
    const under = byKey(all.filter((r) => r.eventName === action));
    const window = byKey(all);
    for (const n of data.callers.nodes) expect([n.stats.calls, n.whole.calls]).toEqual([under.get(n.key), window.get(n.key)]);
    expect(data.callers.nodes.some((n: { stats: { calls: number }; whole: { calls: number } }) => n.stats.calls < n.whole.calls)).toBe(true);
    expect(data.caller.stats.calls).toBe(under.get(callerKeyOf(all.find((r) => r.eventName === action)!)));
    for (const c of data.apiCalls.nodes) expect(c.caller.stats.calls).toBe(window.get(c.caller.key));
  });

  test('grouped by principal: a role covers its sessions; identity fields come along', async () => {
    const expected = [...groupBy(all, (r) => principalOf(r) ?? 'unknown').entries()].map(([key, rs]) => ({ key: key!, calls: rs.length })).sort(sortKey);
    const data = await gql(`query($f: ApiCallFilter) { callers(filter: $f, first: 1000, groupBy: PRINCIPAL) { nodes { key principal identityType category stats { calls } } } }`, { f: W });
    expect(data.callers.nodes.map((n: { key: string; stats: { calls: number } }) => ({ key: n.key, calls: n.stats.calls }))).toEqual(expected);
    const role = data.callers.nodes.find((n: { identityType: string }) => n.identityType === 'ASSUMED_ROLE');
    expect(role.principal).toBe(role.key);
    expect(role.category).toBe('ROLE_OR_FEDERATED_SESSION');
  });

  test('caller(key) with its calls, source addresses and actions', async () => {
    const [key, rs] = [...groupBy(all, callerKeyOf).entries()].sort((a, b) => b[1].length - a[1].length)[0];
    const data = await gql(
      `query($arn: String!, $f: ApiCallFilter) { caller(key: $arn, filter: $f) {
        key stats { calls accessKeyIds }
        calls(first: 5) { totalCount edges { node { eventId caller { key } } } }
        sourceIps(first: 100) { nodes { sourceIp { address kind } calls errors } }
        actions(first: 100) { totalCount nodes { action eventSource calls errors firstSeen lastSeen } } } }`,
      { arn: key, f: W },
    );
    const c = data.caller;
    expect(c.stats.calls).toBe(rs.length);
    expect(c.stats.accessKeyIds).toEqual([...new Set(rs.map((r) => r.userIdentity?.accessKeyId).filter(Boolean))].sort().slice(0, 50));
    expect(c.calls.totalCount).toBe(rs.length);
    expect(c.calls.edges.every((e: { node: { caller: { key: string } } }) => e.node.caller.key === key)).toBe(true);
    const byIp = [...groupBy(rs, (r) => r.sourceIPAddress).entries()].map(([address, x]) => ({ sourceIp: { address, kind: classifySourceIp(address) }, calls: x.length, errors: usage(x).errors }));
    expect(c.sourceIps.nodes.sort((a: { sourceIp: { address: string } }, b: { sourceIp: { address: string } }) => (a.sourceIp.address < b.sourceIp.address ? -1 : 1))).toEqual(
      byIp.sort((a, b) => (a.sourceIp.address! < b.sourceIp.address! ? -1 : 1)),
    );
    expect(c.actions.nodes).toEqual(actionsOf(rs));
    expect(c.actions.totalCount).toBe(actionsOf(rs).length);
    expect((await gql(`query($f: ApiCallFilter) { caller(arn: "arn:aws:iam::111122223333:user/nobody", filter: $f) { key } }`, { f: W })).caller).toBeNull();
    // The deprecated `arn` still finds the same caller.
    expect((await gql(`query($arn: String!, $f: ApiCallFilter) { caller(arn: $arn, filter: $f) { key } }`, { arn: key, f: W })).caller.key).toBe(key);
  });
});

/** A caller's actions as `Caller.actions` gives them: by action and event source, most calls first, then by action and source. */
function actionsOf(rs: RawRecord[]) {
  return [...groupBy(rs, (r) => `${r.eventName}\u0000${r.eventSource}`).values()]
    .map((x) => ({ action: x[0]!.eventName, eventSource: x[0]!.eventSource, ...usage(x) }))
    .sort((a, b) => b.calls - a.calls || (a.action! < b.action! ? -1 : a.action! > b.action! ? 1 : a.eventSource < b.eventSource ? -1 : 1));
}

test("an action of both event sources is two of a caller's actions, as in the top-level list", async () => {
  // Callers one of whose action names was called on both IoT Events sources.
  const both = [...groupBy(all, callerKeyOf).entries()].filter(([, rs]) => [...groupBy(rs, (r) => r.eventName).values()].some((x) => new Set(x.map((r) => r.eventSource)).size > 1));
  expect(both.length).toBeGreaterThan(0);
  for (const [key, rs] of both.slice(0, 3)) {
    const data = await gql(`query($k: String!, $f: ApiCallFilter) { caller(key: $k, filter: $f) { actions(first: 100) { totalCount nodes { action eventSource calls errors firstSeen lastSeen } } } }`, { k: key, f: W });
    expect(data.caller.actions.nodes).toEqual(actionsOf(rs));
    expect(data.caller.actions.totalCount).toBe(actionsOf(rs).length);
    // Walked two at a time, by cursor: the same entries.
    const walked: unknown[] = [];
    for (let after: string | null = null, i = 0; i < 100; i++) {
      const page: { caller: { actions: { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } } = await gql(
        `query($k: String!, $f: ApiCallFilter, $after: String) { caller(key: $k, filter: $f) { actions(first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { action eventSource calls errors firstSeen lastSeen } } } }`,
        { k: key, f: W, after },
      );
      walked.push(...page.caller.actions.nodes);
      if (!page.caller.actions.pageInfo.hasNextPage) break;
      after = page.caller.actions.pageInfo.endCursor;
    }
    expect(walked).toEqual(actionsOf(rs));
  }
});

describe('source addresses', () => {
  test('sourceIps: counts, kinds and distinct callers', async () => {
    const expected = [...groupBy(all, (r) => r.sourceIPAddress).entries()]
      .map(([key, rs]) => ({ key: key!, kind: classifySourceIp(key), ...usage(rs), distinctCallers: new Set(rs.map(callerKeyOf)).size }))
      .sort(sortKey);
    const data = await gql(`query($f: ApiCallFilter) { sourceIps(filter: $f, first: 1000) { pageInfo { hasNextPage } nodes { address kind stats { calls errors firstSeen lastSeen distinctCallers } } } }`, { f: W });
    expect(data.sourceIps.pageInfo.hasNextPage).toBe(false);
    expect(data.sourceIps.nodes.map((n: { address: string; kind: string; stats: object }) => ({ key: n.address, kind: n.kind, ...n.stats }))).toEqual(expected);
    expect(new Set(expected.map((e) => e.kind))).toEqual(new Set(['PUBLIC_IPV4', 'PUBLIC_IPV6', 'PRIVATE', 'AWS_SERVICE', 'AWS_INTERNAL', 'DOCUMENTATION']));
  });

  test('sourceIp(address) with its callers and calls', async () => {
    const [address, rs] = [...groupBy(all, (r) => r.sourceIPAddress).entries()].sort((a, b) => b[1].length - a[1].length)[1];
    const data = await gql(
      `query($a: String!, $f: ApiCallFilter) { sourceIp(address: $a, filter: $f) { address stats { calls } callers(first: 500) { nodes { caller { key } calls } } calls(first: 3) { totalCount } } }`,
      { a: address, f: W },
    );
    expect(data.sourceIp.stats.calls).toBe(rs.length);
    expect(data.sourceIp.calls.totalCount).toBe(rs.length);
    const expected = [...groupBy(rs, callerKeyOf).entries()].map(([key, x]) => ({ key: key!, calls: x.length })).sort(sortKey);
    expect(data.sourceIp.callers.nodes.map((c: { caller: { key: string }; calls: number }) => ({ key: c.caller.key, calls: c.calls }))).toEqual(expected);
  });
});

describe('actions and activity', () => {
  test('actions: calls, errors by code, distinct callers, first/last seen', async () => {
    const data = await gql(`query($f: ApiCallFilter) { actions(filter: $f) { action eventSource calls errors distinctCallers firstSeen lastSeen errorsByCode { code calls } } }`, { f: W });
    const expected = [...groupBy(all, (r) => `${r.eventName}|${r.eventSource}`).entries()].map(([k, rs]) => ({
      action: k!.split('|')[0],
      eventSource: k!.split('|')[1],
      ...usage(rs),
      distinctCallers: new Set(rs.map(callerKeyOf)).size,
      errorsByCode: [...groupBy(rs.filter((r) => r.errorCode), (r) => r.errorCode).entries()]
        .map(([code, x]) => ({ code, calls: x.length }))
        .sort((a, b) => b.calls - a.calls || (a.code! < b.code! ? -1 : 1)),
    }));
    const norm = (xs: { action: string; eventSource: string }[]) => [...xs].sort((a, b) => (`${a.action}|${a.eventSource}` < `${b.action}|${b.eventSource}` ? -1 : 1));
    expect(norm(data.actions)).toEqual(norm(expected));
  });

  test.each([
    ['HOUR', null, (r: RawRecord) => `${r.eventTime.slice(0, 13)}:00:00.000Z`],
    ['DAY', 'ACTION', (r: RawRecord) => `${r.eventTime.slice(0, 10)}T00:00:00.000Z`],
    ['WEEK', 'CATEGORY', () => '2026-03-09T00:00:00.000Z'],
  ] as const)('activity by %s grouped by %s', async (interval, group, bucket) => {
    const data = await gql(`query($f: ApiCallFilter, $g: ActivityGroupBy) { activity(filter: $f, interval: ${interval}, groupBy: $g) { buckets { start key calls errors } } }`, { f: W, g: group });
    const category = (r: RawRecord) => {
      const t = r.userIdentity?.type;
      if (['Root', 'IAMUser'].includes(t)) return 'ROOT_OR_IAM_USER';
      if (['AssumedRole', 'Role', 'FederatedUser', 'WebIdentityUser', 'SAMLUser'].includes(t)) return 'ROLE_OR_FEDERATED_SESSION';
      if (t === 'AWSService' || (!t && r.userIdentity?.invokedBy)) return 'AWS_SERVICE';
      return 'OTHER';
    };
    const keyOf = (r: RawRecord) => (group === 'ACTION' ? r.eventName : group === 'CATEGORY' ? category(r) : null);
    const expected = [...groupBy(all, (r) => `${bucket(r)}|${keyOf(r) ?? ''}`).entries()]
      .map(([k, rs]) => ({ start: k!.split('|')[0], key: group ? k!.split('|')[1] : null, calls: rs.length, errors: usage(rs).errors }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : (a.key ?? '') < (b.key ?? '') ? -1 : 1));
    expect(data.activity.buckets).toEqual(expected);
  });
});

describe('IoT Events resources', () => {
  test('resource history: who created, changed and deleted it', async () => {
    const writes = all.filter((r) => r.readOnly === false && (r.requestParameters?.detectorModelName === 'boiler-temp' || r.requestParameters?.inputName === 'boiler-temp' || r.requestParameters?.alarmModelName === 'boiler-temp' || String(r.requestParameters?.resourceArn ?? '').endsWith('/boiler-temp')));
    const data = await gql(`query($f: ApiCallFilter) { resource(name: "boiler-temp", filter: $f) { name changes { eventId action }
      instances { kind account region created { eventId caller { arn } sourceIpAddress } } } }`, { f: W });
    expect(new Set(data.resource.changes.map((c: { eventId: string }) => c.eventId))).toEqual(new Set(writes.map((r) => r.eventID)));
    // Per kind, account and region: the newest successful create.
    const KINDS: Record<string, string> = { DetectorModel: 'detectorModel', Input: 'input', AlarmModel: 'alarmModel' };
    for (const inst of data.resource.instances as { kind: string; account: string; region: string; created: { eventId: string } | null }[]) {
      const creates = writes
        .filter((r) => !r.errorCode && r.recipientAccountId === inst.account && r.awsRegion === inst.region && KINDS[r.eventName.replace(/^Create/, '')] === inst.kind && r.eventName.startsWith('Create'))
        .sort((a, b) => (a.eventTime < b.eventTime ? 1 : -1));
      expect(inst.created?.eventId ?? null).toBe(creates[0]?.eventID ?? null);
    }
  });

  test('a history longer than a page is read whole: the same answer with pages of 2 as with pages of 1,000', async () => {
    const HISTORY = `query($f: ApiCallFilter) { resource(name: "boiler-temp", filter: $f) { changes { eventId } created { eventId } lastUpdated { eventId }
      deleted { eventId } failedAttempts { eventId } instances { kind account region created { eventId } deleted { eventId } } } }`;
    const whole = await gql(HISTORY, { f: W });
    expect(whole.resource.changes.length).toBeGreaterThan(4);
    const small = await startServer(sample.dir, { MAX_PAGE_SIZE: '2', DEFAULT_PAGE_SIZE: '2' }, { now: () => SAMPLE_END });
    try {
      const paged = await small.gql(HISTORY, { f: W });
      expect(paged.errors).toBeUndefined();
      expect(paged.data).toEqual(whole);
    } finally {
      await small.close();
    }
  });

  test('iotEventsResources on a call', async () => {
    const data = await gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 50) { edges { node { requestParameters iotEventsResources { kind name } } } } }`, { f: { ...W, actions: ['CreateDetectorModel', 'UpdateInput'] } });
    for (const { node } of data.apiCalls.edges) {
      const p = node.requestParameters ?? {};
      const names = node.iotEventsResources.map((r: { name: string }) => r.name);
      for (const v of [p.detectorModelName, p.inputName].filter((x) => x && x !== 'HIDDEN_DUE_TO_SECURITY_REASONS')) expect(names).toContain(v);
    }
  });
});

describe('IoT Events resources for a key without payloads', () => {
  const NO_PAYLOADS = 'a-key-that-may-not-read-payloads-0123456789';
  test('names stay visible: the same resources on calls and the same resource history, payloads withheld', async () => {
    const keys = [...TEST_KEYS, { id: 'no-payloads', sha256: hashKey(NO_PAYLOADS), accounts: ['*'], regions: [], payloads: false, admin: false }];
    const other = await startServer(sample.dir, { MAX_PAGE_SIZE: '1000', API_KEYS: JSON.stringify(keys) }, { now: () => SAMPLE_END });
    try {
      const as = async (key: string, query: string, variables: Record<string, unknown>) => {
        const res = await other.gql(query, variables, { authorization: `Bearer ${key}` });
        expect(res.errors).toBeUndefined();
        return res.data;
      };
      const CALLS = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 200) { edges { node { eventId requestParameters iotEventsResources { kind name } } } } }`;
      const f = { ...W, actions: ['CreateDetectorModel', 'UpdateDetectorModel', 'DeleteDetectorModel', 'CreateInput', 'UpdateInput'] };
      const [full, withheld] = await Promise.all([as(TEST_KEY, CALLS, { f }), as(NO_PAYLOADS, CALLS, { f })]);
      const names = (d: { apiCalls: { edges: { node: { eventId: string; iotEventsResources: unknown[] } }[] } }) => d.apiCalls.edges.map((e) => [e.node.eventId, e.node.iotEventsResources]);
      expect(full.apiCalls.edges.filter((e: { node: { iotEventsResources: unknown[] } }) => e.node.iotEventsResources.length > 0).length).toBeGreaterThan(5);
      expect(withheld.apiCalls.edges.every((e: { node: { requestParameters: unknown } }) => e.node.requestParameters === null)).toBe(true);
      expect(names(withheld)).toEqual(names(full));
      const HISTORY = `query($f: ApiCallFilter) { resource(name: "boiler-temp", filter: $f) { changes { eventId } created { eventId } lastUpdated { eventId }
        deleted { eventId } failedAttempts { eventId } instances { kind account region created { eventId } lastUpdated { eventId } deleted { eventId } failedAttempts { eventId } } } }`;
      const [history, withheldHistory] = await Promise.all([as(TEST_KEY, HISTORY, { f: W }), as(NO_PAYLOADS, HISTORY, { f: W })]);
      expect(history.resource.instances.length).toBeGreaterThan(0);
      expect(withheldHistory).toEqual(history);
    } finally {
      await other.close();
    }
  });
});

describe('DataLoader batching', () => {
  const NESTED = `query($f: ApiCallFilter, $n: Int) { apiCalls(filter: $f, first: $n) { edges { node {
    caller { stats { calls errors lastSeen } }
    sourceIp { stats { calls distinctCallers } }
  } } } }`;

  test('a page of 10 and a page of 200 run the same small number of queries', async () => {
    const counts: number[] = [];
    for (const n of [10, 200]) {
      server.engine.reset();
      const data = await gql(NESTED, { f: W, n });
      expect(data.apiCalls.edges).toHaveLength(n);
      counts.push(server.engine.executed.length);
      expect(server.engine.executed.map((q) => q.label).sort()).toEqual(['apiCalls', 'callerStats', 'sourceIpStats']);
    }
    expect(counts).toEqual([3, 3]);
  });

  test('nested calls come with the callers\' page; their source addresses and actions are one query each', async () => {
    server.engine.reset();
    await gql(`query($f: ApiCallFilter) { callers(filter: $f, first: 50) { nodes { key calls(first: 2) { edges { node { eventId } } } sourceIps(first: 3) { nodes { calls } } actions(first: 3) { nodes { action } } } } }`, { f: W });
    expect(server.engine.executed.map((q) => q.label).sort()).toEqual(['callerActions', 'callerSourceIps', 'callers:ARN+caller.calls']);
  });

  test('actions run the errors-by-code query only when asked, once for all actions', async () => {
    server.engine.reset();
    await gql(`query($f: ApiCallFilter) { actions(filter: $f) { action calls } }`, { f: W });
    expect(server.engine.executed.map((q) => q.label)).toEqual(['actions']);
    server.engine.reset();
    await gql(`query($f: ApiCallFilter) { actions(filter: $f) { action errorsByCode { code calls } } }`, { f: W });
    expect(server.engine.executed.map((q) => q.label)).toEqual(['actions', 'actionErrors']);
  });

  test('actions compute only the measures the selection asks for, with the same values', async () => {
    server.engine.reset();
    const narrow = await gql(`query($f: ApiCallFilter) { actions(filter: $f) { action eventSource calls errors } }`, { f: W });
    // The grouped SELECT computes no other measure (the source below it reads the fields that make
    // a synthetic eventId for deduplication, whatever the measures).
    const sql = server.engine.executed.map((q) => q.sql.split('\nFROM (')[0]).join('\n');
    expect(sql).not.toMatch(/count\(DISTINCT|min\(|max\(|useridentity|sourceipaddress/);
    server.engine.reset();
    const wide = await gql(`query($f: ApiCallFilter) { actions(filter: $f) { action eventSource calls errors ... on ActionSummary { distinctCallers lastSeen } } }`, { f: W });
    const wideSql = server.engine.executed.map((q) => q.sql).join('\n');
    expect(wideSql).toMatch(/count\(DISTINCT/);
    expect(wideSql).toMatch(/max\(/);
    expect(wideSql).not.toMatch(/min\(/);
    expect(wide.actions.map((a: { action: string; eventSource: string; calls: number; errors: number }) => ({ action: a.action, eventSource: a.eventSource, calls: a.calls, errors: a.errors }))).toEqual(narrow.actions);
    expect(wide.actions.every((a: { distinctCallers: number; lastSeen: string }) => a.distinctCallers > 0 && !!a.lastSeen)).toBe(true);
  });

  test('callers and source addresses compute only the measures their nodes read, with the same values and pages', async () => {
    const walk = async (query: string, field: 'callers' | 'sourceIps') => {
      const sql: string[] = [];
      const nodes: Record<string, any>[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
      let after: string | null = null;
      for (;;) {
        server.engine.reset();
        const data = await gql(query, { f: W, after });
        sql.push(...server.engine.executed.map((q) => q.sql.split('\nFROM (')[0]!));
        nodes.push(...data[field].edges.map((e: { node: unknown }) => e.node));
        if (!data[field].pageInfo.hasNextPage) return { sql: sql.join('\n'), nodes };
        after = data[field].pageInfo.endCursor;
      }
    };
    const page = (field: string, node: string, order = '') => `query($f: ApiCallFilter, $after: String) { ${field}(filter: $f, first: 20, after: $after${order}) { pageInfo { hasNextPage endCursor } edges { node { ${node} } } } }`;
    const narrow = await walk(page('callers', 'key stats { calls errors }'), 'callers');
    expect(narrow.sql).not.toMatch(/count\(DISTINCT|max_by|min\(|max\(|list\(/);
    const wide = await walk(page('callers', 'key arn identityType stats { calls errors lastSeen distinctActions accessKeyIds }'), 'callers');
    expect(wide.sql).toMatch(/count\(DISTINCT/);
    expect(wide.sql).toMatch(/max_by/);
    expect(wide.nodes.map((n) => ({ key: n.key, stats: { calls: n.stats.calls, errors: n.stats.errors } }))).toEqual(narrow.nodes);
    expect(wide.nodes.every((n) => n.arn !== undefined && n.identityType && n.stats.lastSeen && n.stats.distinctActions > 0)).toBe(true);
    // A page ordered by a measure the nodes do not read still computes it (its cursors hold it).
    const byLast = await walk(page('callers', 'key', ', orderBy: LAST_SEEN_DESC'), 'callers');
    expect(byLast.sql).toMatch(/max\(/);
    expect(byLast.nodes).toHaveLength(narrow.nodes.length);
    const ips = await walk(page('sourceIps', 'address kind stats { calls }'), 'sourceIps');
    expect(ips.sql).not.toMatch(/count\(DISTINCT|min\(|max\(/);
    const ipsWide = await walk(page('sourceIps', 'address stats { calls distinctCallers }'), 'sourceIps');
    expect(ipsWide.sql).toMatch(/count\(DISTINCT/);
    expect(ipsWide.nodes.map((n) => ({ address: n.address, calls: n.stats.calls }))).toEqual(ips.nodes.map((n) => ({ address: n.address, calls: n.stats.calls })));
  });

  test('nested pages of different sizes in one request each get their own size', async () => {
    const data = await gql(`query($f: ApiCallFilter) { callers(filter: $f, first: 3) { nodes { key
      small: calls(first: 2) { edges { node { eventId } } }
      large: calls(first: 7) { edges { node { eventId } } pageInfo { hasNextPage } } } } }`, { f: W });
    for (const node of data.callers.nodes) {
      const calls = all.filter((r) => callerKeyOf(r) === node.key).sort(byTimeDesc).map((r) => r.eventID);
      expect(node.small.edges.map((e: { node: { eventId: string } }) => e.node.eventId)).toEqual(calls.slice(0, 2));
      expect(node.large.edges.map((e: { node: { eventId: string } }) => e.node.eventId)).toEqual(calls.slice(0, 7));
      expect(node.large.pageInfo.hasNextPage).toBe(calls.length > 7);
    }
  });

  test('batched first pages equal one-by-one pages', async () => {
    const data = await gql(`query($f: ApiCallFilter) { callers(filter: $f, first: 5) { nodes { key calls(first: 3) { edges { node { eventId } } pageInfo { hasNextPage } } } } }`, { f: W });
    for (const node of data.callers.nodes) {
      const single = await gql(`query($f: ApiCallFilter, $a: String!) { apiCalls(filter: $f, first: 3) { edges { node { eventId } } } x: caller(key: $a, filter: $f) { key } }`, { f: { ...W, callerArns: node.key.startsWith('arn:') ? [node.key] : undefined }, a: node.key });
      if (node.key.startsWith('arn:')) expect(node.calls.edges).toEqual(single.apiCalls.edges);
    }
  });
});
