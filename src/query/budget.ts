/**
 * Per-request budgets of engine resources, enforced across the request's parallel queries.
 *
 * A budget is one resource with a limit: engine milliseconds (EngineTimeBudget) here; bytes
 * scanned (billed engines) plugs in the same way, as another subclass. For every engine query the
 * runner (runner.ts):
 * 1. `reserve()`s a lease before the query starts: refused with ENGINE_BUDGET_EXHAUSTED once the
 *    budget is spent, so no query starts after that;
 * 2. runs the query with the budget's `exhausted` signal, which cancels every query of the request
 *    still running the moment the budget is spent;
 * 3. `charge()`s the lease with what the query actually used, whether it succeeded, failed or was
 *    cancelled.
 * A resource the engine reports only at the end (bytes) is checked at each charge; a resource
 * that accrues while queries run (time) also counts its open leases (`accruing`) and sets a timer
 * for the moment they would spend what is left.
 */
import { BudgetExhaustedError } from '../errors';

/** What one engine query used. */
export interface Usage {
  readonly engineMs: number;
  readonly bytesScanned: number;
}

export interface Lease {
  /** Records what the query used and closes the lease; later calls do nothing. */
  charge(usage: Usage): void;
}

export abstract class Budget {
  private readonly controller = new AbortController();
  protected spentSoFar = 0;
  protected readonly open = new Set<{ readonly since: number }>();

  constructor(
    /** Name for the error and the cost report (`engineMs`, `bytesScanned`). */
    readonly resource: string,
    readonly limit: number,
  ) {}

  /** Aborted once the budget is spent: every query of the request listens to it. */
  get exhausted(): AbortSignal {
    return this.controller.signal;
  }

  /** Used by closed leases, plus what open leases have used so far. */
  get spent(): number {
    return this.spentSoFar + this.accruing();
  }

  /** The part of a query's usage this budget counts. */
  protected abstract amount(usage: Usage): number;

  /** What open leases have used so far (up to `now`); 0 for resources known only at the end. */
  protected accruing(_now?: number): number {
    return 0;
  }

  /** Called when leases open or close: subclasses re-arm their timers. */
  protected rearm(): void {}

  /** The error a query refused or cancelled by this budget ends with. */
  error(): BudgetExhaustedError {
    return new BudgetExhaustedError(this.resource, this.limit, this.spent);
  }

  /** A lease for one query; throws ENGINE_BUDGET_EXHAUSTED when the budget is spent. */
  reserve(): Lease {
    if (this.exhausted.aborted || this.spent >= this.limit) {
      this.cancel();
      throw this.error();
    }
    const entry = { since: performance.now() };
    this.open.add(entry);
    this.rearm();
    let closed = false;
    return {
      charge: (usage: Usage) => {
        if (closed) return;
        closed = true;
        this.open.delete(entry);
        this.spentSoFar += Math.max(0, this.amount(usage));
        if (this.spentSoFar >= this.limit) this.cancel();
        else this.rearm();
      },
    };
  }

  /**
   * When (performance.now()) the budget was spent: the moment it ran out, even when the timer
   * noticed later (a busy event loop fires timers late), so a query's cancellation latency counts
   * that delay too.
   */
  cancelledAt: number | undefined;

  /** Spends the budget (it ran out at `at`, default now): cancels the queries running and refuses the next ones. */
  cancel(at?: number): void {
    if (!this.exhausted.aborted) {
      this.cancelledAt = Math.min(at ?? Infinity, performance.now());
      this.controller.abort(this.error());
    }
    this.rearm();
  }
}

/**
 * Engine time (milliseconds of engine calls, summed over parallel queries). With `n` queries
 * open and `r` milliseconds left, the budget is spent `r / n` milliseconds from now: a timer
 * cancels them then. What they use beyond it is the time the engine takes to stop.
 */
export class EngineTimeBudget extends Budget {
  private timer: NodeJS.Timeout | undefined;

  constructor(limitMs: number) {
    super('engineMs', limitMs);
  }

  protected amount(usage: Usage): number {
    return usage.engineMs;
  }

  protected override accruing(now = performance.now()): number {
    let ms = 0;
    for (const lease of this.open) ms += now - lease.since;
    return ms;
  }

  protected override rearm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.exhausted.aborted || this.open.size === 0) return;
    const now = performance.now();
    const left = this.limit - this.spentSoFar - this.accruing(now);
    if (left <= 0) {
      this.cancel();
      return;
    }
    // The exact moment the open leases spend what is left (the timer, in whole milliseconds,
    // fires at or after it): the queries' time up to then adds up to the limit, no more.
    const due = now + left / this.open.size;
    this.timer = setTimeout(() => this.cancel(due), Math.ceil(left / this.open.size));
    this.timer.unref();
  }
}
