/**
 * The engine-time budget runs out at its limit: with queries open in parallel, the moment it
 * records as spent is the one where their time adds up to the limit, never later, even when a busy
 * event loop fires the timer late (what the queries use past that moment is their cancellation
 * latency).
 *
 * The clock is the test's: `performance.now()` reads a variable and timers are Jest's, so the
 * figures are exact and a busy machine (a pause between two reservations) changes nothing.
 */
import { EngineTimeBudget } from '../src/query/budget';

let clock = 0;

beforeEach(() => {
  clock = 0;
  jest.useFakeTimers({ doNotFake: ['performance'] });
  jest.spyOn(performance, 'now').mockImplementation(() => clock);
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** Opens `open` leases one millisecond apart, as a request's parallel queries start. */
function openLeases(budget: EngineTimeBudget, open: number) {
  const started: number[] = [];
  const leases = Array.from({ length: open }, (_, i) => {
    clock = i;
    started.push(clock);
    return budget.reserve();
  });
  return { leases, started };
}

/** What the leases opened at `started` have used at `at`. */
const usedAt = (started: number[], at: number) => started.reduce((sum, since) => sum + (at - since), 0);

test.each([
  [10, 3, 0],
  [25, 7, 0],
  [40, 1, 0],
  [10, 3, 30],
  [25, 7, 100],
])(
  'a budget of %i ms with %i queries open is spent when their time adds up to the limit (timer %i ms late)',
  (limit, open, late) => {
    const budget = new EngineTimeBudget(limit);
    const { started } = openLeases(budget, open);
    const last = clock;
    const exactly = last + (limit - usedAt(started, last)) / open;
    expect(usedAt(started, exactly)).toBeCloseTo(limit, 9);

    // Not spent a moment before.
    clock = exactly - 0.01;
    jest.advanceTimersByTime(Math.floor(clock - last));
    expect(budget.exhausted.aborted).toBe(false);
    expect(budget.spent).toBeLessThan(limit);

    // The loop gets round to the timer `late` milliseconds after it was due.
    clock = Math.ceil(exactly) + late;
    jest.advanceTimersByTime(Math.ceil(exactly) + late);
    expect(budget.exhausted.aborted).toBe(true);
    expect(budget.cancelledAt).toBeCloseTo(exactly, 9);
    expect(usedAt(started, budget.cancelledAt!)).toBeCloseTo(limit, 9);
    // No query starts once it is spent.
    expect(() => budget.reserve()).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'ENGINE_BUDGET_EXHAUSTED' }) }));
  },
);

test('a query that ends early gives its time back to the others: the moment moves later', () => {
  const budget = new EngineTimeBudget(12);
  const { leases } = openLeases(budget, 3); // opened at 0, 1, 2
  clock = 3; // used so far: 3 + 2 + 1 = 6
  leases[0].charge({ engineMs: 3, bytesScanned: 0 });
  // Two open, 6 left: each has 3 more milliseconds, due at 6.
  jest.advanceTimersByTime(2);
  clock = 5.9;
  expect(budget.exhausted.aborted).toBe(false);
  clock = 6;
  jest.advanceTimersByTime(10);
  expect(budget.exhausted.aborted).toBe(true);
  expect(budget.cancelledAt).toBeCloseTo(6, 9);
});

test('a charge that reaches the limit spends the budget at once', () => {
  const budget = new EngineTimeBudget(10);
  const lease = budget.reserve();
  clock = 1;
  lease.charge({ engineMs: 10, bytesScanned: 0 });
  expect(budget.exhausted.aborted).toBe(true);
  expect(budget.cancelledAt).toBe(1);
  expect(() => budget.reserve()).toThrow();
});
