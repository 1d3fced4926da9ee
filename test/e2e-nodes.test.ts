/**
 * Global ids over HTTP: every Node type comes back from `node(id:)` and `nodes(ids:)` with the
 * fields the list gave it, ids are the same in every request, `nodes` looks many ids up in one
 * statement per kind, a key scoped to one account gets null for the objects of another (without
 * a statement when the id itself says so), and ids that are not ids are refused before any
 * statement runs.
 */
import 'reflect-metadata';
import { decodeId } from '../src/graphql/node/global-id';
import { schema } from '../src/graphql/schema';
import { hashKey } from '../src/auth/authenticate';
import { IOT_SOURCES, RawRecord, dedupe, inWindow, readRecords } from './support/records';
import { TEST_KEYS, TestServer } from './support/server';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const A = '111122223333';
const B = '444455556666';
const FROM = new Date(SAMPLE_END.getTime() - 20 * 3_600_000);
const W = { from: FROM.toISOString(), to: SAMPLE_END.toISOString() };
const KEY_A = 'key-for-account-a-only-0123456789';
const keys = [...TEST_KEYS, { id: 'a', sha256: hashKey(KEY_A), accounts: [A], regions: [], payloads: false, admin: false }];
const asA = { authorization: `Bearer ${KEY_A}` };

const sample = useSampleServer(1, { iotEventsPerDay: 80, deliveryMinutes: 60 }, { env: { API_KEYS: JSON.stringify(keys) } });
let server: TestServer;
let all: RawRecord[];

beforeAll(() => {
  server = sample.server;
  all = dedupe(readRecords(sample.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, FROM, SAMPLE_END));
});

async function gql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await server.gql(query, variables, headers);
  expect(res.errors).toBeUndefined();
  return res;
}

const CALL = 'id eventId eventTime action eventSource account region sourceIpAddress errorCode caller { id key principal } sourceIp { id address kind }';
const CALLER = 'id key arn principal identityType category stats { calls errors distinctActions distinctSourceIps firstSeen lastSeen }';
const SOURCE_IP = 'id address kind stats { calls errors distinctActions distinctCallers firstSeen lastSeen }';
const ACTION = 'id summaryAction: action summarySource: eventSource calls errors distinctCallers distinctSourceIps firstSeen lastSeen';
const NODE = `__typename ... on ApiCall { ${CALL} } ... on Caller { ${CALLER} } ... on SourceIp { ${SOURCE_IP} } ... on ActionSummary { ${ACTION} }`;
const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { ${NODE} } }`;
const ONE = `query($id: ID!) { node(id: $id) { ${NODE} } }`;

type Obj = Record<string, unknown> & { id: string };
const typed = (t: string) => (o: Obj) => ({ __typename: t, ...o });

/** Some objects of each type as lists give them (`f` narrows the callers and addresses). */
async function listed(f: Record<string, unknown>): Promise<Obj[]> {
  const q = `query($w: ApiCallFilter, $f: ApiCallFilter) {
    apiCalls(filter: $w, first: 4) { edges { node { ${CALL} } } }
    callers(filter: $f, first: 4) { nodes { ${CALLER} } }
    principals: callers(filter: $f, first: 3, groupBy: PRINCIPAL) { nodes { ${CALLER} } }
    sourceIps(filter: $f, first: 4) { nodes { ${SOURCE_IP} } }
    actions(filter: $f) { ${ACTION} } }`;
  const d = (await gql(q, { w: W, f })).data;
  return [
    ...d.apiCalls.edges.map((e: { node: Obj }) => e.node).map(typed('ApiCall')),
    ...[...d.callers.nodes, ...d.principals.nodes].map(typed('Caller')),
    ...d.sourceIps.nodes.map(typed('SourceIp')),
    ...d.actions.slice(0, 4).map(typed('ActionSummary')),
  ];
}

describe('round trip', () => {
  test.each([
    ['the window alone', W],
    ['a filter', { ...W, outcome: 'SUCCESS', actionPatterns: ['Describe*', 'List*'] }],
  ])('every type comes back from nodes(ids:) and node(id:) as the list gave it (%s)', async (_, f) => {
    const objects = await listed(f);
    expect(new Set(objects.map((o) => o.__typename)).size).toBe(4);
    server.engine.reset();
    const res = await gql(NODES, { ids: objects.map((o) => o.id) });
    expect(res.data.nodes).toEqual(objects);
    // One statement per kind (callers: per grouping), however many ids.
    const labels: string[] = res.extensions?.cost.queries.map((q: { label: string }) => q.label).sort();
    expect(labels).toEqual(['actions', 'caller', 'caller', 'node:ApiCall', 'sourceIpStats']);
    for (const o of objects.filter((_, i) => i % 3 === 0)) expect((await gql(ONE, { id: o.id })).data.node).toEqual(o);
  });

  test('ids are the same in every request, and differ where the counts differ', async () => {
    const first = await listed(W);
    const again = await listed(W);
    expect(again.map((o) => o.id)).toEqual(first.map((o) => o.id));
    const filtered = await listed({ ...W, outcome: 'ERROR' });
    const callerIds = new Set(first.filter((o) => o.__typename === 'Caller').map((o) => o.id));
    expect(filtered.filter((o) => o.__typename === 'Caller').some((o) => callerIds.has(o.id))).toBe(false);
  });

  test('a call\'s caller and address are nodes of the call\'s window', async () => {
    const call = (await gql(`query($w: ApiCallFilter) { apiCalls(filter: $w, first: 1) { edges { node { caller { id key } sourceIp { id address } } } } }`, { w: W })).data.apiCalls.edges[0].node;
    const res = await gql(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Caller { key stats { calls } } ... on SourceIp { address stats { calls } } } }`, { ids: [call.caller.id, call.sourceIp.id] });
    const [caller, ip] = res.data.nodes;
    expect(caller.key).toBe(call.caller.key);
    expect(ip.address).toBe(call.sourceIp.address);
    expect(caller.stats.calls).toBeGreaterThan(0);
  });
});

/** Names of IoT Events resources written in the window, with the accounts they were written in. */
function resourceNames(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of all) {
    const p = (r.requestParameters ?? {}) as Record<string, unknown>;
    const name = [p.detectorModelName, p.inputName, p.alarmModelName].find((v) => typeof v === 'string');
    if (r.readOnly !== false || typeof name !== 'string' || name === 'HIDDEN_DUE_TO_SECURITY_REASONS') continue;
    out.set(name, (out.get(name) ?? new Set()).add(r.recipientAccountId!));
  }
  return out;
}

const INSTANCE = 'id kind name account region created { eventId } lastUpdated { eventId } deleted { eventId } failedAttempts { eventId }';
const HISTORY = `id name window { from to } changes { eventId } instances { ${INSTANCE} }`;
const RESOURCE_NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on ResourceInstance { ${INSTANCE} } ... on ResourceHistory { ${HISTORY} } } }`;

/** The histories `resource` gives for `names` under `f` (one field each). */
async function histories(names: string[], f: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Obj[]> {
  const fields = names.map((_, i) => `r${i}: resource(name: $n${i}, filter: $f) { ${HISTORY} }`).join(' ');
  const vars = names.map((_, i) => `$n${i}: String!`).join(', ');
  const d = (await gql(`query($f: ApiCallFilter, ${vars}) { ${fields} }`, { f, ...Object.fromEntries(names.map((n, i) => [`n${i}`, n])) }, headers)).data;
  return names.map((_, i) => d[`r${i}`]);
}

describe('resources', () => {
  test.each([
    ['the window alone', W],
    ['a filter', { ...W, outcome: 'SUCCESS' }],
  ])('histories and their instances come back from nodes(ids:) as resource gave them, many names in one statement (%s)', async (_, f) => {
    const names = [...resourceNames().keys()].slice(0, 4);
    expect(names.length).toBeGreaterThanOrEqual(3);
    const found = (await histories(names, f)).filter((h) => (h.changes as unknown[]).length > 0);
    expect(found.length).toBeGreaterThanOrEqual(2);
    const objects = [
      ...found.map(typed('ResourceHistory')),
      ...found.flatMap((h) => (h.instances as Obj[]).map(typed('ResourceInstance'))),
    ];
    expect(objects.length).toBeGreaterThan(found.length);
    server.engine.reset();
    const res = await gql(RESOURCE_NODES, { ids: objects.map((o) => o.id) });
    expect(res.data.nodes).toEqual(objects);
    // Every name under the same filter: one statement.
    expect(res.extensions?.cost.queries.map((q: { label: string }) => q.label)).toEqual(['resource']);
    for (const o of objects.slice(0, 3)) {
      expect((await gql(`query($id: ID!) { node(id: $id) { __typename ... on ResourceInstance { ${INSTANCE} } ... on ResourceHistory { ${HISTORY} } } }`, { id: o.id })).data.node).toEqual(o);
    }
  });

  test('a key scoped to account A gets null for resources of account B, and no statement when the id names B', async () => {
    const names = [...resourceNames()].filter(([, accounts]) => accounts.size === 1 && accounts.has(B)).map(([n]) => n).slice(0, 3);
    expect(names.length).toBeGreaterThanOrEqual(1);
    const found = await histories(names, W);
    const instances = found.flatMap((h) => h.instances as Obj[]);
    expect(instances.length).toBeGreaterThanOrEqual(1);
    expect(instances.every((i) => i.account === B)).toBe(true);
    server.engine.reset();
    const named = await gql(RESOURCE_NODES, { ids: instances.map((i) => i.id) }, asA);
    expect(named.data.nodes).toEqual(instances.map(() => null));
    expect(server.engine.executed).toHaveLength(0);
    // A history names no account: it is looked up under the key's scope, where nothing changed it.
    const looked = await gql(RESOURCE_NODES, { ids: found.map((h) => h.id) }, asA);
    expect(looked.data.nodes).toEqual(found.map(() => null));
    // The full key sees them.
    expect((await gql(RESOURCE_NODES, { ids: [...instances, ...found].map((o) => o.id) })).data.nodes.every((n: unknown) => n !== null)).toBe(true);
  });

  test('the same key gets the resources of its own account', async () => {
    const names = [...resourceNames()].filter(([, accounts]) => accounts.has(A)).map(([n]) => n).slice(0, 3);
    const instances = (await histories(names, W, asA)).flatMap((h) => h.instances as Obj[]);
    expect(instances.length).toBeGreaterThanOrEqual(1);
    const res = await gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: instances.map((i) => i.id) }, asA);
    expect(res.data.nodes.map((n: Obj | null) => n?.id)).toEqual(instances.map((i) => i.id));
  });
});

describe('scope', () => {
  /** An account's objects as a full key lists them: calls, callers and addresses seen only there. */
  async function idsOf(account: string) {
    const only = (key: (r: RawRecord) => string | null | undefined) => {
      const accounts = new Map<string, Set<string>>();
      for (const r of all) accounts.set(String(key(r)), (accounts.get(String(key(r))) ?? new Set()).add(r.recipientAccountId!));
      return (k: string | null) => accounts.get(String(k))?.size === 1 && accounts.get(String(k))!.has(account);
    };
    const d = (await gql(
      `query($w: ApiCallFilter, $a: ApiCallFilter) {
        apiCalls(filter: $a, first: 3) { edges { node { id } } }
        inAccount: callers(filter: $a, first: 3) { nodes { id } }
        everywhere: callers(filter: $w, first: 500) { nodes { id arn } }
        addresses: sourceIps(filter: $w, first: 500) { nodes { id address } } }`,
      { w: W, a: { ...W, accounts: [account] } },
    )).data;
    const callerOnly = only((r) => r.userIdentity?.arn ?? null);
    const ipOnly = only((r) => r.sourceIPAddress);
    return {
      /** Ids that name the account themselves (a call's account, a filter's accounts). */
      named: [...d.apiCalls.edges.map((e: { node: Obj }) => e.node.id), ...d.inAccount.nodes.map((n: Obj) => n.id)],
      /** Ids that do not: only the lookup under the key's scope tells. */
      found: [
        ...d.everywhere.nodes.filter((n: { arn: string | null }) => n.arn !== null && callerOnly(n.arn)).slice(0, 3).map((n: Obj) => n.id),
        ...d.addresses.nodes.filter((n: { address: string | null }) => n.address !== null && ipOnly(n.address)).slice(0, 3).map((n: Obj) => n.id),
      ],
    };
  }

  test('a key scoped to account A gets null for the objects of account B, and no statement when the id names B', async () => {
    const b = await idsOf(B);
    expect(b.named.length).toBeGreaterThanOrEqual(4);
    expect(b.found.length).toBeGreaterThanOrEqual(2);
    // The full key sees them all.
    expect((await gql(NODES, { ids: [...b.named, ...b.found] })).data.nodes.every((n: unknown) => n !== null)).toBe(true);

    server.engine.reset();
    const named = await gql(NODES, { ids: b.named }, asA);
    expect(named.data.nodes).toEqual(b.named.map(() => null));
    expect(server.engine.executed).toHaveLength(0);
    for (const id of b.named.slice(0, 2)) expect((await gql(ONE, { id }, asA)).data.node).toBeNull();

    const found = await gql(NODES, { ids: b.found }, asA);
    expect(found.data.nodes).toEqual(b.found.map(() => null));
  });

  test('the same key gets the objects of its own account', async () => {
    const a = await idsOf(A);
    const res = await gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [...a.named, ...a.found] }, asA);
    expect(res.data.nodes.map((n: Obj | null) => n?.id)).toEqual([...a.named, ...a.found]);
  });
});

describe('bad ids', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
  const BAD = [
    ['not base64url', 'abc$%^'],
    ['not JSON', Buffer.from('Caller:arn:aws:iam::1:user/x').toString('base64url')],
    ['an unknown type', b64(['Resource', 'x', '{}'])],
    ['a call id without a time', b64(['ApiCall', 'e1', null, A, 'eu-west-1'])],
    ['an event id that is none', b64(['ApiCall', "x' OR 1=1", 0, A, 'eu-west-1'])],
    ['a filter that is no literal', b64(['Caller', 'ARN', 'arn:aws:iam::1:user/x', '{from: '])],
    ['a filter of the wrong shape', b64(['Caller', 'ARN', 'arn:aws:iam::1:user/x', `{from: "${W.from}", to: "${W.to}", actions: 5, outcome: NOPE}`])],
    ['a filter without a window', b64(['SourceIp', '192.0.2.1', '{}'])],
    ['a resource of no kind', b64(['ResourceInstance', 'bucket', 'boiler-temp', A, 'eu-west-1', `{from: "${W.from}", to: "${W.to}"}`])],
    ['a resource without a name', b64(['ResourceInstance', 'input', '', A, 'eu-west-1', `{from: "${W.from}", to: "${W.to}"}`])],
    ['a resource history without a window', b64(['ResourceHistory', 'boiler-temp', '{}'])],
    ['too long', 'A'.repeat(20_000)],
  ];
  /** Decodes, but its window is longer than any may be: refused as that filter's bound. */
  const LONG_WINDOW = b64(['SourceIp', '192.0.2.1', `{from: "2020-01-01T00:00:00.000Z", to: "${W.to}"}`]);

  async function refused(query: string, variables: Record<string, unknown>, field: string) {
    server.engine.reset();
    const res = await server.gql(query, variables);
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].extensions?.field).toBe(field);
    expect(res.data ?? null).toBeNull();
    expect(server.engine.executed).toHaveLength(0);
  }

  const beside = 'apiCalls(filter: $w, first: 1) { edges { node { eventId } } }';
  const nodeQuery = `query($id: ID!, $w: ApiCallFilter) { ${beside} node(id: $id) { id } }`;
  const nodesQuery = `query($ids: [ID!]!, $w: ApiCallFilter) { ${beside} nodes(ids: $ids) { id } }`;

  test.each(BAD)('%s: 400 BAD_USER_INPUT before any statement, beside another field or among good ids', async (_, id) => {
    await refused(nodeQuery, { id, w: W }, 'id');
    const good = (await listed(W))[0].id;
    await refused(nodesQuery, { ids: [good, id], w: W }, 'ids');
  });

  test('an id naming a filter field ApiCallFilter has not is refused, not read without it', async () => {
    const id = b64(['SourceIp', '192.0.2.1', `{from: "${W.from}", to: "${W.to}", bogus: 1}`]);
    expect(decodeId(schema(), b64(['SourceIp', '192.0.2.1', `{from: "${W.from}", to: "${W.to}"}`]), 'id')).toMatchObject({ type: 'SourceIp' });
    await refused(nodeQuery, { id, w: W }, 'id');
  });

  test('an id whose window is too long is refused as a filter would be', async () => {
    await refused(nodeQuery, { id: LONG_WINDOW, w: W }, 'filter.from');
    await refused(nodesQuery, { ids: [LONG_WINDOW], w: W }, 'filter.from');
  });

  test('a resource name the resource query would refuse is refused as its name', async () => {
    const id = b64(['ResourceHistory', 'bad\u0001name', `{from: "${W.from}", to: "${W.to}"}`]);
    await refused(nodeQuery, { id, w: W }, 'filter.resourceName');
    await refused(nodesQuery, { ids: [id], w: W }, 'filter.resourceName');
  });

  test('more ids than allowed are refused before any statement', async () => {
    const good = (await listed(W))[0].id;
    await refused(nodesQuery, { ids: Array.from({ length: 101 }, () => good), w: W }, 'ids');
  });
});

describe('resources on short pages', () => {
  // Pages of 5: several names' changes do not fit one page together.
  const short = useSampleServer(1, { iotEventsPerDay: 80, deliveryMinutes: 60 }, { env: { DEFAULT_PAGE_SIZE: '5', MAX_PAGE_SIZE: '5' } });

  test('when one page does not hold every name\'s changes, each name gets its own statement and the answer resource gives', async () => {
    const names = [...resourceNames().keys()].slice(0, 4);
    // Each name in a request of its own: nothing to batch it with.
    const alone: Obj[] = [];
    for (const name of names) {
      const res = await short.server.gql(`query($f: ApiCallFilter, $n: String!) { resource(name: $n, filter: $f) { ${HISTORY} } }`, { f: W, n: name });
      expect(res.errors).toBeUndefined();
      alone.push(res.data.resource);
    }
    const found = alone.filter((h) => (h.changes as unknown[]).length > 0);
    expect(found.length).toBeGreaterThanOrEqual(2);
    expect(found.reduce((n, h) => n + (h.changes as unknown[]).length, 0)).toBeGreaterThan(5);
    short.server.engine.reset();
    const again = await short.server.gql(RESOURCE_NODES, { ids: found.map((h) => h.id) });
    expect(again.errors).toBeUndefined();
    expect(again.data.nodes).toEqual(found.map(typed('ResourceHistory')));
    // The shared statement, then one per name.
    expect(again.extensions?.cost.queries.length).toBe(found.length + 1);
  });
});
