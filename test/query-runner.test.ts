/**
 * A request's runner once its response is decided (`finish`): engine queries still running are
 * cancelled and waited for, and one that reaches the engine afterwards starts cancelled.
 */
import { CompiledQuery, Engine, ExecuteOptions } from '../src/query/engine';
import { QueryRunner } from '../src/query/runner';
import { Admission } from '../src/query/admission';
import { UnavailableError } from '../src/errors';

const query: CompiledQuery = {
  sql: 'SELECT 1',
  params: [],
  partitions: { days: ['2026/03/14'], regions: [], accounts: [] },
  window: { from: new Date('2026-03-14T00:00:00Z'), to: new Date('2026-03-15T00:00:00Z') },
  label: 'apiCalls',
};

/** An engine whose queries run until their signal is aborted, recording whether each started aborted. */
function holdingEngine() {
  const seen: { startedAborted: boolean }[] = [];
  const engine: Engine = {
    name: 'duckdb',
    sourceId: 'duckdb:/test',
    capabilities: { billedByScan: false, cancellable: true },
    execute: (_q: CompiledQuery, options?: ExecuteOptions) => {
      seen.push({ startedAborted: options?.signal?.aborted ?? false });
      return new Promise((_, reject) => {
        const stop = () => reject(new Error('cancelled'));
        if (options?.signal?.aborted) stop();
        else options?.signal?.addEventListener('abort', stop, { once: true });
      });
    },
    ping: async () => undefined,
    close: async () => undefined,
  };
  return { engine, seen };
}

test('finish cancels the engine queries still running and waits for them', async () => {
  const { engine, seen } = holdingEngine();
  const runner = new QueryRunner(engine);
  const running = runner.run(query);
  await new Promise((r) => setImmediate(r));
  expect(seen).toEqual([{ startedAborted: false }]);
  await runner.finish();
  await expect(running).rejects.toThrow('cancelled');
});

test('a query reaching the engine after finish starts cancelled', async () => {
  const { engine, seen } = holdingEngine();
  const runner = new QueryRunner(engine);
  await runner.finish();
  await expect(runner.run(query)).rejects.toThrow('cancelled');
  expect(seen).toEqual([{ startedAborted: true }]);
});

test('under load, a request that already ran a query has its next one served before a new request\'s', async () => {
  const order: string[] = [];
  const engine: Engine = { ...holdingEngine().engine, execute: async (q) => (order.push(q.sql), { rows: [], stats: { engineMs: 0, bytesScanned: 0 } }) };
  const admission = new Admission({ queueLength: 2, queueTimeoutMs: 60_000, heavyDays: 3 }, 1);
  const runner = new QueryRunner(engine, { admission });
  await runner.run(query);
  // Another request holds the one slot; a new request waits, then this one's second query.
  const held = await admission.acquire(query);
  const newcomer = new QueryRunner(engine, { admission }).run({ ...query, sql: 'SELECT new' });
  const next = runner.run({ ...query, sql: 'SELECT 2' });
  expect(admission.state().queued.light).toBe(2);
  held.release();
  await Promise.all([next, newcomer]);
  expect(order).toEqual(['SELECT 1', 'SELECT 2', 'SELECT new']);
});

test('a runner for a later page of a request (continuing) is served before a new request\'s first query', async () => {
  const order: string[] = [];
  const engine: Engine = { ...holdingEngine().engine, execute: async (q) => (order.push(q.sql), { rows: [], stats: { engineMs: 0, bytesScanned: 0 } }) };
  const admission = new Admission({ queueLength: 2, queueTimeoutMs: 60_000, heavyDays: 3 }, 1);
  const held = await admission.acquire(query);
  const newcomer = new QueryRunner(engine, { admission }).run({ ...query, sql: 'SELECT new' });
  const laterPage = new QueryRunner(engine, { admission, continuing: true }).run({ ...query, sql: 'SELECT page 2' });
  held.release();
  await Promise.all([newcomer, laterPage]);
  expect(order).toEqual(['SELECT page 2', 'SELECT new']);
});
