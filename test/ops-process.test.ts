/**
 * SIGTERM on the real process: it exits 0 when idle; a request in flight when the signal arrives
 * is served to the end (its GraphQL query runs on the engine during the drain) while new
 * connections are refused; a request still unfinished at SHUTDOWN_TIMEOUT_MS is cut off with a
 * 503 SHUTTING_DOWN, and the process still exits 0.
 *
 * The request is held in flight by its client: the body is sent in two parts, the second only
 * after the signal. That keeps the test independent of how fast the engine is.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { ChildServer, spawnServer } from './support/child-server';
import { metricSum, scrape } from './support/ops';
import { TEST_KEY } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const WINDOW = { from: new Date(SAMPLE_END.getTime() - 6 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
const BODY = JSON.stringify({ query: `query Held($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 3) { totalCount untimedRecords edges { node { eventId } } } }`, variables: { filter: WINDOW } });

let dir: string;
const children: ChildServer[] = [];
/** One process per test, started together: each start-up (ts-node) takes most of a test's time. */
let idle: ChildServer;
let served: ChildServer;
let cutOff: ChildServer;

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 40, deliveryMinutes: 30 });
  [idle, served, cutOff] = await Promise.all([start(), start(), start({ SHUTDOWN_TIMEOUT_MS: '300' })]);
}, 240_000);

afterAll(() => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<ChildServer> {
  const c = await spawnServer(dir, env);
  children.push(c);
  return c;
}

interface Held {
  /** Sends the rest of the body. */
  finish(): void;
  response: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>;
}

/** A GraphQL POST whose body is only half sent: the server has the request and waits for the rest. */
function holdRequest(port: number, requestId: string): Held {
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/graphql',
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), authorization: `Bearer ${TEST_KEY}`, 'x-request-id': requestId },
  });
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const half = Math.floor(BODY.length / 2);
  req.write(BODY.slice(0, half));
  return { finish: () => req.end(BODY.slice(half)), response };
}

/** Waits until the server counts `n` HTTP requests in flight besides the scrape asking. */
async function untilInFlight(origin: string, n: number): Promise<void> {
  for (;;) {
    if (metricSum(await scrape(origin), 'trailql_http_requests_in_flight') - 1 >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('idle: answers, then exits 0 on SIGTERM', async () => {
  const c = idle;
  expect((await fetch(`${c.origin}/healthz`)).status).toBe(200);
  expect((await fetch(`${c.origin}/readyz`)).status).toBe(200);
  const res = await fetch(`${c.origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` }, body: BODY });
  expect(res.status).toBe(200);
  c.child.kill('SIGTERM');
  expect(await c.exited).toEqual({ code: 0, signal: null });
  expect(c.lines().find((l) => l.msg === 'shutdown complete')).toMatchObject({ graceful: true, abandoned: 0, failures: [] });
});

test('a request in flight at SIGTERM is served to the end, new connections are refused, exit 0', async () => {
  const c = served;
  const held = holdRequest(c.port, 'held-1');
  await untilInFlight(c.origin, 1);

  c.child.kill('SIGTERM');
  const draining = await c.waitForLine((l) => l.msg === 'draining: no new connections, waiting for requests in flight');
  expect(draining.inFlight).toBe(1);
  await expect(fetch(`${c.origin}/healthz`)).rejects.toThrow();
  expect(c.child.exitCode).toBeNull();

  held.finish();
  const res = await held.response;
  expect(res.status).toBe(200);
  expect(res.headers.connection).toBe('close');
  const body = JSON.parse(res.body) as { data: { apiCalls: { totalCount: number; edges: unknown[] } }; errors?: unknown };
  expect(body.errors).toBeUndefined();
  expect(body.data.apiCalls.totalCount).toBeGreaterThan(0);
  expect(body.data.apiCalls.edges).toHaveLength(3);

  expect(await c.exited).toEqual({ code: 0, signal: null });
  expect(c.lines().find((l) => l.requestId === 'held-1' && l.msg === 'graphql request')).toMatchObject({ outcome: 'ok', engineQueries: 2 });
  expect(c.lines().find((l) => l.msg === 'shutdown complete')).toMatchObject({ graceful: true, abandoned: 0, failures: [] });
});

test('a request still unfinished at SHUTDOWN_TIMEOUT_MS is cut off with a 503 to retry elsewhere, and the process exits 0', async () => {
  const c = cutOff;
  const held = holdRequest(c.port, 'held-2');
  await untilInFlight(c.origin, 1);
  c.child.kill('SIGTERM');
  const res = await held.response;
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
  expect((JSON.parse(res.body) as { errors: { extensions: { code: string } }[] }).errors.map((e) => e.extensions.code)).toEqual(['SHUTTING_DOWN']);
  expect(await c.exited).toEqual({ code: 0, signal: null });
  expect(c.lines().find((l) => l.msg === 'shutdown complete')).toMatchObject({ graceful: false, abandoned: 1, failures: [] });
});
