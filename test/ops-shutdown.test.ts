/**
 * Graceful shutdown, in process: a query held inside the engine finishes and is answered when it
 * can within the deadline; past the deadline its request is aborted, its engine query cancelled,
 * and the engine closed only after that query settled. The signal handling runs the shutdown once
 * and exits with its verdict.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import { Lifecycle } from '../src/ops/health';
import { HttpDrainer, ShutdownReport, onTerminationSignals, shutdown } from '../src/ops/shutdown';
import { spawnServer } from './support/child-server';
import { GatedEngine, OpsApp, captureLogs, metricSum, parseMetrics, scrape, startOpsApp } from './support/ops';
import { TEST_KEY } from './support/server';
import { SAMPLE_END, useSampleTrail } from './support/trails';

const WINDOW = { from: new Date(SAMPLE_END.getTime() - 6 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
const QUERY = `query Slow($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 2) { totalCount } }`;

const trail = useSampleTrail(1, { iotEventsPerDay: 40, deliveryMinutes: 30 });

async function gatedApp(): Promise<{ s: OpsApp; gated: GatedEngine; logs: ReturnType<typeof captureLogs> }> {
  let gated: GatedEngine | undefined;
  const logs = captureLogs();
  const s = await startOpsApp({
    trailDir: trail.dir,
    logger: logs.logger,
    engine: (real) => {
      gated = new GatedEngine(real);
      return gated;
    },
  });
  return { s, gated: gated!, logs };
}

function runShutdown(s: OpsApp, gated: GatedEngine, logs: ReturnType<typeof captureLogs>, timeoutMs: number): Promise<ShutdownReport> {
  return shutdown({
    lifecycle: s.app.ops.lifecycle,
    drainer: s.app.ops.drainer,
    timeoutMs,
    logger: logs.logger,
    engineIdle: (ms) => s.app.ops.engine.idle(ms),
    abortGraceMs: 5000,
    close: [
      { name: 'graphql', close: () => s.app.close() },
      { name: 'engine', close: () => gated.close() },
    ],
  });
}

test('a query running when shutdown starts finishes and is answered; then everything closes', async () => {
  const { s, gated, logs } = await gatedApp();
  try {
    const pending = s.gql(QUERY, { filter: WINDOW });
    await gated.waiting();
    expect(s.app.ops.drainer.inFlight).toBe(1);
    expect(s.app.ops.engine.inFlight).toBe(1);

    const done = runShutdown(s, gated, logs, 30_000);
    // Not ready any more, and no new connections.
    expect(s.app.ops.lifecycle.draining).toBe(true);
    await expect(fetch(`${s.origin}/healthz`)).rejects.toThrow();
    expect(gated.events).toEqual(['wait']); // the operation's first query is held in the engine

    gated.release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.apiCalls.totalCount).toBeGreaterThan(0);
    const report = await done;
    expect(report).toMatchObject({ graceful: true, abandoned: 0, failures: [] });
    // Every query the operation ran completed, and only then was the engine closed.
    const waits = gated.events.filter((e) => e === 'wait').length;
    expect(waits).toBe(res.body.extensions.cost.totals.engineQueries);
    expect(gated.events.filter((e) => e === 'done')).toHaveLength(waits);
    expect(gated.events.slice(-1)).toEqual(['close']);
    expect(logs.lines().find((l) => l.msg === 'shutdown complete')).toMatchObject({ graceful: true, abandoned: 0 });
  } finally {
    await s.close();
  }
});

test('past the deadline the request is answered 503 SHUTTING_DOWN, its engine queries cancelled, and the engine closed after them', async () => {
  const { s, gated, logs } = await gatedApp();
  try {
    const pending = s.gql(QUERY, { filter: WINDOW });
    await gated.waiting();
    const report = await runShutdown(s, gated, logs, 200);
    expect(report).toMatchObject({ graceful: false, abandoned: 1, failures: [] });
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body.errors[0].extensions.code).toBe('SHUTTING_DOWN');
    // The held query was cancelled through the request's signal before the engine was closed.
    expect(gated.events).toEqual(['wait', 'cancelled', 'close']);
    expect(s.app.ops.engine.inFlight).toBe(0);
    const m = parseMetrics((await s.app.ops.metrics.scrape()).body);
    expect(metricSum(m, 'trailql_engine_queries_total', { outcome: 'cancelled' })).toBe(1);
    expect(metricSum(m, 'trailql_engine_queries_in_flight')).toBe(0);
    expect(logs.lines().some((l) => l.msg === 'shutdown timeout reached: answered the requests still running with 503 and cancelled their engine queries')).toBe(true);
  } finally {
    await s.close();
  }
});

test('SIGTERM with queries in flight, deadline 0: every client gets a response, 503 SHUTTING_DOWN for those still open', async () => {
  const server = await spawnServer(trail.dir, { SHUTDOWN_TIMEOUT_MS: '0', ENGINE_MAX_CONCURRENT: '1' });
  try {
    const post = (minutes: number) =>
      fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` },
        body: JSON.stringify({ query: QUERY, variables: { filter: { from: WINDOW.from, to: new Date(Date.parse(WINDOW.to) - minutes * 60_000).toISOString() } } }),
      }).then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { errors?: { extensions: { code: string } }[] } }));
    // Five distinct queries; one engine slot, so they are in flight together.
    const pending = [0, 1, 2, 3, 4].map(post);
    let inFlight = 0;
    for (let i = 0; i < 400 && inFlight < 6; i++) inFlight = metricSum(await scrape(server.origin), 'trailql_http_requests_in_flight'); // five and the scrape
    expect(inFlight).toBeGreaterThanOrEqual(6);
    server.child.kill('SIGTERM');
    const answers = await Promise.all(pending); // none rejected: every connection got a response
    for (const a of answers) {
      if (a.status === 200) expect(a.body.errors).toBeUndefined();
      else expect(a).toMatchObject({ status: 503, retryAfter: '1', body: { errors: [{ extensions: { code: 'SHUTTING_DOWN' } }] } });
    }
    expect(answers.some((a) => a.status === 503)).toBe(true);
    expect(await server.exited).toEqual({ code: 0, signal: null });
  } finally {
    server.child.kill('SIGKILL');
  }
});

test('a resource failing to close is reported, and the others are still closed', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  const drainer = new HttpDrainer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const closed: string[] = [];
  const logs = captureLogs();
  const report = await shutdown({
    lifecycle: new Lifecycle(),
    drainer,
    timeoutMs: 1000,
    logger: logs.logger,
    close: [
      {
        name: 'cache',
        close: async () => {
          throw new Error('redis said no');
        },
      },
      { name: 'engine', close: async () => void closed.push('engine') },
    ],
  });
  expect(report).toMatchObject({ graceful: true, abandoned: 0, failures: ['cache'] });
  expect(closed).toEqual(['engine']);
  expect(server.listening).toBe(false);
});

test('HttpDrainer: an idle keep-alive connection does not hold the drain; a busy one is served to the end', async () => {
  let finish!: () => void;
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') finish = () => res.end('slow done');
    else res.end('fast');
  });
  const drainer = new HttpDrainer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const agent = new http.Agent({ keepAlive: true });
  const get = (path: string) =>
    new Promise<{ body: string; connection: string | undefined }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ body, connection: res.headers.connection }));
        })
        .on('error', reject);
    });
  expect((await get('/fast')).body).toBe('fast'); // leaves an idle keep-alive socket
  const slow = get('/slow');
  while (drainer.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
  const drained = drainer.drain(10_000);
  await new Promise((r) => setTimeout(r, 50));
  finish();
  expect(await slow).toEqual({ body: 'slow done', connection: 'close' });
  expect(await drained).toEqual({ graceful: true, abandoned: 0 });
  agent.destroy();
});

describe('onTerminationSignals', () => {
  const report = (failures: string[] = []): ShutdownReport => ({ graceful: true, abandoned: 0, failures, ms: 1 });

  test('the first signal runs the shutdown once and exits 0; later signals are ignored', async () => {
    const target = new EventEmitter();
    const codes: number[] = [];
    let runs = 0;
    let finish!: (r: ShutdownReport) => void;
    const remove = onTerminationSignals({
      logger: captureLogs().logger,
      target: target as unknown as NodeJS.Process,
      exit: (code) => codes.push(code),
      hardDeadlineMs: 60_000,
      run: () => {
        runs += 1;
        return new Promise<ShutdownReport>((resolve) => (finish = resolve));
      },
    });
    target.emit('SIGTERM', 'SIGTERM');
    target.emit('SIGINT', 'SIGINT');
    expect(runs).toBe(1);
    expect(codes).toEqual([]);
    finish(report());
    await new Promise((r) => setImmediate(r));
    expect(codes).toEqual([0]);
    remove();
    expect(target.listenerCount('SIGTERM')).toBe(0);
  });

  test('exits 1 when a resource failed to close, when the shutdown throws, and when it overruns', async () => {
    const cases: (() => Promise<ShutdownReport>)[] = [
      async () => report(['cache']),
      async () => {
        throw new Error('boom');
      },
      () => new Promise<ShutdownReport>(() => undefined),
    ];
    for (const run of cases) {
      const target = new EventEmitter();
      const codes: number[] = [];
      const remove = onTerminationSignals({ logger: captureLogs().logger, target: target as unknown as NodeJS.Process, exit: (c) => codes.push(c), hardDeadlineMs: 50, run });
      target.emit('SIGTERM', 'SIGTERM');
      while (codes.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(codes).toEqual([1]);
      remove();
    }
  });
});
