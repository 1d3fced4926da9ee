/**
 * Query shape limits and the pre-execution walk over every argument, against the real schema,
 * without a server. `npm run mutation` runs these against src/graphql.
 */
import 'reflect-metadata';
import { parse } from 'graphql';
import { checkLimits } from '../src/graphql/limits';
import { CursorCodec, queryOf } from '../src/query/cursor';
import { checkOperationFields, operationFields } from '../src/graphql/prevalidate';
import { encodeId, pinned } from '../src/graphql/node/global-id';
import { schema } from '../src/graphql/schema';
import { Scope } from '../src/query/guards';
import { A, B, NOW, RULES, SOURCES, refusal } from './support/refusals';

describe('query shape limits', () => {
  const LIMITS = { maxDepth: 6, maxComplexity: 2000, maxAliases: 3, defaultPageSize: 50, maxPageSize: 500 };
  const check = (query: string, variables: Record<string, unknown> = {}, limits = LIMITS) => {
    const doc = parse(query);
    const op = doc.definitions.find((d) => d.kind === 'OperationDefinition');
    return () => checkLimits(schema(), doc, op as never, variables, limits);
  };
  const deep = (levels: number) => `{ callers(first: 1) { nodes { ${'sourceIps { callers { '.repeat(levels)}key${' } }'.repeat(levels)} } } }`;

  test('depth counts fields through fragments, not introspection; complexity does not refuse it first', () => {
    expect(check(`{ callers(first: 1) { nodes { key } } }`)).not.toThrow();
    expect(refusal(check(deep(3), {}, { ...LIMITS, maxComplexity: 10_000_000 }))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', status: 400, message: 'query depth 9 is over the limit of 6' });
    expect(check(deep(2), {}, { ...LIMITS, maxDepth: 7, maxComplexity: 10_000_000 })).not.toThrow();
    expect(refusal(check(deep(2), {}, { ...LIMITS, maxDepth: 6, maxComplexity: 10_000_000 })).message).toMatch(/depth 7/);
    const viaFragments = `query { callers(first: 1) { ...N } } fragment N on CallerConnection { nodes { ...S } } fragment S on Caller { sourceIps { callers { key } } }`;
    expect(refusal(check(viaFragments, {}, { ...LIMITS, maxDepth: 4, maxComplexity: 10_000_000 })).message).toMatch(/depth 5/);
    expect(check(viaFragments, {}, { ...LIMITS, maxDepth: 5, maxComplexity: 10_000_000 })).not.toThrow();
    const inline = `{ callers(first: 1) { ... on CallerConnection { nodes { key } } } }`;
    expect(refusal(check(inline, {}, { ...LIMITS, maxDepth: 2 })).message).toMatch(/depth 3/);
    expect(check(`{ __schema { types { fields { type { name } } } } }`, {}, { ...LIMITS, maxDepth: 2 })).not.toThrow();
  });

  test('aliases are counted everywhere', () => {
    expect(check(`{ a: callers(first: 1) { n: nodes { k: key } } }`)).not.toThrow();
    expect(refusal(check(`{ a: callers(first: 1) { n: nodes { k: key, l: key } } }`))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', status: 400, message: '4 aliases is over the limit of 3' });
  });

  test('aliases are counted once per use of their fragment, fragments spreading fragments included', () => {
    const F = `fragment F on Caller { a: key b: key }`;
    expect(check(`{ callers(first: 1) { nodes { ...F } } } ${F}`)).not.toThrow();
    expect(refusal(check(`{ callers(first: 1) { nodes { ...F } } caller(key: "k") { ...F } } ${F}`))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', message: '4 aliases is over the limit of 3' });
    expect(refusal(check(`{ callers(first: 1) { nodes { ...F ... on Caller { ...F } } } } ${F}`)).message).toBe('4 aliases is over the limit of 3');
    const G = `fragment G on Caller { ...F c: key }`;
    expect(refusal(check(`{ callers(first: 1) { nodes { ...G } } caller(key: "k") { ...F } } ${G} ${F}`)).message).toBe('5 aliases is over the limit of 3');
    // Only the operation run is counted: another operation's aliases are not asked for.
    const two = parse(`query One { callers(first: 1) { nodes { key } } } query Two { a: callers { b: nodes { c: key d: key } } }`);
    expect(() => checkLimits(schema(), two, two.definitions[0] as never, {}, LIMITS)).not.toThrow();
    // Each fragment spreads the next twice: 2^40 uses of one alias, measured without expanding them.
    const levels = 40;
    const doubling = Array.from({ length: levels }, (_, i) => `fragment D${i} on Caller { ...D${i + 1} ...D${i + 1} }`).join(' ');
    expect(refusal(check(`{ callers(first: 1) { nodes { ...D0 } } } ${doubling} fragment D${levels} on Caller { x: key }`)).message).toBe(`${2 ** levels} aliases is over the limit of 3`);
  });

  test('complexity multiplies connection sizes, variables included', () => {
    const q = `query($n: Int) { callers(first: $n) { nodes { key arn } } }`;
    expect(check(q, { n: 10 })).not.toThrow();
    expect(refusal(check(q, { n: 500 }, { ...LIMITS, maxComplexity: 1000 }))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', status: 400 });
    expect(refusal(check(q, { n: 500 }, { ...LIMITS, maxComplexity: 1000 })).message).toMatch(/^query complexity \d+ is over the limit of 1000/);
    expect(check(q, { n: 'x' }, { ...LIMITS, maxComplexity: 10 })).not.toThrow();
    const noFirst = `{ callers { nodes { key arn } } }`;
    expect(refusal(check(noFirst, {}, { ...LIMITS, maxComplexity: 100 })).message).toMatch(/complexity 1\d\d /);
  });

  test('nodes(ids:) costs its selection once per id', () => {
    const q = 'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Caller { calls(first: 100) { edges { node { eventId } } } } } }';
    const ids = (n: number) => ({ ids: Array(n).fill('x') });
    expect(check(q, ids(6))).not.toThrow();
    expect(refusal(check(q, ids(7))).code).toBe('QUERY_TOO_COMPLEX');
  });
});

describe('arguments checked before execution', () => {
  // Cursors of the connections the fields page under (a cursor names its connection).
  const CURSOR = new CursorCodec('test').encode({ q: queryOf('apiCalls', {}), from: 0, to: 1, k: [] });
  const around2025 = (connection: string) => new CursorCodec('test').encode({ q: queryOf(connection, {}), from: Date.parse('2024-12-31T00:00:00Z'), to: Date.parse('2025-01-02T00:00:00Z'), k: [] });
  const RULES_ALL = { eventSources: SOURCES, window: RULES, page: { defaultSize: 50, maxSize: 500 }, cursors: new CursorCodec('test') };
  const scopeA: Scope = { accounts: [A], regions: [], readPayloads: false, admin: false, principal: 't' };
  const fields = (query: string, variables: Record<string, unknown> = {}) => {
    const doc = parse(query);
    return operationFields(schema(), doc, doc.definitions[0] as never, variables);
  };
  const run = (query: string, variables: Record<string, unknown> = {}) => () => {
    checkOperationFields(schema(), fields(query, variables) ?? [], RULES_ALL, scopeA, NOW);
  };

  test('walks nested fields, fragments and variables', () => {
    const list = fields(`query($f: ApiCallFilter) { callers(first: 2) { nodes { ...C } } } fragment C on Caller { calls(filter: $f, first: 3) { edges { cursor } } }`, { f: { accounts: [A] } });
    expect(list?.map((f) => [f.coordinate, f.root])).toEqual([
      ['Query.callers', true],
      ['CallerConnection.nodes', false],
      ['Caller.calls', false],
      ['ApiCallConnection.edges', false],
      ['ApiCallEdge.cursor', false],
    ]);
    expect(list?.[2].args).toMatchObject({ filter: { accounts: [A] }, first: 3 });
    expect(fields(`query($n: Int) { callers(first: $n) { nodes { key } } }`, { n: 'x' })).toBeUndefined();
  });

  test('a nested forbidden account, oversize first, bad value or bad window is refused', () => {
    const nested = (args: string) => `{ callers(first: 2) { nodes { calls(${args}) { edges { cursor } } } } }`;
    expect(run(nested(`filter: { accounts: ["${A}"] }, first: 5`))).not.toThrow();
    expect(refusal(run(nested(`filter: { accounts: ["${B}"] }`)))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(refusal(run(nested(`first: 100000`)))).toMatchObject({ code: 'BAD_USER_INPUT', message: 'first: must be from 1 to 500' });
    expect(refusal(run(nested(`filter: { actions: ["Bad Action"] }`)))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refusal(run(nested(`filter: { from: "2026-03-14T00:00:00Z", to: "2026-01-01T00:00:00Z" }`))).message).toMatch(/must be before/);
    expect(refusal(run(nested(`filter: { from: "2001-03-14T00:00:00Z" }`))).message).toBe('filter.from: out of range');
    expect(refusal(run(nested(`filter: { to: "2001-03-14T00:00:00Z" }`))).message).toBe('filter.to: out of range');
    // A nested window with one bound falls back on its parent's window, and is judged over it.
    const under = (parent: string, args: string) => `{ callers(first: 2${parent}) { edges { node { stats(${args}) { calls } } } } }`;
    expect(run(under(`, filter: { from: "2024-12-31T00:00:00Z", to: "2025-01-02T00:00:00Z" }`, `filter: { from: "2025-01-01T00:00:00Z" }`))).not.toThrow();
    expect(refusal(run(nested(`filter: { from: "2025-01-01T00:00:00Z" }`))).message).toBe('filter.from: the window may span at most 31 days');
    expect(refusal(run(under(`, filter: { from: "2024-12-31T00:00:00Z", to: "2025-01-02T00:00:00Z" }`, `filter: { to: "2024-12-30T00:00:00Z" }`))).message).toMatch(/must be before/);
    // Its own cursor's window comes before its parent's.
    expect(run(`{ callers(first: 2) { nodes { calls(filter: { from: "2025-01-01T00:00:00Z" }, after: "${around2025('caller.calls')}") { edges { cursor } } } } }`)).not.toThrow();
    // A node whose window is not known before execution (an insight's evidence: clamped to each
    // finding): each bound on its own.
    expect(run(`{ insights { nodes { evidence { nodes { caller { calls(filter: { from: "2025-01-01T00:00:00Z" }) { totalCount } } } } } } }`)).not.toThrow();
    const deepList = `{ sourceIps(first: 1) { nodes { callers(first: 900) { calls } } } }`;
    expect(refusal(run(deepList)).message).toBe('first: must be from 1 to 500');
  });

  test('a caller or address carries the window of the field that found it, however reached', () => {
    // The default window (24 hours up to NOW) of the root field, or the window it was given.
    const FAR = `filter: { from: "2025-01-01T00:00:00Z" }`;
    const BEFORE = `filter: { to: "2025-01-02T00:00:00Z" }`;
    const W = `filter: { from: "2024-12-31T00:00:00Z", to: "2025-01-02T00:00:00Z" }`;
    const refused = [
      `{ apiCalls(first: 2) { edges { node { caller { calls(${FAR}) { totalCount } } } } } }`,
      `{ apiCalls(first: 2) { nodes { caller { stats(${FAR}) { calls } } } } }`,
      `{ apiCalls(first: 2) { nodes { caller { sourceIps(${BEFORE}) { totalCount } } } } }`,
      `{ apiCalls(first: 2) { nodes { caller { actions(${BEFORE}) { totalCount } } } } }`,
      `{ apiCalls(first: 2) { nodes { sourceIp { calls(${FAR}) { totalCount } } } } }`,
      `{ apiCalls(first: 2) { nodes { sourceIp { callers(${BEFORE}) { totalCount } } } } }`,
      `{ apiCall(eventId: "e") { caller { calls(${FAR}) { totalCount } } } }`,
      `{ insights { nodes { principal { calls(${BEFORE}) { totalCount } } } } }`,
      `{ insights { edges { node { sourceIp { stats(${FAR}) { calls } } } } } }`,
      `{ resource(name: "m") { changes { caller { stats(${FAR}) { calls } } } instances { created { sourceIp { stats(${FAR}) { calls } } } } } }`,
      `{ callers(first: 1) { nodes { calls { nodes { sourceIp { calls(${FAR}) { totalCount } } } } } } }`,
      `{ callers(first: 1) { nodes { sourceIps { nodes { sourceIp { callers(${BEFORE}) { totalCount } } } } } } }`,
      `{ sourceIps(first: 1) { nodes { callers { edges { node { caller { actions(${FAR}) { totalCount } } } } } } } }`,
    ];
    for (const q of refused) expect([q, refusal(run(q)).message]).toEqual([q, expect.stringMatching(/at most 31 days|must be before/)]);
    // The same fields inside the window they carry are answered.
    expect(run(`{ apiCalls(${W}, first: 2) { nodes { caller { calls(filter: { from: "2025-01-01T00:00:00Z" }) { totalCount } } } } }`)).not.toThrow();
    expect(run(`{ insights(${W}) { nodes { principal { calls(filter: { to: "2025-01-01T00:00:00Z" }) { totalCount } } } } }`)).not.toThrow();
    // A nested connection's calls carry its window: its own bounds over its node's.
    expect(run(`{ callers(${W}, first: 1) { nodes { calls(filter: { to: "2025-01-01T00:00:00Z" }) { nodes { caller { stats(filter: { from: "2024-12-31T12:00:00Z" }) { calls } } } } } } }`)).not.toThrow();
    expect(refusal(run(`{ callers(${W}, first: 1) { nodes { calls(filter: { to: "2025-01-01T00:00:00Z" }) { nodes { caller { stats(filter: { from: "2025-01-01T12:00:00Z" }) { calls } } } } } } }`)).message).toMatch(/must be before/);
  });

  test("a node id hands its window to the fields of its object's type", () => {
    const s = schema();
    const window = { from: new Date('2024-12-31T00:00:00Z'), to: new Date('2025-01-02T00:00:00Z') };
    const caller = encodeId(s, { type: 'Caller', grouping: 'ARN', key: 'arn:aws:iam::111122223333:user/a', filter: pinned({}, window) });
    const call = encodeId(s, { type: 'ApiCall', eventId: 'e', time: window.from, account: A, region: 'us-east-1', window });
    const Q = `query($id: ID!) { node(id: $id) { ... on Caller { stats(filter: { from: "2024-12-31T12:00:00Z" }) { calls } } ... on ApiCall { sourceIp { calls(filter: { to: "2025-01-01T00:00:00Z" }) { totalCount } } } } }`;
    expect(run(Q, { id: caller })).not.toThrow();
    expect(run(Q, { id: call })).not.toThrow();
    const far = `query($id: ID!) { node(id: $id) { ... on Caller { stats(filter: { to: "2024-12-30T00:00:00Z" }) { calls } } } }`;
    expect(refusal(run(far, { id: caller })).message).toMatch(/must be before/);
    // A fragment on another type never runs on the object: its bounds are checked on their own.
    expect(run(far, { id: call })).not.toThrow();
    const both = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Caller { stats(filter: { to: "2024-12-30T00:00:00Z" }) { calls } } } }`;
    expect(refusal(run(both, { ids: [caller, caller] })).message).toMatch(/must be before/);
  });

  test('root fields: windows judged whole, over the cursor\'s when one carries it', () => {
    expect(refusal(run(`{ apiCalls(filter: { from: "2025-01-01T00:00:00Z" }) { edges { cursor } } }`)).message).toMatch(/at most 31 days/);
    // One bound falls back on the cursor's window, as execution does.
    expect(run(`{ apiCalls(filter: { from: "2025-01-01T00:00:00Z" }, after: "${around2025('apiCalls')}") { edges { cursor } } }`)).not.toThrow();
    expect(refusal(run(`{ apiCalls(filter: { from: "2025-01-01T00:00:00Z" }, after: "${CURSOR}") { edges { cursor } } }`)).message).toMatch(/must be before/);
    expect(refusal(run(`{ apiCalls(filter: { from: "2025-01-01T00:00:00Z", to: "2025-03-01T00:00:00Z" }, after: "${CURSOR}") { edges { cursor } } }`)).message).toMatch(/at most 31 days/);
    expect(refusal(run(`{ apiCall(eventId: "e", from: "2026-03-14T00:00:00Z", to: "2026-03-13T00:00:00Z") { eventId } }`)).message).toMatch(/must be before/);
    expect(refusal(run(`{ apiCall(eventId: "e", from: "2004-03-14T00:00:00Z") { eventId } }`)).message).toBe('filter.from: out of range');
    expect(refusal(run(`{ actions(filter: { accounts: ["${B}"] }) { action } }`))).toMatchObject({ code: 'FORBIDDEN' });
    expect(run(`{ actions(filter: { accounts: ["${A}"] }) { action } }`)).not.toThrow();
  });
});
