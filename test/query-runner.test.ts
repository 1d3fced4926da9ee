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

test('under overload, a request that already ran a query gets its next one queued, not refused', async () => {
  const engine: Engine = { ...holdingEngine().engine, execute: async () => ({ rows: [], stats: { engineMs: 0, bytesScanned: 0 } }) };
  const admission = new Admission({ queueLength: 1, queueTimeoutMs: 60_000, heavyDays: 3 }, 1);
  const runner = new QueryRunner(engine, { admission });
  await runner.run(query);
  // Another request holds the one slot and one waits: the queue is full.
  const held = await admission.acquire(query);
  const waiting = admission.acquire(query);
  await expect(new QueryRunner(engine, { admission }).run(query)).rejects.toBeInstanceOf(UnavailableError);
  const next = runner.run({ ...query, sql: 'SELECT 2' }).catch((err: unknown) => err);
  expect(admission.state().queued.light).toBe(2);
  held.release();
  expect(await next).toEqual([]);
  (await waiting).release();
});
