/**
 * A request's runner once its response is decided (`finish`): engine queries still running are
 * cancelled and waited for, and one that reaches the engine afterwards starts cancelled.
 */
import { CompiledQuery, Engine, ExecuteOptions } from '../src/query/engine';
import { QueryRunner } from '../src/query/runner';
import { Admission } from '../src/query/admission';
import { getEventListeners } from 'node:events';
import { EngineError, UnavailableError } from '../src/errors';
import { ScanBudget, ScanBudgetError } from '../src/query/scan-budget';

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

test('a statement is alone only while no other statement of its request is under way', async () => {
  const alone: boolean[] = [];
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const engine: Engine = {
    ...holdingEngine().engine,
    execute: async (_q, options) => {
      alone.push(options!.scope!.alone);
      await gate;
      return { rows: [], stats: { engineMs: 0, bytesScanned: 0 } };
    },
  };
  const runner = new QueryRunner(engine);
  runner.expectOneStatement();
  const both = Promise.all([runner.run(query), runner.run({ ...query, sql: 'SELECT 2' })]);
  await new Promise((r) => setImmediate(r));
  open();
  await both;
  expect(alone).toEqual([false, false]);
  // Both ended: the next one is alone.
  await runner.run({ ...query, sql: 'SELECT 3' });
  expect(alone).toEqual([false, false, true]);
  await runner.finish();
});

describe('a request over several runners (a download\'s pages)', () => {
  const quick: Engine = { ...holdingEngine().engine, execute: async () => ({ rows: [], stats: { engineMs: 0, bytesScanned: 0 } }) };

  test('spends one budget, and no runner stays registered with it once finished', async () => {
    const first = new QueryRunner(quick, { budgetMs: 60_000 });
    await first.run(query);
    await first.finish();
    const { budgets } = first.spending;
    const next = new QueryRunner(quick, { budgetMs: 60_000, spentSoFar: first.spending });
    expect(next.budgets).toBe(budgets);
    expect(getEventListeners(budgets[0]!.exhausted, 'abort')).toHaveLength(1);
    await next.run(query);
    await next.finish();
    expect(getEventListeners(budgets[0]!.exhausted, 'abort')).toHaveLength(0);
  });

  test('a budget already spent refuses the next runner\'s query before it waits for an engine slot', async () => {
    const spent = new QueryRunner(quick, { budgetMs: 0 });
    await expect(spent.run(query)).rejects.toMatchObject({ extensions: { code: 'ENGINE_BUDGET_EXHAUSTED' } });
    await spent.finish();
    // Without the check the query would wait for the slot held here, and be refused as ENGINE_BUSY.
    const admission = new Admission({ queueLength: 2, queueTimeoutMs: 1_000, heavyDays: 3 }, 1);
    const held = await admission.acquire(query);
    try {
      const next = new QueryRunner(quick, { admission, continuing: true, spentSoFar: spent.spending });
      await expect(next.run(query)).rejects.toMatchObject({ extensions: { code: 'ENGINE_BUDGET_EXHAUSTED' } });
      await next.finish();
    } finally {
      held.release();
    }
  });
});

test("a query that failed is charged what it had scanned: in its report and the request's scan budget", async () => {
  const failing: Engine = {
    ...holdingEngine().engine,
    capabilities: { billedByScan: true, cancellable: true },
    execute: async () => {
      throw new EngineError('Athena query q-1 failed (user error): HIVE_BAD_DATA', 'athena', { userError: true, queryId: 'q-1', bytesScanned: 3_000 });
    },
  };
  const scanBudget = new ScanBudget(2_000);
  const runner = new QueryRunner(failing, { scanBudget });
  // The query's own error, not the budget's, though it spent the budget.
  await expect(runner.run(query)).rejects.toThrow('HIVE_BAD_DATA');
  expect(runner.reports).toEqual([expect.objectContaining({ outcome: 'error', bytesScanned: 3_000, queryId: 'q-1' })]);
  // The budget is spent: the request's next query does not start.
  expect(scanBudget.exceeded).toBeInstanceOf(ScanBudgetError);
  await expect(runner.run({ ...query, sql: 'SELECT 2' })).rejects.toBeInstanceOf(ScanBudgetError);
});
