/**
 * A grouped list whose nodes ask their newest calls is answered by one statement per page (the
 * whole list with the calls of the first page's groups; later pages, cut from the list the walk
 * keeps, ask their groups' calls), and the
 * answer is the one the nested field gives on its own. The field is read ahead only when its calls
 * are the ones the groups count: a filter of the parent's beyond its window, or one of the field's
 * own, leaves the field to its own statement, so its answer stays its own.
 */
import * as fs from 'node:fs';
import { TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const W = { from: new Date(SAMPLE_END.getTime() - 30 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };

let dir: string;
/** Keeps answers (the default). */
let kept: TestServer;
/** Keeps no answer: the walk's list only. */
let fresh: TestServer;

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 120, deliveryMinutes: 60 });
  kept = await startServer(dir, {}, { now: () => SAMPLE_END });
  fresh = await startServer(dir, { CACHE_ENABLED: 'false' }, { now: () => SAMPLE_END });
}, 120_000);

afterAll(async () => {
  await kept?.close();
  await fresh?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface CallsPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean };
  nodes: { eventId: string; action: string }[];
}
interface Entry {
  key?: string;
  address?: string | null;
  calls: CallsPage;
}

const CALLS = (args: string) => `calls(${args}) { totalCount pageInfo { hasNextPage } nodes { eventId action } }`;
const LIST = (field: 'callers' | 'sourceIps', nodeKey: string, calls: string, extra = '') =>
  `query($f: ApiCallFilter, $after: String) { ${field}(filter: $f, first: 4, after: $after${extra}) { pageInfo { hasNextPage endCursor } nodes { ${nodeKey} ${calls} } } }`;

async function ask(server: TestServer, query: string, variables: Record<string, unknown>) {
  const before = server.engine.executed.length;
  const res = await server.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return { data: res.data, labels: server.engine.executed.slice(before).map((q) => q.label) };
}

/** Every page of a grouped list: its entries, and the statements each page ran. */
async function walk(server: TestServer, field: 'callers' | 'sourceIps', query: string, f: object): Promise<{ entries: Entry[]; labels: string[][] }> {
  const entries: Entry[] = [];
  const labels: string[][] = [];
  let after: string | null = null;
  for (let i = 0; i < 50; i++) {
    const { data, labels: ran } = await ask(server, query, { f, after });
    entries.push(...data[field].nodes);
    labels.push(ran);
    if (!data[field].pageInfo.hasNextPage) return { entries, labels };
    after = data[field].pageInfo.endCursor;
  }
  throw new Error('more pages than expected');
}

describe.each([
  ['answers kept', () => kept],
  ['no answers kept', () => fresh],
])('%s', (_name, server) => {
  test.each([
    ['callers', 'key', 'callers:ARN+caller.calls', ''],
    ['callers', 'key', 'callers:PRINCIPAL+principal.calls', ', groupBy: PRINCIPAL'],
    ['sourceIps', 'address', 'sourceIps+sourceIp.calls', ''],
  ] as const)('every page of %s with their newest calls is one statement, and each entry\'s calls are the field\'s own answer', async (field, nodeKey, label, extra) => {
    // A filter of the field's own covering the same calls: the field asks on its own.
    const apart = await walk(server(), field, LIST(field, nodeKey, CALLS('first: 3, filter: $f'), extra), W);
    const together = await walk(server(), field, LIST(field, nodeKey, CALLS('first: 3'), extra), W);
    expect(together.entries.length).toBeGreaterThan(4);
    expect(together.entries).toEqual(apart.entries);
    expect(together.entries.some((e) => e.calls.pageInfo.hasNextPage)).toBe(true);
    // The first page reads the list with its groups' calls; the later pages are cut from that list,
    // kept for the walk, and ask only the calls of their groups.
    expect(together.labels[0]).toEqual([label]);
    for (const ran of together.labels.slice(1)) expect(ran).toEqual([label.split('+')[1]]);
    for (const ran of apart.labels) expect(ran.some((l) => l.endsWith('.calls'))).toBe(true);
  }, 60_000);
});

test('a parent filter beyond the window: the nested calls are still every call of the entry in the window', async () => {
  const regional = { ...W, regions: ['us-east-1'] };
  const { data, labels } = await ask(fresh, LIST('callers', 'key stats { calls }', CALLS('first: 3')), { f: regional });
  // The page and the calls are two statements: the calls are not the ones the page counts.
  expect(labels.sort()).toEqual(['caller.calls', 'callers:ARN']);
  let wider = 0;
  for (const node of data.callers.nodes as (Entry & { key: string; stats: { calls: number } })[]) {
    const own = await ask(fresh, `query($k: String!, $f: ApiCallFilter) { caller(key: $k, filter: $f) { ${CALLS('first: 3')} } }`, { k: node.key, f: W });
    expect(node.calls).toEqual(own.data.caller.calls);
    if (node.calls.totalCount > node.stats.calls) wider += 1;
  }
  // The test means something: some caller also called from another region.
  expect(wider).toBeGreaterThan(0);
}, 60_000);

test('a filter of the nested field\'s own: its calls are the filtered ones', async () => {
  const action = 'DescribeDetectorModel';
  const { data, labels } = await ask(fresh, LIST('callers', 'key', CALLS(`first: 3, filter: { from: "${W.from}", to: "${W.to}", actions: ["${action}"] }`)), { f: W });
  expect(labels.sort()).toEqual(['caller.calls', 'callers:ARN']);
  let some = 0;
  for (const node of data.callers.nodes as (Entry & { key: string })[]) {
    for (const call of node.calls.nodes) expect(call.action).toBe(action);
    const own = await ask(fresh, `query($k: String!, $f: ApiCallFilter, $g: ApiCallFilter) { caller(key: $k, filter: $f) { ${CALLS('first: 3, filter: $g')} } }`, { k: node.key, f: W, g: { ...W, actions: [action] } });
    expect(node.calls).toEqual(own.data.caller.calls);
    some += node.calls.nodes.length;
  }
  expect(some).toBeGreaterThan(0);
}, 60_000);

test('two calls fields of different sizes on the nodes each answer as asked', async () => {
  const q = `query($f: ApiCallFilter) { callers(filter: $f, first: 3) { nodes { key a: ${CALLS('first: 1')} b: ${CALLS('first: 4')} } } }`;
  const { data } = await ask(fresh, q, { f: W });
  for (const node of data.callers.nodes as { key: string; a: CallsPage; b: CallsPage }[]) {
    expect(node.a.nodes).toEqual(node.b.nodes.slice(0, 1));
    expect(node.b.nodes.length).toBe(Math.min(4, node.b.totalCount));
  }
});
