/**
 * Liveness and readiness: /healthz answers while the process serves, /readyz while the engine
 * answers its ping and the schema is built; the cache's state is reported but never makes the
 * service unready.
 */
import * as fs from 'node:fs';
import { createCache } from '../src/cache';
import { loadConfig } from '../src/config';
import { Engine } from '../src/query/engine';
import { OpsApp, captureLogs, startOpsApp } from './support/ops';
import { sampleTrail, useSampleTrail } from './support/trails';

const trail = useSampleTrail(1, { iotEventsPerDay: 40, deliveryMinutes: 30 });

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

/** Wraps the real engine with a replaced ping. */
const withPing = (ping: () => Promise<void>) => (real: Engine): Engine => ({
  name: real.name,
  capabilities: real.capabilities,
  sourceId: real.sourceId,
  execute: (q, o) => real.execute(q, o),
  ping,
  close: () => real.close(),
});

describe('a healthy service', () => {
  let s: OpsApp;
  beforeAll(async () => {
    s = await startOpsApp({ trailDir: trail.dir, cache: createCache(loadConfig({}), captureLogs().logger) });
  });
  afterAll(() => s.close());

  test('/healthz answers 200 {status: ok}, not cacheable', async () => {
    const res = await fetch(`${s.origin}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('/readyz answers 200 with the engine, cache and schema checks', async () => {
    const { status, body } = await get(`${s.origin}/readyz`);
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'ready',
      checks: {
        engine: { status: 'ok', engine: 'duckdb', ms: expect.any(Number) },
        cache: { status: 'ok', backend: 'memory' },
        schema: { status: 'ok' },
        data: { status: 'ok', unreadableFiles: 0 },
      },
    });
  });

  test('the probes need no credentials', async () => {
    // startOpsApp requires an API key for /graphql; the probes are answered without one.
    expect((await fetch(`${s.origin}/readyz`)).status).toBe(200);
    expect((await fetch(`${s.origin}/healthz`)).status).toBe(200);
  });
});

describe('readiness fails when the engine cannot be reached', () => {
  test('the trail folder disappears after start: 503 with the reason, and ready again once it is back', async () => {
    const own = await sampleTrail(1, { iotEventsPerDay: 5, deliveryMinutes: 60 });
    const logs = captureLogs();
    const s = await startOpsApp({ trailDir: own, logger: logs.logger });
    try {
      expect((await get(`${s.origin}/readyz`)).status).toBe(200);
      const moved = `${own}-moved`;
      fs.renameSync(own, moved);
      const down = await get(`${s.origin}/readyz`);
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('not ready');
      expect(down.body.reasons).toEqual(['engine: duckdb cannot be reached (ENOENT)', 'data: the trail folder does not exist']);
      expect(down.body.checks.engine).toEqual({ status: 'down', engine: 'duckdb', error: 'ENOENT' });
      expect(down.body.checks.schema).toEqual({ status: 'ok' });
      // The process itself is fine.
      expect((await get(`${s.origin}/healthz`)).status).toBe(200);
      // Logged once per change, with the detail the probe does not show.
      await get(`${s.origin}/readyz`);
      const warnings = logs.lines().filter((l) => l.msg === 'engine cannot be reached: not ready');
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0].err)).toContain('ENOENT');

      fs.renameSync(moved, own);
      expect((await get(`${s.origin}/readyz`)).status).toBe(200);
      expect(logs.lines().some((l) => l.msg === 'engine reachable again')).toBe(true);
    } finally {
      await s.close();
      fs.rmSync(own, { recursive: true, force: true });
      fs.rmSync(`${own}-moved`, { recursive: true, force: true });
    }
  });

  test('a ping that throws: 503', async () => {
    const s = await startOpsApp({
      trailDir: trail.dir,
      engine: withPing(async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
      }),
    });
    try {
      const { status, body } = await get(`${s.origin}/readyz`);
      expect(status).toBe(503);
      expect(body.reasons).toEqual(['engine: duckdb cannot be reached (ECONNREFUSED)']);
      expect(JSON.stringify(body)).not.toContain('10.0.0.1');
    } finally {
      await s.close();
    }
  });

  test('a ping that never answers: 503 after READINESS_TIMEOUT_MS', async () => {
    const s = await startOpsApp({ trailDir: trail.dir, env: { READINESS_TIMEOUT_MS: '100' }, engine: withPing(() => new Promise<void>(() => undefined)) });
    try {
      const { status, body } = await get(`${s.origin}/readyz`);
      expect(status).toBe(503);
      expect(body.checks.engine).toEqual({ status: 'down', engine: 'duckdb', error: 'timeout' });
    } finally {
      await s.close();
    }
  });
});

describe('the cache does not decide readiness', () => {
  test('Redis unreachable: still ready, cache reported down (answers from the engine)', async () => {
    const logs = captureLogs();
    // Nothing listens on port 1: every connection attempt is refused.
    const cache = createCache(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), logs.logger, { commandTimeoutMs: 100 });
    const s = await startOpsApp({ trailDir: trail.dir, cache });
    try {
      const { status, body } = await get(`${s.origin}/readyz`);
      expect(status).toBe(200);
      expect(body.status).toBe('ready');
      expect(body.checks.cache).toEqual({ status: 'down', backend: 'redis', detail: 'answers from the engine' });
    } finally {
      await s.close();
      await cache.close();
    }
  });

  test('cache turned off: reported off, ready', async () => {
    const cache = createCache(loadConfig({ CACHE_ENABLED: 'false' }), captureLogs().logger);
    const s = await startOpsApp({ trailDir: trail.dir, cache });
    try {
      const { status, body } = await get(`${s.origin}/readyz`);
      expect(status).toBe(200);
      expect(body.checks.cache).toEqual({ status: 'off', backend: 'off', detail: 'answers from the engine' });
    } finally {
      await s.close();
    }
  });
});

test('once shutdown starts, both probes answer 503', async () => {
  const s = await startOpsApp({ trailDir: trail.dir });
  try {
    s.app.ops.lifecycle.startDraining();
    expect(await get(`${s.origin}/healthz`)).toEqual({ status: 503, body: { status: 'shutting down' } });
    expect(await get(`${s.origin}/readyz`)).toEqual({ status: 503, body: { status: 'shutting down', reasons: ['shutting down'], checks: {} } });
  } finally {
    await s.close();
  }
});
