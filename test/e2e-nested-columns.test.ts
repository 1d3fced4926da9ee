/**
 * A caller's or an address's calls read only the columns their selection needs, as a top-level
 * page does: each ApiCall field asked alone (under its own alias, so each is a statement of its
 * own) gives exactly the value it has when every field is asked, and a narrow selection's
 * statement reads no wide column. Over the Parquet store, where a wide row costs most.
 */
import { IOT_SOURCES } from './support/records';
import { compactTrail } from '../src/engines/duckdb/compact';
import { columnsUsed } from '../src/engines/duckdb/dialect';
import { API_CALL_FIELDS, ApiCallNode, fetchAllPages } from './support/api-calls';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const W = { from: new Date(SAMPLE_END.getTime() - 30 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };

const sample = useSampleServer(2, { iotEventsPerDay: 80, deliveryMinutes: 60 }, {
  env: { MAX_QUERY_COMPLEXITY: '10000000', MAX_ALIASES: '100' },
  prepare: async (dir) => {
    await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES });
  },
});

/** The top-level fields of a selection, each with its own sub-selection (`caller { ... }`). */
function topLevelFields(selection: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const token of selection.split(/(\{|\}|\s+)/).filter((t) => t.trim() !== '')) {
    if (token === '{') depth += 1;
    if (token === '}') depth -= 1;
    if (depth === 0 && token !== '}' && token !== '{') {
      if (current) out.push(current.trim());
      current = token;
    } else current += ` ${token}`;
  }
  if (current) out.push(current.trim());
  return out;
}

const FIELDS = topLevelFields(API_CALL_FIELDS);
const nameOf = (field: string) => field.split(/\s|\{/)[0]!;

type Node = Record<string, unknown>;
type Calls = { edges: { node: Node }[] };

/** Each field alone, under aliases f0, f1, ..., then every field at once (last: no page asked earlier holds every column). */
const calls = (first: number) => `${FIELDS.map((f, i) => `f${i}: calls(first: ${first}) { edges { node { ${f} } } }`).join('\n  ')}
  all: calls(first: ${first}) { edges { node { ${API_CALL_FIELDS} } } }`;

/** The window's calls from the top-level connection, every field: what a nested page's nodes must be. */
let byId: Map<string, ApiCallNode>;
beforeAll(async () => {
  const { nodes } = await fetchAllPages(sample.server, W);
  byId = new Map(nodes.map((n) => [n.eventId as string, n]));
});

function expectEachFieldAlone(parent: Record<string, Calls>) {
  const all = parent.all!.edges.map((e) => e.node);
  expect(all.length).toBeGreaterThan(0);
  expect(all).toEqual(all.map((n) => byId.get(n.eventId as string)));
  FIELDS.forEach((f, i) => {
    const name = nameOf(f);
    const alone = parent[`f${i}`]!.edges.map((e) => e.node[name]);
    expect({ field: name, values: alone }).toEqual({ field: name, values: all.map((n) => n[name]) });
  });
}

test('the fields of a caller\'s calls, each asked alone, are the values asked all at once', async () => {
  expect(FIELDS.length).toBeGreaterThan(30);
  const res = await sample.server.gql(`query($f: ApiCallFilter) { callers(filter: $f, first: 3) { nodes { key ${calls(4)} } } }`, { f: W });
  expect(res.errors).toBeUndefined();
  expect(res.data.callers.nodes).toHaveLength(3);
  for (const caller of res.data.callers.nodes) expectEachFieldAlone(caller);
});

test('the fields of an address\'s calls, each asked alone, are the values asked all at once', async () => {
  const res = await sample.server.gql(`query($f: ApiCallFilter) { sourceIps(filter: $f, first: 2) { nodes { address ${calls(3)} } } }`, { f: W });
  expect(res.errors).toBeUndefined();
  for (const ip of res.data.sourceIps.nodes) expectEachFieldAlone(ip);
});

test('a narrow selection of nested calls reads no wide column; its later pages neither', async () => {
  const server = sample.server;
  server.engine.reset();
  const first = await server.gql(`query($f: ApiCallFilter) { callers(filter: $f, first: 2) { nodes { key calls(first: 2) { pageInfo { endCursor } edges { node { eventId action } } } } } }`, { f: W });
  expect(first.errors).toBeUndefined();
  // The callers' page and their first calls pages are one statement.
  const nested = server.engine.executed.filter((q) => q.label.split('+').includes('caller.calls'));
  expect(nested).toHaveLength(1);
  const used = nested.flatMap((q) => columnsUsed(q.sql));
  expect(used).toContain('eventName');
  expect(used.filter((c) => ['requestParameters', 'responseElements', 'userAgent', 'resources'].includes(c))).toEqual([]);

  server.engine.reset();
  const { key, calls: page } = first.data.callers.nodes[0];
  const next = await server.gql(
    `query($f: ApiCallFilter, $key: String, $after: String) { caller(key: $key, filter: $f) { key calls(first: 2, after: $after) { edges { node { eventId action } } } } }`,
    { f: W, key, after: page.pageInfo.endCursor },
  );
  expect(next.errors).toBeUndefined();
  expect(next.data.caller.key).toBe(key);
  const later = server.engine.executed.filter((q) => q.label === 'caller.calls');
  expect(later.length).toBeGreaterThan(0);
  expect(later.flatMap((q) => columnsUsed(q.sql)).filter((c) => ['requestParameters', 'responseElements', 'userAgent', 'resources'].includes(c))).toEqual([]);
});
