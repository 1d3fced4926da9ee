/**
 * The engine-time budget runs out at its limit: with queries open in parallel, the moment it
 * records as spent is the one where their time adds up to the limit, never later (the timer may
 * fire later, in whole milliseconds; what the queries use past that moment is their cancellation
 * latency).
 */
import { EngineTimeBudget } from '../src/query/budget';

test.each([
  [10, 3],
  [25, 7],
  [40, 1],
])('a budget of %i ms with %i queries open is spent when their time adds up to the limit', async (limit, open) => {
  const budget = new EngineTimeBudget(limit);
  const leases = Array.from({ length: open }, () => budget.reserve());
  await new Promise<void>((resolve) => budget.exhausted.addEventListener('abort', () => resolve(), { once: true }));
  const before = performance.now();
  const spentNow = budget.spent;
  const after = performance.now();
  const cancelledAt = budget.cancelledAt!;
  expect(cancelledAt).toBeLessThanOrEqual(before);
  // What the open queries had spent at `cancelledAt` is what they have spent now less what each
  // spent since, which lies between `before - cancelledAt` and `after - cancelledAt`: bounds that
  // hold however long the machine took between the readings.
  const atMost = spentNow - open * (before - cancelledAt);
  const atLeast = spentNow - open * (after - cancelledAt);
  expect(atLeast).toBeLessThanOrEqual(limit + 1e-6);
  // Not much earlier either: Node's timers keep whole milliseconds of a loop clock, so the timer
  // may fire up to about a millisecond before the exact moment.
  expect(atMost).toBeGreaterThanOrEqual(limit - 2 * open);
  for (const l of leases) l.charge({ engineMs: 0, bytesScanned: 0 });
});
