/**
 * The HTTP surface: the Sandbox landing page, CSRF prevention, request ids, the health check and
 * the cost report every GraphQL response carries.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { useSampleServer } from './support/sample-server';
import { SAMPLE_END } from './support/trails';
import { TEST_KEY } from './support/server';

const AUTH = { authorization: `Bearer ${TEST_KEY}` };

const ctx = useSampleServer(1, { iotEventsPerDay: 40 });

const WINDOW = { from: new Date(SAMPLE_END.getTime() - 20 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
const QUERY = '{ __typename }';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const origin = () => ctx.server.url.replace(/\/graphql$/, '');
const getUrl = (query: string) => `${ctx.server.url}?query=${encodeURIComponent(query)}`;

describe('landing page', () => {
  test('GET /graphql from a browser serves the embedded Apollo Sandbox page', async () => {
    const res = await fetch(ctx.server.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^\s*<!DOCTYPE html>/i);
    expect(html).toContain('embeddableSandbox');
    expect(html).toMatch(/embeddable-sandbox\.cdn\.apollographql\.com/);
    expect(html).not.toContain('includeCookies: true');
  });
});

describe('keep-alive', () => {
  test('idle connections are kept longer than a load balancer keeps its own (not Node\'s 5 s)', async () => {
    const header = await new Promise<string | undefined>((resolve, reject) => {
      const req = http.request(`${origin()}/readyz`, { agent: new http.Agent({ keepAlive: true }) }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['keep-alive']?.toString()));
      });
      req.on('error', reject);
      req.end();
    });
    expect(header).toBe('timeout=65');
  });
});

describe('CSRF prevention', () => {
  const blocked = async (res: Response) => {
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Cross-Site Request Forgery/);
  };

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])('POST with content-type %s is refused', async (type) => {
    const before = ctx.server.engine.executed.length;
    await blocked(await fetch(ctx.server.url, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify({ query: QUERY }) }));
    expect(ctx.server.engine.executed.length).toBe(before);
  });

  test('POST without a content-type is refused', async () => {
    await blocked(await fetch(ctx.server.url, { method: 'POST', body: new TextEncoder().encode(JSON.stringify({ query: QUERY })) }));
  });

  test('POST with application/json is served', async () => {
    const res = await fetch(ctx.server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: JSON.stringify({ query: QUERY }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown }).data).toEqual({ __typename: 'Query' });
  });

  test('GET with a query but no preflight-forcing header is refused', async () => {
    await blocked(await fetch(getUrl(QUERY)));
    await blocked(await fetch(getUrl(QUERY), { headers: { accept: 'application/json' } }));
  });

  test.each(['apollo-require-preflight', 'x-apollo-operation-name'])('GET with %s is served', async (header) => {
    const res = await fetch(getUrl(QUERY), { headers: { [header]: 'x', ...AUTH } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown }).data).toEqual({ __typename: 'Query' });
  });
});

describe('conditional requests', () => {
  // Answers carry no validator, so no condition holds: an empty 304 would leave a client without
  // its answer. (Plain node:http: fetch adds `cache-control: no-cache`, which Express reads as "not fresh".)
  const conditions: Record<string, string>[] = [{ 'if-none-match': '*' }, { 'if-none-match': 'W/"x"' }, { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() }];
  const get = (url: string, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });

  test.each(conditions)('a GET of /graphql, a download or a health route with %p gets its answer', async (condition) => {
    const answer = await get(getUrl(QUERY), { 'apollo-require-preflight': 'x', ...AUTH, ...condition });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data).toEqual({ __typename: 'Query' });
    const download = await get(`${origin()}/export/api-calls?format=ndjson&filter=${encodeURIComponent(JSON.stringify(WINDOW))}`, { ...AUTH, ...condition });
    expect(download.status).toBe(200);
    expect(download.body.length).toBeGreaterThan(0);
    for (const route of ['/healthz', '/readyz', '/metrics']) {
      const health = await get(`${origin()}${route}`, condition);
      expect([route, health.status]).toEqual([route, 200]);
      expect(health.body.length).toBeGreaterThan(0);
    }
  });
});

describe('operations other than queries', () => {
  test.each(['mutation { __typename }', 'subscription { __typename }'])('%s is refused as a bad request, before any engine query', async (query) => {
    const before = ctx.server.engine.executed.length;
    const res = await fetch(ctx.server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: JSON.stringify({ query }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]!.message).toMatch(/operations are not served: trailql only reads/);
    expect(ctx.server.engine.executed.length).toBe(before);
  });
});

describe('variables nested very deep', () => {
  // 50,000 arrays inside each other: within the body limit, past what JSON.stringify can walk.
  const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
  const post = (query: string) =>
    fetch(ctx.server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: `{"query":${JSON.stringify(query)},"variables":{"x":${deep}}}` });

  test('one the operation does not declare is ignored; one it declares is refused as input, not a server error', async () => {
    const before = ctx.server.engine.executed.length;
    const ignored = await post('{ __typename }');
    expect(ignored.status).toBe(200);
    expect(((await ignored.json()) as { data: unknown }).data).toEqual({ __typename: 'Query' });
    const refused = await post('query($x: [String!]) { apiCalls(first: 1, filter: { actions: $x }) { totalCount } }');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(ctx.server.engine.executed.length).toBe(before);
  });
});

describe('request ids', () => {
  test('a well-formed x-request-id is echoed in the header and in extensions.requestId', async () => {
    const res = await ctx.server.gql(QUERY, {}, { 'x-request-id': 'trace-Abc.123_x' });
    expect(res.headers.get('x-request-id')).toBe('trace-Abc.123_x');
    expect(res.extensions?.requestId).toBe('trace-Abc.123_x');
  });

  test.each(['has spaces', 'x'.repeat(65), 'semi;colon', 'new\tline'])('an unusable x-request-id %p is replaced by a fresh one', async (id) => {
    const res = await ctx.server.gql(QUERY, {}, { 'x-request-id': id });
    const echoed = res.headers.get('x-request-id');
    expect(echoed).toMatch(UUID);
    expect(res.extensions?.requestId).toBe(echoed);
  });

  test('without one, every response gets its own', async () => {
    const a = await ctx.server.gql(QUERY);
    const b = await ctx.server.gql(QUERY);
    expect(a.headers.get('x-request-id')).toMatch(UUID);
    expect(a.extensions?.requestId).toBe(a.headers.get('x-request-id'));
    expect(b.extensions?.requestId).not.toBe(a.extensions?.requestId);
  });
});

test('GraphQL answers are the caller\'s own: no shared cache may keep them, errors included', async () => {
  const ok = await ctx.server.gql(`query($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 2) { edges { node { eventId } } } }`, { filter: WINDOW });
  expect(ok.errors).toBeUndefined();
  expect(ok.headers.get('cache-control')).toBe('no-store');
  const bad = await ctx.server.gql('{ apiCalls(first: -1) { edges { node { eventId } } } }');
  expect(bad.status).toBe(400);
  expect(bad.headers.get('cache-control')).toBe('no-store');
});

test('/healthz answers 200', async () => {
  const res = await fetch(`${origin()}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});

describe('cost report', () => {
  test('lists each engine query with label, rows, bytes scanned, engine time and files', async () => {
    const before = ctx.server.engine.filesRead.length;
    const res = await ctx.server.gql(`query($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 5) { totalCount untimedRecords edges { node { eventId } } } }`, { filter: WINDOW });
    expect(res.errors).toBeUndefined();
    const total: number = res.data.apiCalls.totalCount;
    expect(total).toBeGreaterThan(5);
    const opened = ctx.server.engine.filesRead.slice(before);
    expect(opened).toHaveLength(2);

    const cost = res.extensions?.cost;
    expect(cost.queries).toHaveLength(2);
    const byLabel = Object.fromEntries(cost.queries.map((q: { label: string }) => [q.label, q]));
    // totalCount comes with the page; untimedRecords is a query of its own.
    expect(Object.keys(byLabel).sort()).toEqual(['apiCalls', 'untimedCount']);
    expect(byLabel.apiCalls.rows).toBe(6); // one page of 5, plus the row telling there is a next page
    expect(byLabel.untimedCount.rows).toBe(1);
    for (const q of cost.queries) {
      expect(q).toEqual({
        label: q.label,
        engine: 'duckdb',
        cached: false,
        outcome: 'ok',
        lane: 'light',
        queueMs: expect.any(Number),
        rows: expect.any(Number),
        bytesScanned: expect.any(Number),
        engineMs: expect.any(Number),
        files: expect.any(Number),
      });
      expect(Number.isInteger(q.engineMs)).toBe(true);
      expect(q.engineMs).toBeGreaterThanOrEqual(0);
    }
    // Statements over the same files read them once (shared-scans.ts): the one that reads them
    // reports their bytes, the others (and every one, when an earlier request's reading is kept) none.
    const byFiles = new Map<string, { size: number; bytes: number[] }>();
    for (const [i, files] of opened.entries()) {
      const q = cost.queries[i];
      expect(q.files).toBe(files.length);
      expect(q.files).toBeGreaterThan(0);
      const key = [...files].sort().join('\n');
      const group = byFiles.get(key) ?? { size: files.reduce((a, f) => a + fs.statSync(f).size, 0), bytes: [] };
      group.bytes.push(q.bytesScanned);
      byFiles.set(key, group);
    }
    for (const { size, bytes } of byFiles.values()) {
      expect(bytes.every((b) => b === size || b === 0)).toBe(true);
      expect(bytes.filter((b) => b === size).length).toBeLessThanOrEqual(1);
    }
    expect(cost.totals).toEqual({
      queries: 2,
      engineQueries: 2,
      cacheHits: 0,
      rows: 7,
      bytesScanned: cost.queries[0].bytesScanned + cost.queries[1].bytesScanned,
      engineMs: cost.queries[0].engineMs + cost.queries[1].engineMs,
    });
  });

  test('a response that ran no query reports none', async () => {
    const res = await ctx.server.gql(QUERY);
    expect(res.extensions?.cost).toEqual({
      queries: [],
      totals: { queries: 0, engineQueries: 0, cacheHits: 0, rows: 0, bytesScanned: 0, engineMs: 0 },
      budgets: [{ resource: 'engineMs', limit: ctx.server.config.security.limits.requestEngineBudgetMs, spent: 0, exhausted: false }],
    });
  });

  test('a refused request reports none', async () => {
    const res = await ctx.server.gql(`{ apiCalls(first: 0) { edges { cursor } } }`);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.extensions?.cost.queries).toEqual([]);
    expect(typeof res.extensions?.requestId).toBe('string');
  });
});
