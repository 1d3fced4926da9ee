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
