/**
 * Under load: admission control keeps light queries from waiting behind heavy ones and refuses a
 * full queue with 503 and Retry-After; the request engine budget holds across parallel queries.
 * Assertions are on order and queue state, never on timings.
 */
import fc from 'fast-check';
import { CompiledQuery, Engine } from '../src/query/engine';
import { UnavailableError } from '../src/errors';
import { Admission, Slot } from '../src/query/admission';
import { GatedEngine, OpsApp, startOpsApp } from './support/ops';
import { TEST_KEY } from './support/server';
import { SAMPLE_END, useSampleTrail } from './support/trails';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACTIONS = `query($f: ApiCallFilter) { actions(filter: $f) { action calls } }`;
/** A month ending `minutesBefore` the sample's end: each one a distinct query. */
const month = (minutesBefore = 0) => {
  const to = SAMPLE_END.getTime() - minutesBefore * 60_000;
  return { from: new Date(to - 31 * DAY).toISOString(), to: new Date(to).toISOString() };
};
const hour = { from: new Date(SAMPLE_END.getTime() - HOUR).toISOString(), to: SAMPLE_END.toISOString() };
const isHeavy = (q: CompiledQuery) => q.partitions.days.length > 3;

const trail = useSampleTrail(33, { iotEventsPerDay: 6, otherEventsPerIotEvent: 1, deliveryMinutes: 240 });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

describe('Admission', () => {
  const config = { queueLength: 2, queueTimeoutMs: 60_000, heavyDays: 3 };
  const days = (n: number) => ({ partitions: { days: Array.from({ length: n }, (_, i) => `2026/01/${String(i + 1).padStart(2, '0')}`), regions: [], accounts: [] } });
  const heavy = days(33);
  const light = days(2);

  test('a heavy query never takes the last slot; a waiting light query is served before an older heavy one', async () => {
    const a = new Admission(config, 2);
    const h1 = await a.acquire(heavy);
    const order: string[] = [];
    const h2 = a.acquire(heavy).then((s) => (order.push('heavy'), s));
    expect(a.state()).toEqual({ limit: 2, running: { light: 0, heavy: 1 }, queued: { light: 0, heavy: 1 } });
    const l1 = await a.acquire(light); // the slot heavy queries leave free
    const l2 = a.acquire(light).then((s) => (order.push('light'), s));
    expect(a.state()).toEqual({ limit: 2, running: { light: 1, heavy: 1 }, queued: { light: 1, heavy: 1 } });
    h1.release();
    (await l2).release();
    expect(order).toEqual(['light']);
    l1.release();
    (await h2).release();
    expect(order).toEqual(['light', 'heavy']);
    expect(a.state()).toEqual({ limit: 2, running: { light: 0, heavy: 0 }, queued: { light: 0, heavy: 0 } });
  });

  test('a full lane refuses at once with ENGINE_BUSY; a wait past the deadline too; an abandoned wait leaves the queue', async () => {
    const a = new Admission({ ...config, queueLength: 1, queueTimeoutMs: 50 }, 1);
    const held = await a.acquire(light);
    const waiting = a.acquire(light);
    const refused = await a.acquire(light).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnavailableError);
    expect((refused as UnavailableError).extensions).toMatchObject({ code: 'ENGINE_BUSY', retryAfterSeconds: 1 });
    expect(await waiting.catch((e: unknown) => e)).toBeInstanceOf(UnavailableError); // the 50 ms deadline
    const abort = new AbortController();
    const abandoned = a.acquire(light, abort.signal);
    abort.abort();
    await expect(abandoned).rejects.toThrow(/abandoned/);
    expect(a.state().queued).toEqual({ light: 0, heavy: 0 });
    expect(a.refused).toEqual({ light: 2, heavy: 0 });
    held.release();
  });

  test('a query of a request already admitted is served before new requests\' queries, within the queue\'s length', async () => {
    const a = new Admission({ ...config, queueLength: 3 }, 1);
    const held = await a.acquire(light);
    const order: string[] = [];
    const newcomer = a.acquire(light).then((s) => (order.push('new'), s));
    const first = a.acquire(light, undefined, true).then((s) => (order.push('continuing 1'), s));
    const second = a.acquire(light, undefined, true).then((s) => (order.push('continuing 2'), s));
    expect(a.state().queued.light).toBe(3);
    // The queue is full: a continuing query is refused too.
    expect(await a.acquire(light, undefined, true).catch((e: unknown) => e)).toBeInstanceOf(UnavailableError);
    held.release();
    (await first).release();
    (await second).release();
    (await newcomer).release();
    expect(order).toEqual(['continuing 1', 'continuing 2', 'new']);
    expect(a.state()).toEqual({ limit: 1, running: { light: 0, heavy: 0 }, queued: { light: 0, heavy: 0 } });
  });

  test('property: slots are never over-used, heavy queries leave one free, and no query waits while its lane may start', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.oneof(fc.constant('light'), fc.constant('heavy'), fc.constant('release')), { maxLength: 40 }), async (limit, ops) => {
        const a = new Admission({ queueLength: 100, queueTimeoutMs: 60_000, heavyDays: 3 }, limit);
        const held: Slot[] = [];
        for (const op of ops) {
          if (op === 'release') held.shift()?.release();
          else void a.acquire(op === 'light' ? light : heavy).then((s) => held.push(s));
          await Promise.resolve();
          await Promise.resolve();
          const { running, queued } = a.state();
          expect(running.light + running.heavy).toBeLessThanOrEqual(limit);
          if (limit > 1) expect(running.heavy).toBeLessThanOrEqual(limit - 1);
          if (queued.light > 0) expect(running.light + running.heavy).toBe(limit);
        }
        while (held.length) {
          held.shift()!.release();
          await Promise.resolve();
          await Promise.resolve();
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('over HTTP', () => {
  let s: OpsApp | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  test('heavy queries held in the engine: a light query is answered meanwhile, and a full heavy queue is a 503 with Retry-After', async () => {
    let gated!: GatedEngine;
    s = await startOpsApp({
      trailDir: trail.dir,
      env: { ENGINE_MAX_CONCURRENT: '2', ENGINE_QUEUE_LENGTH: '1', ENGINE_QUEUE_TIMEOUT_MS: '60000' },
      engine: (real) => (gated = new GatedEngine(real, isHeavy)),
    });
    const admission = s.app.ops.admission;
    const first = s.gql(ACTIONS, { f: month(0) });
    await gated.waiting(1);
    const second = s.gql(ACTIONS, { f: month(1) });
    await until(() => admission.state().queued.heavy === 1);

    const third = await s.gql(ACTIONS, { f: month(2) });
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('60');
    expect(third.body.errors[0].extensions.code).toBe('ENGINE_BUSY');
    // A download meets the same full queue, and is told the same.
    const download = await fetch(`${s.origin}/export/api-calls?filter=${encodeURIComponent(JSON.stringify(month(3)))}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    expect(download.status).toBe(503);
    expect(download.headers.get('retry-after')).toBe('60');
    expect(((await download.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('ENGINE_BUSY');

    const light = await s.gql(ACTIONS, { f: hour });
    expect(light.status).toBe(200);
    expect(light.body.errors).toBeUndefined();
    expect(light.body.extensions.cost.queries).toEqual([expect.objectContaining({ lane: 'light', queueMs: expect.any(Number), outcome: 'ok' })]);
    // Answered while the heavy queries were still held and queued.
    expect(admission.state()).toEqual({ limit: 2, running: { light: 0, heavy: 1 }, queued: { light: 0, heavy: 1 } });
    expect(gated.events).toEqual(['wait']);

    gated.release();
    for (const res of await Promise.all([first, second])) {
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
    }
  });

  test('readiness under load: a ping stuck behind busy queries is "busy", not down, while queries keep succeeding', async () => {
    s = await startOpsApp({
      trailDir: trail.dir,
      env: { READINESS_TIMEOUT_MS: '100' },
      engine: (real) => Object.assign(Object.create(real) as Engine, { ping: () => new Promise<void>(() => undefined) }),
    });
    const before = await fetch(`${s.origin}/readyz`);
    expect(before.status).toBe(503); // no query has succeeded yet: a silent engine is down
    expect((await s.gql(ACTIONS, { f: hour })).status).toBe(200);
    const during = await fetch(`${s.origin}/readyz`);
    expect(during.status).toBe(200);
    expect(((await during.json()) as { checks: { engine: unknown } }).checks.engine).toEqual({ status: 'ok', engine: 'duckdb', error: 'busy' });
  });

  test('REQUEST_ENGINE_BUDGET_MS=500: 8 parallel aliased heavy queries are cancelled when it is spent, with a coded error and every cost reported', async () => {
    let gated!: GatedEngine;
    s = await startOpsApp({
      trailDir: trail.dir,
      env: { REQUEST_ENGINE_BUDGET_MS: '500', ENGINE_MAX_CONCURRENT: '8' },
      engine: (real) => (gated = new GatedEngine(real)), // never released: only the budget ends them
    });
    const aliases = Array.from({ length: 8 }, (_, i) => `q${i}: actions(filter: $f${i}) { action calls }`);
    const query = `query(${aliases.map((_, i) => `$f${i}: ApiCallFilter`).join(', ')}) { ${aliases.join(' ')} }`;
    const res = await s.gql(query, Object.fromEntries(aliases.map((_, i) => [`f${i}`, month(i)])));
    // The fields are non-null: the first error ends the whole operation (data null) ...
    expect(res.body.data).toBeNull();
    expect(res.body.errors.length).toBeGreaterThanOrEqual(1);
    for (const e of res.body.errors) expect(e.extensions).toMatchObject({ code: 'ENGINE_BUDGET_EXHAUSTED', resource: 'engineMs', limit: 500 });
    // ... and the cost report still lists every query that reached the engine, all running in
    // parallel; an alias reaching its turn after the budget was spent never started.
    const cost = res.body.extensions.cost;
    const started = gated.events.filter((e) => e === 'wait').length;
    expect(started).toBeGreaterThanOrEqual(2);
    expect(cost.queries).toHaveLength(started);
    expect(gated.events.filter((e) => e === 'cancelled')).toHaveLength(started);
    for (const q of cost.queries) expect(q).toMatchObject({ outcome: 'cancelled', cached: false, cancelLatencyMs: expect.any(Number) });
    // Engine time is the budget plus, per query running when it was spent, the time it took to stop.
    const latency = cost.queries.reduce((a: number, q: { cancelLatencyMs: number }) => a + q.cancelLatencyMs, 0);
    expect(cost.totals.engineMs).toBeLessThanOrEqual(500 + latency + cost.queries.length);
    expect(cost.totals.engineMs).toBeGreaterThanOrEqual(500 - cost.queries.length);
    expect(cost.budgets).toEqual([expect.objectContaining({ resource: 'engineMs', limit: 500, exhausted: true })]);
  });
});
