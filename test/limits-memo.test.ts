/**
 * The limits plugin keeps its verdict per parsed document, operation and variables: a repeated
 * query is not analysed again, and a kept verdict never answers for other variables or another
 * operation of the same document.
 */
import { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, OperationDefinitionNode, parse } from 'graphql';
import { TooComplexError } from '../src/errors';
import { limitsPlugin, verdictKey } from '../src/graphql/limits';
import { schema } from '../src/graphql/schema';

const LIMITS = { maxDepth: 10, maxComplexity: 500, maxAliases: 10, defaultPageSize: 20, maxPageSize: 100 };

const DOC = parse(`
  query Page($first: Int) { apiCalls(first: $first) { edges { node { eventId action caller { arn } } } } }
  query Big { apiCalls(first: 100) { edges { node { eventId action caller { arn } } } } }
`);

async function check(plugin: ApolloServerPlugin, doc: DocumentNode, name: string, variables: Record<string, unknown>): Promise<string | null> {
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && d.name?.value === name);
  const hooks = await plugin.requestDidStart!({} as never);
  try {
    await (hooks as { didResolveOperation: (ctx: unknown) => Promise<void> }).didResolveOperation({ schema: schema(), document: doc, operation, request: { variables } });
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(TooComplexError);
    return (err as Error).message;
  }
}

test('a kept verdict answers only for the same operation and variables', async () => {
  const plugin = limitsPlugin(LIMITS);
  expect(await check(plugin, DOC, 'Page', { first: 5 })).toBeNull();
  expect(await check(plugin, DOC, 'Page', { first: 5 })).toBeNull();
  expect(await check(plugin, DOC, 'Page', { first: 100 })).toMatch(/complexity \d+ is over the limit of 500/);
  expect(await check(plugin, DOC, 'Page', { first: 100 })).toMatch(/complexity \d+ is over the limit of 500/);
  expect(await check(plugin, DOC, 'Page', { first: 5 })).toBeNull();
  expect(await check(plugin, DOC, 'Big', { first: 5 })).toMatch(/complexity \d+ is over the limit/);
});

test('a repeated query is analysed once per document', async () => {
  const plugin = limitsPlugin(LIMITS);
  const doc = parse('query Page($first: Int) { apiCalls(first: $first) { edges { node { eventId } } } }');
  expect(await check(plugin, doc, 'Page', { first: 5 })).toBeNull();
  // Were the verdict not kept, the analysis would walk this operation's selection, which throws.
  const hooks = await plugin.requestDidStart!({} as never);
  const real = doc.definitions[0] as OperationDefinitionNode;
  const operation = new Proxy(real, { get: (t, p) => (p === 'selectionSet' ? (() => { throw new Error('analysed again'); })() : Reflect.get(t, p)) });
  await expect(
    (hooks as { didResolveOperation: (ctx: unknown) => Promise<void> }).didResolveOperation({ schema: schema(), document: doc, operation, request: { variables: { first: 5 } } }),
  ).resolves.toBeUndefined();
});

test('a verdict is kept under a digest of the declared variables alone: what a request sends beyond them is not kept', () => {
  const page = DOC.definitions[0] as OperationDefinitionNode;
  const key = verdictKey(page, { first: 5 });
  expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  // Variables the operation does not declare change nothing, whatever their size.
  expect(verdictKey(page, { first: 5, padding: 'x'.repeat(250_000) })).toBe(key);
  // Set or not differ (a default applies only to one not set); declared values count.
  expect(new Set([key, verdictKey(page, {}), verdictKey(page, { first: null }), verdictKey(page, { first: 6 })]).size).toBe(4);
  // A value nested past what can be written out is analysed unkept, not a server error.
  let deep: unknown = [];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  expect(verdictKey(page, { first: deep })).toBeUndefined();
  expect(verdictKey(page, { other: deep })).toBe(verdictKey(page, {}));
});
