/**
 * Per-edge work is done only for what the selection asks: a page that selects no cursor signs
 * none, one that selects no source-address `kind` classifies none. Counted with spies on the
 * real functions, over HTTP against a real trail.
 */
import * as ip from '../src/domain/ip';
import { CursorCodec } from '../src/query/cursor';
import { TestServer } from './support/server';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const W = { from: new Date(SAMPLE_END.getTime() - 12 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
const sample = useSampleServer(1, { iotEventsPerDay: 60 });
let server: TestServer;
let encode: jest.SpyInstance;
let classify: jest.SpyInstance;

beforeAll(() => {
  server = sample.server;
});

beforeEach(() => {
  encode = jest.spyOn(CursorCodec.prototype, 'encode');
  classify = jest.spyOn(ip, 'classifySourceIp');
});

afterEach(() => jest.restoreAllMocks());

async function page(selection: string, first = 20): Promise<{ edges: Record<string, any>[]; pageInfo?: Record<string, unknown> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await server.gql(`query($filter: ApiCallFilter, $first: Int) { apiCalls(filter: $filter, first: $first) { ${selection} } }`, { filter: W, first });
  expect(res.errors).toBeUndefined();
  return res.data.apiCalls;
}

describe('cursors', () => {
  test('a page that selects no cursor signs none', async () => {
    const conn = await page('pageInfo { hasNextPage } edges { node { eventId sourceIpAddress } }');
    expect(conn.edges.length).toBe(20);
    expect(encode).not.toHaveBeenCalled();
  });

  test('endCursor alone signs one cursor, the last edge\'s', async () => {
    const conn = await page('pageInfo { endCursor } edges { node { eventId } }');
    expect(encode).toHaveBeenCalledTimes(1);
    const next = await page('edges { cursor node { eventId } }', 21);
    expect(conn.pageInfo?.endCursor).toBe(next.edges[19].cursor);
  });

  test('each edge\'s cursor is signed once, even when pageInfo asks for it too', async () => {
    const conn = await page('pageInfo { startCursor endCursor } edges { cursor node { eventId } }');
    expect(encode).toHaveBeenCalledTimes(conn.edges.length);
    expect(conn.pageInfo?.startCursor).toBe(conn.edges[0].cursor);
    expect(conn.pageInfo?.endCursor).toBe(conn.edges[conn.edges.length - 1].cursor);
  });
});

describe('cursors of grouped pages', () => {
  async function callers(selection: string): Promise<{ edges: { cursor?: string; node: { key: string } }[]; pageInfo?: Record<string, string> }> {
    const res = await server.gql(`query($filter: ApiCallFilter) { callers(filter: $filter, first: 3) { ${selection} } }`, { filter: W });
    expect(res.errors).toBeUndefined();
    return res.data.callers;
  }

  test('a page of callers that selects no cursor signs none; endCursor alone signs one, the last edge\'s', async () => {
    const plain = await callers('pageInfo { hasNextPage } edges { node { key } }');
    expect(plain.edges).toHaveLength(3);
    expect(encode).not.toHaveBeenCalled();
    const end = await callers('pageInfo { endCursor } nodes { key }');
    expect(encode).toHaveBeenCalledTimes(1);
    encode.mockClear();
    const all = await callers('pageInfo { startCursor endCursor } edges { cursor node { key } }');
    expect(encode).toHaveBeenCalledTimes(3);
    expect(all.pageInfo?.startCursor).toBe(all.edges[0]!.cursor);
    expect(end.pageInfo?.endCursor).toBe(all.edges[2]!.cursor);
  });
});

describe('source address kind', () => {
  test('a page that selects no kind classifies nothing', async () => {
    const conn = await page('edges { node { eventId sourceIpAddress sourceIp { address } } }');
    expect(conn.edges.some((e) => e.node.sourceIp !== null)).toBe(true);
    expect(classify).not.toHaveBeenCalled();
  });

  test('a selected kind is classified once per address and is the classification of that address', async () => {
    const conn = await page('edges { node { sourceIp { address kind } } }');
    const withIp = conn.edges.filter((e) => e.node.sourceIp !== null);
    expect(withIp.length).toBeGreaterThan(0);
    expect(classify).toHaveBeenCalledTimes(withIp.length);
    classify.mockRestore();
    for (const e of withIp) expect(e.node.sourceIp.kind).toBe(ip.classifySourceIp(e.node.sourceIp.address));
  });
});

describe('grouped lists of addresses and insights', () => {
  async function ask(query: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await server.gql(query, { filter: W });
    expect(res.errors).toBeUndefined();
    return res.data;
  }

  test('sourceIps, an address by itself and a caller\'s addresses classify nothing unless kind is selected', async () => {
    const list = await ask('query($filter: ApiCallFilter) { sourceIps(filter: $filter, first: 3) { edges { node { address stats { calls } } } } }');
    const address = list.sourceIps.edges.map((e: { node: { address: string | null } }) => e.node.address).find((a: string | null) => a !== null);
    expect(address).toBeDefined();
    await ask(`query($filter: ApiCallFilter) { sourceIp(address: ${JSON.stringify(address)}, filter: $filter) { address stats { calls } } }`);
    const nested = await ask('query($filter: ApiCallFilter) { callers(filter: $filter, first: 2) { edges { node { sourceIps(first: 2) { edges { node { calls sourceIp { address } } } } } } } }');
    expect(nested.callers.edges.some((e: { node: { sourceIps: { edges: unknown[] } } }) => e.node.sourceIps.edges.length > 0)).toBe(true);
    expect(classify).not.toHaveBeenCalled();
    const kinds = await ask('query($filter: ApiCallFilter) { sourceIps(filter: $filter, first: 3) { edges { node { address kind } } } }');
    const named = kinds.sourceIps.edges.filter((e: { node: { address: string | null } }) => e.node.address !== null);
    expect(classify).toHaveBeenCalledTimes(named.length);
    classify.mockRestore();
    for (const e of named) expect(e.node.kind).toBe(ip.classifySourceIp(e.node.address));
  });

  test('a page of insights that selects no cursor signs none, and the address of a finding is classified only when its kind is selected', async () => {
    const INSIGHTS = (selection: string) => `query($filter: ApiCallFilter) { insights(filter: $filter, first: 5) { ${selection} } }`;
    // Rules may classify addresses to judge them: the answer's own work is what selecting adds.
    const classified = async (selection: string) => {
      classify.mockClear();
      const data = await ask(INSIGHTS(selection));
      return { data, calls: classify.mock.calls.length };
    };
    const none = await classified('pageInfo { hasNextPage } edges { node { id kind count } }');
    const addresses = await classified('pageInfo { hasNextPage } edges { node { id kind count sourceIp { address } } }');
    const kinds = await classified('edges { node { id sourceIp { address kind } } }');
    const shown = kinds.data.insights.edges.filter((e: { node: { sourceIp: unknown } }) => e.node.sourceIp !== null);
    expect(shown.length).toBeGreaterThan(0);
    expect(addresses.calls).toBe(none.calls);
    expect(kinds.calls - none.calls).toBe(shown.length);
    for (const e of shown) expect(e.node.sourceIp.kind).toBe(ip.classifySourceIp(e.node.sourceIp.address));
    expect(encode).not.toHaveBeenCalled();
    const end = await ask(INSIGHTS('pageInfo { endCursor } nodes { id }'));
    expect(encode).toHaveBeenCalledTimes(1);
    encode.mockClear();
    const all = await ask(INSIGHTS('pageInfo { startCursor endCursor } edges { cursor node { id } }'));
    expect(encode).toHaveBeenCalledTimes(all.insights.edges.length);
    expect(end.insights.pageInfo.endCursor).toBe(all.insights.edges.at(-1).cursor);
    expect(all.insights.pageInfo.startCursor).toBe(all.insights.edges[0].cursor);
    expect(all.insights.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(none.data.insights.edges.map((e: { node: { id: string } }) => e.node.id));
  });
});
