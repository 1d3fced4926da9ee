/**
 * Bad input over HTTP: every kind is refused with BAD_USER_INPUT before any engine query runs.
 * An engine failure reaches the client as a generic error with the request id, and nothing of the
 * engine's message or the trail's paths.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { listRecordFiles } from './support/records';
import { useSampleServer } from './support/sample-server';
import { GqlResponse, TEST_KEY, TEST_KEYS, startServer } from './support/server';
import { loadConfig } from '../src/config';
import { createEngine } from '../src/engines';
import { Engine } from '../src/query/engine';
import { SAMPLE_END } from './support/trails';

const DAY_MS = 86_400_000;
const TO = new Date(SAMPLE_END.getTime() - 3_600_000);
const FROM = new Date(TO.getTime() - 12 * 3_600_000);
const WINDOW = { from: FROM.toISOString(), to: TO.toISOString() };

const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) { edges { node { eventId } } pageInfo { endCursor } }
}`;
const ONE = `query($eventId: ID!, $from: DateTime, $to: DateTime) { apiCall(eventId: $eventId, from: $from, to: $to) { eventId } }`;

/** Day folders holding a file the engine cannot read, far from the window the other tests use. */
const CORRUPT = {
  garbage: { day: '2026/03/01', name: '111122223333_CloudTrail_us-east-1_20260301T0005Z_CORRUPTGARBAGE00.json.gz' },
  truncated: { day: '2026/03/05', name: '111122223333_CloudTrail_us-east-1_20260305T0005Z_CORRUPTTRUNCATED.json.gz' },
};

/** Puts the unreadable files into their day folders. */
function corrupt(dir: string): void {
  const account = path.join(dir, 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1');
  const put = (c: { day: string; name: string }, bytes: Buffer) => {
    const folder = path.join(account, ...c.day.split('/'));
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, c.name), bytes);
  };
  put(CORRUPT.garbage, Buffer.from('this is not gzip, and not JSON either'));
  const real = fs.readFileSync(listRecordFiles(dir)[0]);
  expect(gzipSync(Buffer.from('x'))[0]).toBe(real[0]);
  put(CORRUPT.truncated, real.subarray(0, Math.floor(real.length / 2)));
}

const ctx = useSampleServer(1, { iotEventsPerDay: 40 }, { prepare: corrupt });
let cursor: string;

beforeAll(async () => {
  const first = await ctx.server.gql(PAGE, { filter: WINDOW, first: 2 });
  expect(first.errors).toBeUndefined();
  cursor = first.data.apiCalls.pageInfo.endCursor;
  expect(typeof cursor).toBe('string');
});

/** The request fails with BAD_USER_INPUT and the engine runs nothing. */
async function expectRefused(query: string, variables: Record<string, unknown> = {}): Promise<GqlResponse> {
  const before = ctx.server.engine.executed.length;
  const res = await ctx.server.gql(query, variables);
  expect(res.errors?.length).toBeGreaterThan(0);
  expect(res.errors!.map((e) => e.extensions?.code)).toEqual(res.errors!.map(() => 'BAD_USER_INPUT'));
  expect(res.data?.apiCalls ?? null).toBeNull();
  // An answer with errors is not a complete one, whatever the files.
  expect(res.extensions?.complete).toBe(false);
  expect(ctx.server.engine.executed.length).toBe(before);
  return res;
}

const refusedFilter = (filter: Record<string, unknown>) => () => expectRefused(PAGE, { filter: { ...WINDOW, ...filter } });
const iso = (ms: number) => new Date(ms).toISOString();
const long = 'a'.repeat(2000);

describe('windows', () => {
  test('inverted', refusedFilter({ from: WINDOW.to, to: WINDOW.from }));
  test('empty (from == to)', refusedFilter({ from: WINDOW.from, to: WINDOW.from }));
  test('over MAX_WINDOW_DAYS', refusedFilter({ from: iso(TO.getTime() - 32 * DAY_MS), to: WINDOW.to }));
  test('one second over MAX_WINDOW_DAYS', refusedFilter({ from: iso(TO.getTime() - 31 * DAY_MS - 1000), to: WINDOW.to }));
  test('only "from", too far back for the default "to" (now): the refusal names "from"', async () => {
    const res = await expectRefused(PAGE, { filter: { from: iso(SAMPLE_END.getTime() - 40 * DAY_MS) } });
    expect(res.errors![0].extensions?.field).toBe('filter.from');
  });
  test('a lookup with "from" too far back: the refusal names the argument', async () => {
    const res = await expectRefused(`query($from: DateTime) { apiCall(eventId: "abc", from: $from) { eventId } }`, { from: iso(SAMPLE_END.getTime() - 40 * DAY_MS) });
    expect(res.errors![0].extensions?.field).toBe('from');
  });
  test('only "to", before everything', refusedFilter({ from: undefined, to: '2004-12-31T00:00:00Z' }));
});

// A node's field given one bound falls back on its node's window for the other: the window is
// known before the parent's statement, so the refusal comes before it too.
describe("a node's field with one bound, over its parent's window", () => {
  const NESTED = `query($w: ApiCallFilter, $f: ApiCallFilter) {
    callers(filter: $w, first: 2) { nodes { key calls(filter: $f, first: 1) { totalCount } } }
    sourceIp(address: "203.0.113.9", filter: $w) { address }
  }`;
  const EDGES = `query($w: ApiCallFilter, $f: ApiCallFilter) { sourceIps(filter: $w, first: 2) { edges { node { address stats(filter: $f) { calls } } } } }`;
  const ONE = `query($w: ApiCallFilter, $f: ApiCallFilter) { caller(key: "arn:aws:iam::111122223333:user/alice", filter: $w) { key actions(filter: $f) { totalCount } } }`;
  test('"from" too far back for the parent\'s "to"', async () => {
    const res = await expectRefused(NESTED, { w: WINDOW, f: { from: iso(TO.getTime() - 40 * DAY_MS) } });
    expect(res.errors![0].extensions?.field).toBe('filter.from');
  });
  test('"to" before the parent\'s "from", through edges', () => expectRefused(EDGES, { w: WINDOW, f: { to: iso(FROM.getTime() - 1000) } }));
  test('"to" before the parent\'s "from", on a single caller', () => expectRefused(ONE, { w: WINDOW, f: { to: iso(FROM.getTime() - 1000) } }));
  test('"from" at the parent\'s default "to" (now)', () => expectRefused(NESTED, { w: null, f: { from: iso(SAMPLE_END.getTime() + 3_600_000) } }));
  test('one bound inside the parent\'s window is answered (control)', async () => {
    const res = await ctx.server.gql(NESTED, { w: WINDOW, f: { from: iso(TO.getTime() - 3_600_000) } });
    expect(res.errors).toBeUndefined();
    expect(res.data.callers.nodes.length).toBeGreaterThan(0);
    const far = await ctx.server.gql(NESTED, { w: { from: iso(FROM.getTime() - 20 * DAY_MS), to: iso(FROM.getTime() - 19 * DAY_MS) }, f: { from: iso(FROM.getTime() - 20 * DAY_MS + 3_600_000) } });
    expect(far.errors).toBeUndefined();
  });
});

// A call's caller and address, an insight's principal and address carry the window of the field
// that found them: a field of theirs given one bound is judged over it before any statement runs.
describe('a node reached from a call or an insight, with one bound', () => {
  const FAR = { from: '2005-01-01T00:00:00Z' };
  const BEFORE = { to: '2005-01-02T00:00:00Z' };
  const cases: [string, string, Record<string, unknown>][] = [
    ['ApiCall.caller.calls', `query($f: ApiCallFilter) { apiCalls(first: 2) { edges { node { caller { calls(filter: $f) { totalCount } } } } } }`, FAR],
    ['ApiCall.caller.stats', `query($f: ApiCallFilter) { apiCalls(first: 2) { nodes { caller { stats(filter: $f) { calls } } } } }`, FAR],
    ['ApiCall.caller.sourceIps', `query($f: ApiCallFilter) { apiCalls(first: 2) { nodes { caller { sourceIps(filter: $f) { totalCount } } } } }`, BEFORE],
    ['ApiCall.caller.actions', `query($f: ApiCallFilter) { apiCalls(first: 2) { nodes { caller { actions(filter: $f) { totalCount } } } } }`, BEFORE],
    ['ApiCall.sourceIp.calls', `query($f: ApiCallFilter) { apiCalls(first: 2) { nodes { sourceIp { calls(filter: $f) { totalCount } } } } }`, FAR],
    ['ApiCall.sourceIp.callers', `query($f: ApiCallFilter) { apiCalls(first: 2) { nodes { sourceIp { callers(filter: $f) { totalCount } } } } }`, BEFORE],
    ['Insight.principal.calls', `query($f: ApiCallFilter) { insights { nodes { principal { calls(filter: $f) { totalCount } } } } }`, BEFORE],
    ['Insight.sourceIp.stats', `query($f: ApiCallFilter) { insights { nodes { sourceIp { stats(filter: $f) { calls } } } } }`, FAR],
    ['SourceIpCaller.caller.calls', `query($f: ApiCallFilter) { sourceIps(first: 2) { nodes { callers { nodes { caller { calls(filter: $f) { totalCount } } } } } } }`, FAR],
  ];
  test.each(cases)('%s: 400, BAD_USER_INPUT, no statement', async (_name, query, f) => {
    const before = ctx.server.engine.executed.length;
    const res = await ctx.server.gql(query, { f });
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0].message).toMatch(/may span at most 31 days|must be before/);
    expect(res.extensions?.cost?.totals).toMatchObject({ queries: 0, engineQueries: 0 });
    expect(ctx.server.engine.executed.length).toBe(before);
  });
  test('one bound inside the window of the call that found it is answered (control)', async () => {
    const res = await ctx.server.gql(`query($w: ApiCallFilter, $f: ApiCallFilter) { apiCalls(filter: $w, first: 2) { nodes { caller { calls(filter: $f) { totalCount } } } } }`, {
      w: WINDOW,
      f: { from: iso(TO.getTime() - 3_600_000) },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.apiCalls.nodes.length).toBeGreaterThan(0);
  });
});

// graphql's coercion recurses once per level: a value thousands deep would overflow the stack.
describe('values nested thousands deep', () => {
  const deep = (levels: number) => `${'{"not":'.repeat(levels)}{}${'}'.repeat(levels)}`;
  /** A body written as text: JSON.stringify itself recurses. */
  const raw = async (body: string) => {
    const before = ctx.server.engine.executed.length;
    const res = await fetch(ctx.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` }, body });
    const json = (await res.json()) as GqlResponse;
    expect(ctx.server.engine.executed.length).toBe(before);
    return { ...json, status: res.status };
  };
  const COUNT = 'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }';
  test.each([20, 6000])('variables %p deep: 400 BAD_USER_INPUT, no statement', async (levels) => {
    const res = await raw(`{"query":${JSON.stringify(COUNT)},"variables":{"f":${deep(levels)}}}`);
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message])).toEqual([['BAD_USER_INPUT', 'variables', 'variables: nested deeper than 16 levels of objects and lists']]);
    expect(res.extensions?.cost?.totals).toMatchObject({ queries: 0, engineQueries: 0 });
  });
  test('a literal in the query nested deeper than the limit: 400 BAD_USER_INPUT', async () => {
    const literal = `${'{ not: '.repeat(200)}{}${' }'.repeat(200)}`;
    const res = await raw(JSON.stringify({ query: `{ apiCalls(filter: ${literal}, first: 1) { totalCount } }` }));
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'query: a value nested deeper than 16 levels of objects and lists']]);
  });
  test('a literal deeper than the parser can read: a 4xx with a stable code, never an internal error', async () => {
    const literal = `${'{ not: '.repeat(20_000)}{}${' }'.repeat(20_000)}`;
    const res = await raw(JSON.stringify({ query: `{ apiCalls(filter: ${literal}, first: 1) { totalCount } }` }));
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      [
        'GRAPHQL_PARSE_FAILED',
        'Syntax Error: the document nests too deep to be read; a value nests at most 16 levels of objects and lists, and selections at most MAX_QUERY_DEPTH levels (a setting of the service)',
      ],
    ]);
    expect(res.extensions?.cost?.totals ?? { queries: 0, engineQueries: 0 }).toMatchObject({ queries: 0, engineQueries: 0 });
  });
});

describe('aliases in a fragment spread in several places', () => {
  test('are counted per spread: 3 x 26 is over MAX_ALIASES (30), refused before any statement', async () => {
    const aliased = Array.from({ length: 26 }, (_, i) => `a${i}: stats(filter: { actions: ["Action${i}"] }) { calls }`).join(' ');
    const query = `query($w: ApiCallFilter) {
      callers(filter: $w, first: 2) { nodes { ...F } }
      apiCalls(filter: $w, first: 2) { nodes { caller { ...F } } }
      insights(filter: $w, first: 2) { nodes { principal { ...F } } }
    } fragment F on Caller { ${aliased} }`;
    const before = ctx.server.engine.executed.length;
    const res = await ctx.server.gql(query, { w: WINDOW });
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['QUERY_TOO_COMPLEX', '78 aliases is over the limit of 30']]);
    expect(res.extensions?.cost?.totals).toMatchObject({ queries: 0, engineQueries: 0 });
    expect(ctx.server.engine.executed.length).toBe(before);
  });
});

describe('fragments that spread fragments', () => {
  test('each twice, 22 deep (millions of fields as executed, no alias): refused at once, before any statement', async () => {
    // F0 selects a caller's key; each next fragment spreads the one before twice.
    const fragments = Array.from({ length: 22 }, (_, i) => (i === 0 ? 'fragment F0 on Caller { key }' : `fragment F${i} on Caller { ...F${i - 1} ... on Caller { ...F${i - 1} } }`)).join('\n');
    const query = `query($w: ApiCallFilter) { callers(filter: $w, first: 2) { nodes { ...F21 } } }\n${fragments}`;
    const before = ctx.server.engine.executed.length;
    const res = await ctx.server.gql(query, { w: WINDOW });
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(res.errors?.[0]?.message).toMatch(/^\d+ fields selected \(fragments counted at each spread\) is over the limit of 2000$/);
    expect(res.extensions?.cost?.totals).toMatchObject({ queries: 0, engineQueries: 0 });
    expect(ctx.server.engine.executed.length).toBe(before);
  });
});

describe('caller lookups', () => {
  const CALLER = `query($k: String, $a: String) { caller(key: $k, arn: $a) { key } }`;
  test('neither key nor arn', () => expectRefused(CALLER, {}));
  test('both key and arn', () => expectRefused(CALLER, { k: 'x', a: 'y' }));
  // Beside a field that would run a statement of its own: the refusal comes before it.
  const BESIDE = (args: string) => `query($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 1) { totalCount } caller${args} { key } }`;
  test('neither, beside another field', async () => {
    const res = await expectRefused(BESIDE(''), { filter: WINDOW });
    expect(res.errors![0].message).toBe('caller: give exactly one of `key` and `arn`');
  });
  test('both, beside another field', () => expectRefused(BESIDE('(key: "a", arn: "b")'), { filter: WINDOW }));
  test('one of them beside another field is answered (control)', async () => {
    const res = await ctx.server.gql(BESIDE('(arn: "b")'), { filter: WINDOW });
    expect(res.errors).toBeUndefined();
  });
});

describe('cursors', () => {
  test('random text', () => expectRefused(PAGE, { filter: WINDOW, after: 'not a cursor at all' }));
  test('two dots', () => expectRefused(PAGE, { filter: WINDOW, after: 'eyJhIjoxfQ.abc.def' }));
  test('too long', () => expectRefused(PAGE, { filter: WINDOW, after: `${'A'.repeat(3000)}.${'B'.repeat(43)}` }));

  const changeAt = (text: string, i: number) => text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
  test('a valid cursor with one character of its body changed', () => {
    const dot = cursor.indexOf('.');
    return expectRefused(PAGE, { filter: WINDOW, after: changeAt(cursor, Math.floor(dot / 2)) });
  });
  test('a valid cursor with one character of its signature changed', () => {
    const dot = cursor.indexOf('.');
    return expectRefused(PAGE, { filter: WINDOW, after: changeAt(cursor, dot + 5) });
  });
  test('a cursor from a different filter', () => expectRefused(PAGE, { filter: { ...WINDOW, errorsOnly: true }, after: cursor }));
  test('a cursor from a different window', () => expectRefused(PAGE, { filter: { ...WINDOW, from: iso(FROM.getTime() - 1000) }, after: cursor }));
  test('the unchanged cursor is accepted (control)', async () => {
    const res = await ctx.server.gql(PAGE, { filter: WINDOW, first: 2, after: cursor });
    expect(res.errors).toBeUndefined();
  });

  // A nested field's statement runs after its parent's: a cursor of another connection is refused
  // before the parent's, from the connection the cursor names.
  const NESTED_AFTER: [string, string][] = [
    ['Caller.calls', `query($w: ApiCallFilter, $a: String) { callers(filter: $w, first: 2) { nodes { calls(first: 1, after: $a) { totalCount } } } }`],
    ['Caller.sourceIps', `query($w: ApiCallFilter, $a: String) { callers(filter: $w, first: 2) { nodes { sourceIps(first: 1, after: $a) { totalCount } } } }`],
    ['Caller.actions', `query($w: ApiCallFilter, $a: String) { caller(key: "arn:aws:iam::111122223333:user/alice", filter: $w) { actions(first: 1, after: $a) { totalCount } } }`],
    ['SourceIp.calls', `query($w: ApiCallFilter, $a: String) { sourceIps(filter: $w, first: 2) { nodes { calls(first: 1, after: $a) { totalCount } } } }`],
    ['SourceIp.callers', `query($w: ApiCallFilter, $a: String) { sourceIps(filter: $w, first: 2) { nodes { callers(first: 1, after: $a) { totalCount } } } }`],
    ['Insight.evidence', `query($w: ApiCallFilter, $a: String) { insights(filter: $w) { nodes { evidence(first: 1, after: $a) { totalCount } } } }`],
  ];
  test.each(NESTED_AFTER)("%s given apiCalls' cursor", async (_field, query) => {
    const res = await expectRefused(query, { w: WINDOW, a: cursor });
    expect(res.errors![0].message).toMatch(/issued for a different query/);
  });
  test("SourceIp.calls given Caller.calls' cursor", async () => {
    const first = await ctx.server.gql(`query($w: ApiCallFilter) { callers(filter: $w, first: 1) { nodes { calls(first: 1) { pageInfo { endCursor } } } } }`, { w: WINDOW });
    const nested = first.data.callers.nodes[0].calls.pageInfo.endCursor;
    expect(typeof nested).toBe('string');
    await expectRefused(NESTED_AFTER[3]![1], { w: WINDOW, a: nested });
    // The field that issued it takes it (control).
    const own = await ctx.server.gql(`query($w: ApiCallFilter, $a: String) { callers(filter: $w, first: 1) { nodes { calls(first: 1, after: $a) { totalCount } } } }`, { w: WINDOW, a: nested });
    expect(own.errors).toBeUndefined();
  });
});

// Where a nested field's parent is known before execution (a lookup's argument, a node id), a
// cursor issued under another caller or address is refused before the parent's statement too.
describe('a nested cursor given under another parent known up front', () => {
  /** Two parents of each kind seen in the window, with a cursor of each nested connection under the first. */
  const PARENTS = `query($w: ApiCallFilter) {
    callers(filter: $w, first: 2) { nodes { key id } }
    sourceIps(filter: $w, first: 2) { nodes { address id } }
  }`;
  type Shape = { parent: 'caller' | 'sourceIp'; field: string };
  const SHAPES: [string, Shape][] = [
    ['Caller.calls', { parent: 'caller', field: 'calls' }],
    ['Caller.sourceIps', { parent: 'caller', field: 'sourceIps' }],
    ['Caller.actions', { parent: 'caller', field: 'actions' }],
    ['SourceIp.calls', { parent: 'sourceIp', field: 'calls' }],
    ['SourceIp.callers', { parent: 'sourceIp', field: 'callers' }],
  ];
  const lookup = (s: Shape) =>
    s.parent === 'caller'
      ? `query($w: ApiCallFilter, $p: String, $a: String) { caller(key: $p, filter: $w) { ${s.field}(first: 1, after: $a) { totalCount pageInfo { endCursor } } } }`
      : `query($w: ApiCallFilter, $p: String!, $a: String) { sourceIp(address: $p, filter: $w) { ${s.field}(first: 1, after: $a) { totalCount pageInfo { endCursor } } } }`;
  const byNode = (s: Shape) =>
    `query($id: ID!, $a: String) { node(id: $id) { ... on ${s.parent === 'caller' ? 'Caller' : 'SourceIp'} { ${s.field}(first: 1, after: $a) { totalCount } } } }`;
  let parents: { caller: { key: string; id: string }[]; sourceIp: { address: string; id: string }[] };
  beforeAll(async () => {
    const res = await ctx.server.gql(PARENTS, { w: WINDOW });
    expect(res.errors).toBeUndefined();
    parents = { caller: res.data.callers.nodes, sourceIp: res.data.sourceIps.nodes };
    expect(parents.caller).toHaveLength(2);
    expect(parents.sourceIp).toHaveLength(2);
  });
  const keyOf = (s: Shape, i: number) => (s.parent === 'caller' ? parents.caller[i]!.key : parents.sourceIp[i]!.address);
  const idOf = (s: Shape, i: number) => parents[s.parent][i]!.id;
  const cursorUnderFirst = async (s: Shape) => {
    const res = await ctx.server.gql(lookup(s), { w: WINDOW, p: keyOf(s, 0), a: null });
    expect(res.errors).toBeUndefined();
    const after = res.data[s.parent][s.field].pageInfo.endCursor as string;
    expect(typeof after).toBe('string');
    return after;
  };
  test.each(SHAPES)('%s: a cursor of the first parent, given under the second', async (_name, s) => {
    const after = await cursorUnderFirst(s);
    const looked = await expectRefused(lookup(s), { w: WINDOW, p: keyOf(s, 1), a: after });
    expect(looked.errors![0].message).toMatch(/issued for a different query/);
    await expectRefused(byNode(s), { id: idOf(s, 1), a: after });
    // Under the parent it was issued under, it is taken, looked up or by id (control).
    const own = await ctx.server.gql(lookup(s), { w: WINDOW, p: keyOf(s, 0), a: after });
    expect(own.errors).toBeUndefined();
    const ownNode = await ctx.server.gql(byNode(s), { id: idOf(s, 0), a: after });
    expect(ownNode.errors).toBeUndefined();
  });
  test("a caller's cursor given to the same key grouped by principal", async () => {
    const s = SHAPES[0]![1];
    const after = await cursorUnderFirst(s);
    await expectRefused(`query($w: ApiCallFilter, $p: String, $a: String) { caller(key: $p, filter: $w, groupBy: PRINCIPAL) { calls(first: 1, after: $a) { totalCount } } }`, { w: WINDOW, p: keyOf(s, 0), a: after });
  });
});

describe('page size', () => {
  test.each([0, -1, 501, 2 ** 31 - 1])('first: %p', (first) => expectRefused(PAGE, { filter: WINDOW, first }));
  test('first: 1.5 (not an Int)', () => expectRefused(PAGE, { filter: WINDOW, first: 1.5 }));
});

describe('enums', () => {
  test('unknown identity type, as a variable', refusedFilter({ identityTypes: ['ROOT', 'SUPERUSER'] }));
  test('unknown identity type, inline', () => expectRefused(`{ apiCalls(filter: { identityTypes: [ROOT, SUPERUSER] }) { edges { cursor } } }`));
  test('identity type as a string literal, inline', () => expectRefused(`{ apiCalls(filter: { identityTypes: ["ROOT"] }) { edges { cursor } } }`));
  test('unknown caller category, as a variable', refusedFilter({ categories: ['ADMINS'] }));
  test('unknown caller category, inline', () => expectRefused(`{ apiCalls(filter: { categories: [ADMINS] }) { edges { cursor } } }`));
});

describe('values', () => {
  test.each(['12345', '1234567890123', '12345678901a', "111122223333' OR '1'='1"])('account %p', (a) => refusedFilter({ accounts: [a] })());
  test.each(['US-EAST-1', 'us-east', 'useast1', "us-east-1'--", '../us-east-1'])('region %p', (r) => refusedFilter({ regions: [r] })());
  test.each(['10.0.0.0/33', 'nope', '10.0.0.0/8/8', '300.0.0.0/8', '2001:db8::/129', '10.0.0.0/x'])('CIDR %p', (c) => refusedFilter({ sourceCidrs: [c] })());
  test.each(['10.0.0.1/8', '203.0.113.7/24', '2001:db8::1/32'])('CIDR with host bits set %p', (c) => refusedFilter({ sourceCidrs: [c] })());
  test.each(['s3.amazonaws.com', 'iotevents.amazonaws.com.evil', 'IOTEVENTS.AMAZONAWS.COM'])('event source not served %p', (s) => refusedFilter({ eventSources: [s] })());
  test.each(['Create Detector', 'Describe;Drop', ''])('action %p', (a) => refusedFilter({ actions: [a] })());
  test.each(['arn:aws:iam::1:user/x', 'not-an-arn'])('caller ARN %p', (a) => refusedFilter({ callerArns: [a] })());
  test('resourceName with a control character', refusedFilter({ resourceName: 'model\u0001' }));
  test('empty userAgentContains', refusedFilter({ userAgentContains: '' }));
});

describe('over-long strings (2,000 characters)', () => {
  const lists = ['actions', 'eventSources', 'accounts', 'regions', 'callerArns', 'principalArns', 'userNames', 'accessKeyIds', 'sourceIps', 'sourceCidrs', 'errorCodes'];
  test.each(lists)('filter.%s', (field) => refusedFilter({ [field]: [long] })());
  test('filter.callerArns with a valid prefix', refusedFilter({ callerArns: [`arn:aws:iam::111122223333:user/${long}`] }));
  test('filter.resourceName', refusedFilter({ resourceName: long }));
  test('filter.userAgentContains', refusedFilter({ userAgentContains: long }));
  test('apiCall eventId', () => expectRefused(ONE, { eventId: long, ...WINDOW }));
});

describe('date-times', () => {
  test.each(['yesterday', '2026-03-14', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-03-14T00:00:00', '', '2026-03-14T25:00:00Z'])(
    'filter.from %p',
    (from) => refusedFilter({ from })(),
  );
  test('filter.to out of range', refusedFilter({ to: '10000-01-01T00:00:00Z' }));
  test('filter.from before 2005', refusedFilter({ from: '1999-12-31T00:00:00Z' }));
  test('inline literal', () => expectRefused(`{ apiCalls(filter: { from: "last tuesday" }) { edges { cursor } } }`));
  test('apiCall with a bad "from"', () => expectRefused(ONE, { eventId: 'abc', from: 'soon', to: WINDOW.to }));
  test('apiCall with an inverted window', () => expectRefused(ONE, { eventId: 'abc', from: WINDOW.to, to: WINDOW.from }));
});

describe('lists over 100 values', () => {
  const n = (count: number, f: (i: number) => string) => Array.from({ length: count }, (_, i) => f(i));
  test('actions', refusedFilter({ actions: n(101, (i) => `Action${i}`) }));
  test('accounts', refusedFilter({ accounts: n(101, (i) => String(100000000000 + i)) }));
  test('sourceIps', refusedFilter({ sourceIps: n(101, (i) => `10.0.0.${i}`) }));
  test('identityTypes (enum list)', () => expectRefused(PAGE, { filter: { ...WINDOW, identityTypes: n(101, (i) => (i % 2 ? 'ROOT' : 'IAM_USER')) } }));
  test('categories (enum list)', () => expectRefused(PAGE, { filter: { ...WINDOW, categories: n(101, () => 'AWS_SERVICE') } }));
  test('100 values are accepted (control)', async () => {
    const res = await ctx.server.gql(PAGE, { filter: { ...WINDOW, actions: n(100, (i) => `Action${i}`) }, first: 1 });
    expect(res.errors).toBeUndefined();
  });
});

describe('apiCall eventId', () => {
  // Any text a record could hold is looked up (test/e2e-event-ids.test.ts); these no record can.
  test.each(['x'.repeat(1025), '', 'a\nb', 'a\u0000b'])('%p', (eventId) => expectRefused(ONE, { eventId, ...WINDOW }));
});

describe('a damaged file', () => {
  test.each(Object.entries(CORRUPT))('a %s .json.gz in a day folder is left out and named, with nothing internal leaked', async (_kind, c) => {
    const from = `${c.day.replace(/\//g, '-')}T00:00:00Z`;
    const to = iso(new Date(from).getTime() + DAY_MS);
    const res = await ctx.server.gql(PAGE, { filter: { from, to } });
    expect(res.errors).toBeUndefined();
    expect(res.data?.apiCalls).not.toBeNull();
    expect(res.extensions?.complete).toBe(false);
    const [warning] = res.extensions?.warnings ?? [];
    expect(warning.code).toBe('FILES_UNREADABLE');
    expect(JSON.stringify(warning.files)).toContain(c.name);
    const text = JSON.stringify({ data: res.data, errors: res.errors, warnings: res.extensions?.warnings });
    for (const leak of [ctx.dir, 'DuckDB', 'duckdb', 'Error:', 'read_json', 'stack']) expect(text).not.toContain(leak);
  });
});

describe('an engine failure', () => {
  test('generic error with the request id, nothing leaked', async () => {
    const config = loadConfig({ TRAIL_DIR: ctx.dir, API_KEYS: JSON.stringify(TEST_KEYS), LOG_LEVEL: 'silent' });
    const real = await createEngine(config, ctx.dir);
    const secret = `IO Error: read_json could not read ${ctx.dir}/AWSLogs/x.json.gz (DuckDB)`;
    const failing: Engine = { ...real.engine, name: 'duckdb', capabilities: real.engine.capabilities, sourceId: real.engine.sourceId, execute: async () => { throw new Error(secret); }, ping: async () => {}, close: () => real.engine.close() };
    const server = await startServer(ctx.dir, {}, { now: () => SAMPLE_END, engine: { engine: failing, dialect: real.dialect } });
    try {
      const res = await server.gql(PAGE, { filter: WINDOW });
      expect(res.data?.apiCalls ?? null).toBeNull();
      expect(res.errors).toHaveLength(1);
      const [err] = res.errors!;
      expect(['ENGINE_ERROR', 'INTERNAL_SERVER_ERROR']).toContain(err.extensions?.code);
      expect(err.message).toMatch(/^Internal error/);
      expect(Object.keys(err.extensions ?? {})).toEqual(['code']);
      const requestId = res.extensions?.requestId;
      expect(typeof requestId).toBe('string');
      expect(requestId).toBe(res.headers.get('x-request-id'));
      const text = JSON.stringify({ data: res.data, errors: res.errors });
      for (const leak of [ctx.dir, 'AWSLogs', '.json', 'DuckDB', 'duckdb', 'Error:', 'read_json', 'stack']) expect(text).not.toContain(leak);
    } finally {
      await server.close();
    }
  });
});
