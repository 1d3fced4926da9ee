/**
 * Admission control in front of the engine: a bounded number of engine queries run at once, the
 * others wait in a queue with a deadline, and a query's lane is decided before it runs from the
 * day folders it reads (`PartitionSpec.days`, known from the plan):
 *
 * - light (at most `heavyDays` days, such as an hour or a day with the delivery margin) may take
 *   any free slot and is served first when a slot frees;
 * - heavy (a week, a month) never takes the last free slot, so a light query always finds one,
 *   or is next in line, however many heavy queries wait.
 *
 * A lane whose queue is full refuses at once, and a query that waited `queueTimeoutMs` gives up:
 * both with ENGINE_BUSY (HTTP 503 and Retry-After), never a hanging request. Readiness pings do
 * not pass through here.
 *
 * A query of a request that already ran one (`continuing`) waits ahead of the queries of requests
 * that have run none: under overload, requests already admitted finish first, instead of engine
 * time going to requests that then time out halfway. The queue keeps its length: a full one
 * refuses a continuing query too (that request's statements so far are lost, never the bound).
 */
import { CompiledQuery } from './engine';
import { EngineError, UnavailableError } from '../errors';
import { AdmissionConfig } from '../config';

export type Lane = 'light' | 'heavy';

/** A slot held by a running query; release it exactly once when the query ends. */
export interface Slot {
  readonly lane: Lane;
  /** Milliseconds the query waited for its slot. */
  readonly waitedMs: number;
  release(): void;
}

export interface AdmissionState {
  readonly limit: number;
  readonly running: Record<Lane, number>;
  readonly queued: Record<Lane, number>;
}

interface Waiter {
  readonly lane: Lane;
  readonly continuing: boolean;
  readonly since: number;
  readonly grant: (slot: Slot) => void;
  readonly fail: (err: Error) => void;
}

export class Admission {
  private readonly running: Record<Lane, number> = { light: 0, heavy: 0 };
  private readonly queues: Record<Lane, Waiter[]> = { light: [], heavy: [] };
  /** Total queries refused (full queue or deadline), by lane. */
  readonly refused: Record<Lane, number> = { light: 0, heavy: 0 };

  /** `limit`: slots, the lower of the configured limit and what the engine can hold. */
  constructor(
    private readonly config: Pick<AdmissionConfig, 'queueLength' | 'queueTimeoutMs' | 'heavyDays'>,
    readonly limit: number,
  ) {}

  laneOf(query: Pick<CompiledQuery, 'partitions'>): Lane {
    return query.partitions.days.length > this.config.heavyDays ? 'heavy' : 'light';
  }

  state(): AdmissionState {
    return { limit: this.limit, running: { ...this.running }, queued: { light: this.queues.light.length, heavy: this.queues.heavy.length } };
  }

  /** Seconds a refused client is asked to wait: the queue's deadline, at least one second. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.config.queueTimeoutMs / 1000));
  }

  /**
   * Waits for a slot in the query's lane; rejects with ENGINE_BUSY, or an EngineError when `signal`
   * aborts. `continuing`: the query's request already ran one.
   */
  acquire(query: Pick<CompiledQuery, 'partitions'>, signal?: AbortSignal, continuing = false): Promise<Slot> {
    const lane = this.laneOf(query);
    if (signal?.aborted) return Promise.reject(new EngineError('query abandoned before it started', 'admission'));
    if (this.queues[lane].length === 0 && this.mayStart(lane)) return Promise.resolve(this.start(lane, performance.now()));
    if (this.queues[lane].length >= this.config.queueLength) {
      this.refused[lane] += 1;
      return Promise.reject(this.busy(lane, 'is full'));
    }
    return new Promise<Slot>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        const queue = this.queues[lane];
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
      };
      const waiter: Waiter = {
        lane,
        continuing,
        since: performance.now(),
        grant: (slot) => {
          settle();
          resolve(slot);
        },
        fail: (err) => {
          settle();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.refused[lane] += 1;
        waiter.fail(this.busy(lane, `had no free slot within ${this.config.queueTimeoutMs} ms`));
      }, this.config.queueTimeoutMs);
      const abort = () => waiter.fail(new EngineError('query abandoned while queued', 'admission'));
      signal?.addEventListener('abort', abort, { once: true });
      const queue = this.queues[lane];
      // Behind the other continuing queries, ahead of every query of a request that ran none.
      const at = continuing ? queue.findIndex((w) => !w.continuing) : -1;
      if (at >= 0) queue.splice(at, 0, waiter);
      else queue.push(waiter);
    });
  }

  private busy(lane: Lane, why: string): UnavailableError {
    return new UnavailableError(`The engine is busy: the queue for ${lane} queries ${why}. Retry later.`, 'ENGINE_BUSY', this.retryAfterSeconds);
  }

  private free(): number {
    return this.limit - this.running.light - this.running.heavy;
  }

  /** Heavy queries leave one slot free for light ones (unless there is only one slot and no light query waits). */
  private mayStart(lane: Lane): boolean {
    if (this.free() <= 0) return false;
    if (lane === 'light') return true;
    if (this.limit === 1) return this.queues.light.length === 0;
    return this.running.heavy < this.limit - 1;
  }

  private start(lane: Lane, since: number): Slot {
    this.running[lane] += 1;
    let released = false;
    return {
      lane,
      waitedMs: performance.now() - since,
      release: () => {
        if (released) return;
        released = true;
        this.running[lane] -= 1;
        this.pump();
      },
    };
  }

  /** Hands free slots to waiters: light first, then heavy while heavy may start. */
  private pump(): void {
    for (;;) {
      const lane: Lane | undefined =
        this.queues.light.length && this.mayStart('light') ? 'light' : this.queues.heavy.length && this.mayStart('heavy') ? 'heavy' : undefined;
      if (!lane) return;
      const waiter = this.queues[lane][0];
      waiter.grant(this.start(lane, waiter.since));
    }
  }
}
