/**
 * The two Apollo plugins that refuse a request before any resolver runs (query shape limits and
 * the walk over every argument), called as Apollo calls them, without a server; and the exact
 * costs the limits count. `npm run mutation` runs these against src/graphql.
 */
import 'reflect-metadata';
import { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, OperationDefinitionNode, parse } from 'graphql';
import { TooComplexError } from '../src/errors';
import { checkLimits, limitsPlugin } from '../src/graphql/limits';
import { encodeId } from '../src/graphql/node/global-id';
import { CursorCodec, queryOf } from '../src/query/cursor';
import { checkFieldArguments, operationFields, prevalidatePlugin } from '../src/graphql/prevalidate';
import { schema } from '../src/graphql/schema';
import { Scope } from '../src/query/guards';
import { A, B, NOW, RULES, SOURCES, refusal, refusalOf } from './support/refusals';

type Hooks = { didResolveOperation(ctx: unknown): Promise<void> };
const LIMITS = { maxDepth: 20, maxComplexity: 100_000, maxAliases: 30, defaultPageSize: 50, maxPageSize: 500 };

/** Runs a plugin's didResolveOperation for `query` the way Apollo does after parsing and validation. */
async function resolveOperation(plugin: ApolloServerPlugin<never>, query: string | DocumentNode, variables?: Record<string, unknown>, contextValue: unknown = {}, operation?: OperationDefinitionNode | null) {
  const document = typeof query === 'string' ? parse(query) : query;
  const op = operation === undefined ? document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition') : (operation ?? undefined);
  const hooks = (await plugin.requestDidStart!({} as never)) as unknown as Hooks;
  return hooks.didResolveOperation({ schema: schema(), document, operation: op, request: { variables }, contextValue });
}

/** The complexity `checkLimits` counts for a query: the number in its refusal with a limit of 0... */
function complexity(query: string, variables: Record<string, unknown> = {}, limits = LIMITS): number {
  const doc = parse(query);
  const r = refusal(() => checkLimits(schema(), doc, doc.definitions[0] as never, variables, { ...limits, maxComplexity: 0 }));
  return Number(/^query complexity (\d+) is over the limit of 0; ask for smaller pages or fewer nested fields$/.exec(r.message)![1]);
}

describe('costs counted', () => {
  test('a connection costs 1 plus its page size times its selection (at least 1)', () => {
    expect(complexity('{ callers(first: 3) { nodes { key arn } } }')).toBe(1 + 3 * 3);
    expect(complexity('{ callers(first: 3) { __typename } }')).toBe(1 + 3 * 1);
    expect(complexity('query($n: Int) { callers(first: $n) { nodes { key arn } } }', { n: 7 })).toBe(1 + 7 * 3);
    // No page size, zero or negative: the default; over the maximum: the maximum.
    expect(complexity('{ callers { nodes { key arn } } }')).toBe(1 + 50 * 3);
    expect(complexity('{ callers(first: 0) { nodes { key arn } } }')).toBe(1 + 50 * 3);
    expect(complexity('{ callers(first: -2) { nodes { key arn } } }')).toBe(1 + 50 * 3);
    expect(complexity('{ callers(first: 1) { nodes { key arn } } }')).toBe(1 + 1 * 3);
    expect(complexity('{ callers(first: 900) { nodes { key } } }')).toBe(1 + 500 * 2);
    expect(complexity('{ callers(first: 500) { nodes { key } } }')).toBe(1 + 500 * 2);
    // Fields without `first` cost 1 plus their selection.
    expect(complexity('{ apiCall(eventId: "e") { eventId action } }')).toBe(3);
    expect(() => checkLimits(schema(), parse('{ callers(first: 3) { nodes { key arn } } }'), parse('{ callers(first: 3) { nodes { key arn } } }').definitions[0] as never, {}, { ...LIMITS, maxComplexity: 10 })).not.toThrow();
  });

  test('the named operation of a document is the one costed', () => {
    const doc = parse('query Small { apiCall(eventId: "e") { eventId } } query Big { callers(first: 100) { nodes { key } } }');
    const big = doc.definitions[1] as OperationDefinitionNode;
    expect(refusal(() => checkLimits(schema(), doc, big, {}, { ...LIMITS, maxComplexity: 100 })).message).toMatch(/^query complexity 201 /);
    expect(() => checkLimits(schema(), doc, doc.definitions[0] as never, {}, { ...LIMITS, maxComplexity: 100 })).not.toThrow();
    expect(() => checkLimits(schema(), doc, undefined, {}, { ...LIMITS, maxDepth: 0, maxComplexity: 0 })).not.toThrow();
  });

  test('depth and aliases at their limits; fragments counted once each, cycles ended', () => {
    const q = '{ callers(first: 1) { nodes { key } } }';
    const run = (query: string, limits: Partial<typeof LIMITS>) => () => {
      const doc = parse(query);
      checkLimits(schema(), doc, doc.definitions.find((d) => d.kind === 'OperationDefinition') as never, {}, { ...LIMITS, ...limits });
    };
    expect(run(q, { maxDepth: 3 })).not.toThrow();
    expect(refusal(run(q, { maxDepth: 2 })).message).toBe('query depth 3 is over the limit of 2');
    expect(refusal(run('{ a: callers(first: 1) { b: nodes { key } } }', { maxAliases: 1 })).message).toBe('2 aliases is over the limit of 1');
    expect(run('{ a: callers(first: 1) { b: nodes { key } } }', { maxAliases: 2 })).not.toThrow();
    // Aliases inside fragments and inline fragments count too.
    const hidden = 'query { callers(first: 1) { ... on CallerConnection { n: nodes { ...K } } } } fragment K on Caller { k: key, a: arn }';
    expect(refusal(run(hidden, { maxAliases: 2 })).message).toBe('3 aliases is over the limit of 2');
    // A fragment spread twice at the same level counts once for depth; a cycle (invalid, refused later by validation) ends.
    const twice = 'query { callers(first: 1) { nodes { ...K ...K } } } fragment K on Caller { key }';
    expect(refusal(run(twice, { maxDepth: 2 })).message).toBe('query depth 3 is over the limit of 2');
    const cycle = 'query { callers(first: 1) { nodes { ...K } } } fragment K on Caller { key ...K }';
    expect(refusal(run(cycle, { maxDepth: 2, maxComplexity: 1e9 })).message).toBe('query depth 3 is over the limit of 2');
    expect(refusal(run('query { callers(first: 1) { nodes { ...Missing } } }', { maxDepth: 1 })).message).toBe('query depth 2 is over the limit of 1');
  });
});

describe('limits plugin', () => {
  test('refuses with QUERY_TOO_COMPLEX before execution; accepts and keeps accepting what fits', async () => {
    const plugin = limitsPlugin({ ...LIMITS, maxDepth: 3 }) as ApolloServerPlugin<never>;
    const deep = '{ callers(first: 1) { nodes { sourceIps { key } } } }';
    for (let i = 0; i < 2; i += 1) {
      expect(await refusalOf(resolveOperation(plugin, deep))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', status: 400, message: 'query depth 4 is over the limit of 3' });
      await expect(resolveOperation(plugin, '{ callers(first: 1) { nodes { key } } }')).resolves.toBeUndefined();
    }
    // No variables sent is the same as none.
    await expect(resolveOperation(plugin, 'query($n: Int) { callers(first: $n) { nodes { key } } }', undefined)).resolves.toBeUndefined();
    await expect(resolveOperation(plugin, '{ callers(first: 1) { nodes { key } } }', undefined, {}, null)).resolves.toBeUndefined();
  });

  test('verdicts are kept per operation name and variables', async () => {
    const plugin = limitsPlugin({ ...LIMITS, maxComplexity: 400 }) as ApolloServerPlugin<never>;
    const doc = parse('query P($n: Int) { callers(first: $n) { nodes { key } } }');
    const unnamed = parse('query($n: Int) { callers(first: $n) { nodes { key } } }');
    for (const d of [doc, unnamed]) {
      await expect(resolveOperation(plugin, d, { n: 10 })).resolves.toBeUndefined();
      expect(await refusalOf(resolveOperation(plugin, d, { n: 300 }))).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
      await expect(resolveOperation(plugin, d, { n: 10 })).resolves.toBeUndefined();
      expect(await refusalOf(resolveOperation(plugin, d, { n: 300 }))).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    }
    // Many variable sets of one document: older verdicts are dropped, none answers for another.
    for (let n = 1; n <= 70; n += 1) await expect(resolveOperation(plugin, doc, { n })).resolves.toBeUndefined();
    expect(await refusalOf(resolveOperation(plugin, doc, { n: 300 }))).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    for (let n = 1; n <= 70; n += 1) await expect(resolveOperation(plugin, doc, { n })).resolves.toBeUndefined();
  });

  test('at most 64 verdicts are kept per document: the oldest go when there are more', async () => {
    const plugin = limitsPlugin(LIMITS) as ApolloServerPlugin<never>;
    const doc = parse('query P($n: Int) { callers(first: $n) { nodes { key } } }');
    const real = doc.definitions[0] as OperationDefinitionNode;
    // Analysing this operation again throws: it resolves only from a kept verdict.
    const keptOnly = new Proxy(real, { get: (t, p) => (p === 'selectionSet' ? (() => { throw new Error('analysed again'); })() : Reflect.get(t, p)) });
    for (let n = 0; n < 64; n += 1) await resolveOperation(plugin, doc, { n }, {}, real);
    await expect(resolveOperation(plugin, doc, { n: 0 }, {}, keptOnly)).resolves.toBeUndefined();
    await expect(resolveOperation(plugin, doc, { n: 63 }, {}, keptOnly)).resolves.toBeUndefined();
    await resolveOperation(plugin, doc, { n: 64 }, {}, real);
    await expect(resolveOperation(plugin, doc, { n: 0 }, {}, keptOnly)).rejects.toThrow('analysed again');
    await expect(resolveOperation(plugin, doc, { n: 64 }, {}, keptOnly)).resolves.toBeUndefined();
  });

  test('a refusal is kept too: the same refused query is not analysed again', async () => {
    const plugin = limitsPlugin({ ...LIMITS, maxComplexity: 100 }) as ApolloServerPlugin<never>;
    const doc = parse('query P($n: Int) { callers(first: $n) { nodes { key } } }');
    const real = doc.definitions[0] as OperationDefinitionNode;
    const keptOnly = new Proxy(real, { get: (t, p) => (p === 'selectionSet' ? (() => { throw new Error('analysed again'); })() : Reflect.get(t, p)) });
    expect(await refusalOf(resolveOperation(plugin, doc, { n: 400 }, {}, real))).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    expect(await refusalOf(resolveOperation(plugin, doc, { n: 400 }, {}, keptOnly))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', message: 'query complexity 801 is over the limit of 100; ask for smaller pages or fewer nested fields' });
  });

  test('a failure of the analysis itself is not reported as a query too complex', async () => {
    const plugin = limitsPlugin(LIMITS) as ApolloServerPlugin<never>;
    const doc = parse('{ callers(first: 1) { nodes { key } } }');
    const real = doc.definitions[0] as OperationDefinitionNode;
    const broken = new Proxy(real, { get: (t, p) => (p === 'selectionSet' ? (() => { throw new RangeError('broken'); })() : Reflect.get(t, p)) });
    const err = await resolveOperation(plugin, doc, {}, {}, broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).not.toBeInstanceOf(TooComplexError);
  });
});

describe('argument plugin', () => {
  const rules = { eventSources: SOURCES, window: RULES, page: { defaultSize: 50, maxSize: 500 }, cursors: new CursorCodec('test') };
  const scopeA: Scope = { accounts: [A], regions: [], readPayloads: false, admin: false, principal: 't' };
  const plugin = prevalidatePlugin<{ scope: Scope }>(rules, (ctx) => ({ scope: ctx.scope, now: NOW })) as ApolloServerPlugin<never>;
  const nested = (args: string) => `{ callers(first: 2) { nodes { calls(${args}) { edges { cursor } } } } }`;

  test('refuses a nested argument with the caller\'s own scope, before execution', async () => {
    expect(await refusalOf(resolveOperation(plugin, nested(`filter: { accounts: ["${B}"] }`), {}, { scope: scopeA }))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    await expect(resolveOperation(plugin, nested(`filter: { accounts: ["${B}"] }`), {}, { scope: { ...scopeA, accounts: [] } })).resolves.toBeUndefined();
    await expect(resolveOperation(plugin, nested(`filter: { accounts: ["${A}"] }`), {}, { scope: scopeA })).resolves.toBeUndefined();
    expect(await refusalOf(resolveOperation(plugin, nested('first: 501'), undefined, { scope: scopeA }))).toMatchObject({ code: 'BAD_USER_INPUT', message: 'first: must be from 1 to 500' });
    expect(await refusalOf(resolveOperation(plugin, 'query($f: ApiCallFilter) { apiCalls(filter: $f) { edges { cursor } } }', { f: { payloadContains: 'x' } }, { scope: scopeA }))).toMatchObject({ code: 'FORBIDDEN' });
    await expect(resolveOperation(plugin, 'query($f: ApiCallFilter) { apiCalls(filter: $f) { edges { cursor } } }', { f: { payloadContains: 'x' } }, { scope: { ...scopeA, readPayloads: true } })).resolves.toBeUndefined();
  });

  test('leaves to execution what it cannot judge: no operation, variables that do not coerce', async () => {
    await expect(resolveOperation(plugin, nested('first: 501'), {}, { scope: scopeA }, null)).resolves.toBeUndefined();
    await expect(resolveOperation(plugin, 'query($n: Int) { callers(first: $n) { nodes { key } } }', { n: 'x' }, { scope: scopeA })).resolves.toBeUndefined();
    await expect(resolveOperation(plugin, 'query($n: Int) { callers(first: $n) { nodes { key } } }', undefined, { scope: scopeA })).resolves.toBeUndefined();
  });
});

describe('fields of an operation', () => {
  const fields = (query: string, variables: Record<string, unknown> = {}) => {
    const doc = parse(query);
    return operationFields(schema(), doc, doc.definitions.find((d) => d.kind === 'OperationDefinition') as never, variables)?.map((f) => f.coordinate);
  };

  test('inline fragments take their type; unknown fields, fragments and cycles are skipped', () => {
    expect(fields('{ callers(first: 1) { ... on CallerConnection { nodes { key } } ... { totalCount } } }')).toEqual(['Query.callers', 'CallerConnection.nodes', 'Caller.key', 'CallerConnection.totalCount']);
    expect(fields('{ callers(first: 1) { nope nodes { key } } }')).toEqual(['Query.callers', 'CallerConnection.nodes', 'Caller.key']);
    expect(fields('query { callers(first: 1) { nodes { ...K ...Missing } } } fragment K on Caller { key ...K }')).toEqual(['Query.callers', 'CallerConnection.nodes', 'Caller.key']);
    expect(fields('query { callers(first: 1) { nodes { ...K } } } fragment K on Caller { key sourceIps { ...K2 } } fragment K2 on SourceIp { ...K }')).toEqual([
      'Query.callers', 'CallerConnection.nodes', 'Caller.key', 'Caller.sourceIps',
    ]);
    expect(fields('{ __typename }')).toEqual([]);
  });

  test('the root flag: only fields of the operation type', () => {
    const doc = parse('{ callers(first: 1) { ... on CallerConnection { nodes { key } } } ... on Query { actions { action } } }');
    expect(operationFields(schema(), doc, doc.definitions[0] as never, {})?.map((f) => [f.coordinate, f.root])).toEqual([
      ['Query.callers', true], ['CallerConnection.nodes', false], ['Caller.key', false], ['Query.actions', true], ['ActionSummary.action', false],
    ]);
  });

  test('windows: whole for root fields, full bounds and over a cursor\'s window; bound by bound otherwise', () => {
    const check = (args: Record<string, unknown>, root: boolean) => () => checkFieldArguments({ coordinate: 'Query.apiCalls', root, args }, { eventSources: SOURCES, window: RULES, page: { defaultSize: 50, maxSize: 500 }, cursors: new CursorCodec('test') }, { accounts: [], regions: [], readPayloads: false, admin: false, principal: 't' }, NOW);
    const old = new Date('2025-01-01T00:00:00Z');
    // A cursor signed with the rules' key carries the window the other bound falls back on.
    const c = new CursorCodec('test').encode({ q: queryOf('apiCalls', {}), from: 0, to: 1, k: [] });
    expect(refusal(check({ from: old }, true)).message).toMatch(/at most 31 days/);
    expect(check({ from: old }, false)).not.toThrow();
    expect(refusal(check({ from: old, after: c }, true)).message).toMatch(/must be before/);
    const around = new CursorCodec('test').encode({ q: queryOf('apiCalls', {}), from: old.getTime() - 1000, to: old.getTime() + 1000, k: [] });
    expect(check({ from: old, after: around }, true)).not.toThrow();
    expect(refusal(check({ from: old, after: null }, true)).message).toMatch(/at most 31 days/);
    expect(refusal(check({ from: old, to: NOW }, false)).message).toMatch(/at most 31 days/);
    expect(refusal(check({ from: old, to: NOW, after: c }, true))).toMatchObject({ field: 'from', message: 'from: the window may span at most 31 days' });
    expect(refusal(check({ filter: { from: old, to: NOW } }, false))).toMatchObject({ field: 'filter.from' });
    expect(check({ filter: null, first: null }, false)).not.toThrow();
    expect(refusal(check({ first: 0 }, false)).field).toBe('first');
    expect(check({ first: undefined }, false)).not.toThrow();
    expect(refusal(check({ to: new Date('2001-01-01T00:00:00Z') }, false)).message).toBe('filter.to: out of range');
  });
});

describe('argument plugin: node ids', () => {
  const rules = { eventSources: SOURCES, window: RULES, page: { defaultSize: 50, maxSize: 500 }, cursors: new CursorCodec('test') };
  const scopeA: Scope = { accounts: [A], regions: [], readPayloads: false, admin: false, principal: 't' };
  const plugin = prevalidatePlugin<{ scope: Scope }>(rules, (ctx) => ({ scope: ctx.scope, now: NOW })) as ApolloServerPlugin<never>;
  const day = { from: new Date(NOW.getTime() - 24 * 3_600_000), to: NOW };
  const long = { from: new Date(NOW.getTime() - 40 * 86_400_000), to: NOW };
  const window = (w: { from: Date; to: Date }) => ({ from: w.from, to: w.to });
  const one = (id: string) => resolveOperation(plugin, 'query($id: ID!) { node(id: $id) { id } }', { id }, { scope: scopeA });
  const many = (ids: string[]) => resolveOperation(plugin, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids }, { scope: scopeA });
  const caller = (w: { from: Date; to: Date }, filter: object = {}) => encodeId(schema(), { type: 'Caller', grouping: 'ARN', key: 'arn:aws:iam::111122223333:user/a', filter: { ...filter, ...window(w) } as never });
  const call = (w: { from: Date; to: Date }) => encodeId(schema(), { type: 'ApiCall', eventId: 'e-1', time: NOW, account: A, region: 'us-east-1', window: w });
  const resource = (name: string) => encodeId(schema(), { type: 'ResourceInstance', kind: 'input', name, account: A, region: 'us-east-1', filter: window(day) as never });

  test('ids that decode, in windows and filters the rules allow, pass (node and nodes alike)', async () => {
    await expect(one(caller(day))).resolves.toBeUndefined();
    await expect(one(call(day))).resolves.toBeUndefined();
    await expect(one(resource('my-input'))).resolves.toBeUndefined();
    await expect(many([caller(day), call(day), resource('my-input')])).resolves.toBeUndefined();
    await expect(many([])).resolves.toBeUndefined();
  });

  test('a malformed id is refused on its field before execution', async () => {
    expect(await refusalOf(one('not an id'))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, message: 'id: not a node id (malformed)' });
    expect(await refusalOf(many([caller(day), 'bm90IGFuIGlk']))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400 });
  });

  test('the window an id carries is held to the window rules, for calls and for counted objects', async () => {
    expect(await refusalOf(one(caller(long)))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400 });
    expect(await refusalOf(one(call(long)))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400 });
    expect(await refusalOf(many([call(day), caller(long)]))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400 });
  });

  test('the filter an id carries is validated with the caller\'s payload rights; a resource name as the resource query checks it', async () => {
    expect(await refusalOf(one(caller(day, { payloadContains: 'x' })))).toMatchObject({ code: 'FORBIDDEN' });
    await expect(resolveOperation(plugin, 'query($id: ID!) { node(id: $id) { id } }', { id: caller(day, { payloadContains: 'x' }) }, { scope: { ...scopeA, readPayloads: true } })).resolves.toBeUndefined();
    expect(await refusalOf(one(resource('bad\u0001name')))).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^filter\.resourceName: /) });
  });

  test('an id argument of a nested field is not a node id', async () => {
    await expect(resolveOperation(plugin, '{ callers(first: 1) { nodes { id } } }', {}, { scope: scopeA })).resolves.toBeUndefined();
  });
});
