/**
 * The cache layer between the compiler and the engine. For each compiled query it answers from
 * the store when it can; otherwise it runs the engine once for every identical query asked at
 * the same time (in this process through a shared promise, across instances through a short
 * lock in the store) and keeps the answer for as long as its window allows.
 *
 * No request fails because of the cache: every store call is caught, bounded in time by the
 * store, logged (rate-limited) and counted, and the request is then answered by the engine.
 */
import { createHmac } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { CompiledQuery, Engine, Row } from '../query/engine';
import { Logger } from '../logger';
import { BudgetExhaustedError } from '../errors';
import { ScanBudgetError } from '../query/scan-budget';
import { AnswerReuse, CacheRunOptions, QueryCacheLayer, QueryReport, cachedReport } from '../query/runner';
import { CacheStore, TtlPolicy, cacheKey, cacheSalt, lockKeyOf, ttlFor } from './cache';
import { CacheEntry, InvalidEntryError, declaredBodyBytes, decodeEntry, encodeEntry } from './codec';

type Answer = { rows: Row[]; report: QueryReport };
type Exec = () => Promise<Answer>;

/** Counters since start. Every call through the layer ends in exactly one of hits, waited, misses, coalesced, bypassed. */
export interface CacheStats {
  readonly backend: 'redis' | 'memory' | 'off';
  /** The store is reachable right now. */
  readonly connected: boolean;
  /** Answered from the store. */
  readonly hits: number;
  /** Answered from the store after waiting for another instance to compute the answer. */
  readonly waited: number;
  /** Answered by the engine (nothing usable stored, nobody computing it). */
  readonly misses: number;
  /** Answered by an identical query already running in this process. */
  readonly coalesced: number;
  /** Asked not to use cached answers (the fresh answer is still stored). */
  readonly bypassed: number;
  /** Answers written to the store. */
  readonly stores: number;
  /** Store operations that failed (unreachable, timed out, refused). */
  readonly errors: number;
  /** Stored entries rejected on read (corrupt, foreign, wrong key): treated as misses. */
  readonly invalid: number;
  /** Connection-level errors reported by the store's client. */
  readonly connectionErrors: number;
}

export interface QueryCacheOptions {
  /** Undefined: caching is off and every query goes to the engine. */
  readonly store: CacheStore | undefined;
  readonly policy: TtlPolicy;
  /** How long to wait for another instance computing the same answer; 0 disables the cross-instance lock. */
  readonly lockWaitMs: number;
  readonly logger: Logger;
  /** Key of the HMAC every stored entry carries (CACHE_SECRET); entries without a valid one are misses. */
  readonly secret: string;
  /** Clock for the TTL policy (tests). */
  readonly now?: () => Date;
  /** Overrides the version salt of the keys (tests). */
  readonly salt?: string;
  /** Encoded answers larger than this are not stored. */
  readonly maxEntryBytes?: number;
  /** Upper bound on any one store operation, whatever the store does (default 1 s). */
  readonly opTimeoutMs?: number;
}

/** The rows, and the engine's report when the engine produced them (none when they came from the store). */
type Outcome = { rows: Row[]; report?: QueryReport };

interface Flight {
  readonly promise: Promise<Outcome>;
  readonly signal?: AbortSignal;
}

const DEFAULT_MAX_ENTRY_BYTES = 8 * 1024 * 1024;
const DEFAULT_OP_TIMEOUT_MS = 1000;
/** At most one warning per this interval while the store keeps failing. */
const LOG_INTERVAL_MS = 10_000;
const POLL_FIRST_MS = 5;
const POLL_MAX_MS = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class CacheTimeoutError extends Error {
  constructor(op: string, ms: number) {
    super(`cache ${op} took longer than ${ms} ms`);
    this.name = 'CacheTimeoutError';
  }
}

/** `rejected`: a miss because the entry there was refused (it stays, until an answer is stored over it). */
type Lookup = { status: 'hit'; entry: CacheEntry } | { status: 'miss'; rejected?: true } | { status: 'error' };

/** An entry as decoded from these very bytes. */
interface Decoded {
  readonly raw: Buffer;
  readonly entry: CacheEntry;
}

/** Bound of the decoded entries kept: their stored bytes and twice their JSON (the objects it became). */
const DECODED_MAX_BYTES = 32 * 1024 * 1024;
const DECODED_MAX_ENTRIES = 1000;

export class QueryCache implements QueryCacheLayer {
  private readonly flights = new Map<string, Flight>();
  /**
   * The last entry decoded under each recent key, with its bytes: a hit whose stored
   * bytes are exactly those is not authenticated, inflated, parsed and checked again. Other bytes
   * (rewritten, forged, corrupt) are decoded as ever.
   */
  private readonly decoded = new LRUCache<string, Decoded>({
    max: DECODED_MAX_ENTRIES,
    maxSize: DECODED_MAX_BYTES,
    sizeCalculation: (d) => Math.max(1, d.raw.length + 2 * declaredBodyBytes(d.raw)),
  });
  private readonly counters = { hits: 0, waited: 0, misses: 0, coalesced: 0, bypassed: 0, stores: 0, errors: 0, invalid: 0, connectionErrors: 0 };
  private readonly salt: string;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private lastWarnAt = -Infinity;
  private suppressed = 0;

  constructor(private readonly options: QueryCacheOptions) {
    // Keys are the secret's own: instances holding another secret (a rotation under way) keep
    // their entries apart instead of taking each other's for forgeries.
    this.salt = JSON.stringify([options.salt ?? cacheSalt(), createHmac('sha256', options.secret).update('trailql cache keys').digest('hex')]);
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger.child({ component: 'cache' });
  }

  get keeps(): boolean {
    return this.options.store !== undefined;
  }

  get backend(): CacheStats['backend'] {
    return this.options.store?.kind ?? 'off';
  }

  stats(): CacheStats {
    return { backend: this.backend, connected: this.options.store?.connected() ?? false, ...this.counters };
  }

  /** The store's key for a compiled query (inspection and tests); `fingerprint` from `Engine.fingerprint`. */
  keyFor(engine: Pick<Engine, 'name' | 'sourceId'>, query: CompiledQuery, fingerprint?: string, partition?: string): string {
    return cacheKey(engine, query, this.salt, fingerprint, partition);
  }

  /**
   * An answer that left out unreadable files is never stored (the next ask reads again, and a
   * repaired file counts at once); only complete answers are. One shared with an identical query
   * running at the same time carries the same files left out.
   */
  async run(engine: Engine, query: CompiledQuery, exec: Exec, options: CacheRunOptions = {}): Promise<Answer & { reuse?: AnswerReuse }> {
    const store = this.options.store;
    if (!store) return exec();
    // A trail that cannot be read fails here, before anything is looked up or stored.
    const fingerprint = await engine.fingerprint?.(query);
    // Files changing now: no answer over them is kept, nor taken for theirs; identical statements
    // running together still share one run (under a key no kept answer has).
    const settled = fingerprint !== null;
    let key: string;
    let ttlMs: number;
    let closed: boolean;
    try {
      key = this.keyFor(engine, query, fingerprint ?? undefined, options.partition) + (settled ? '' : ':unsettled');
      ({ ttlMs, closed } = ttlFor(query.window, this.now(), this.options.policy, fingerprint !== undefined));
    } catch (err) {
      this.failed('key', err);
      return exec();
    }
    if (options.noCache) {
      this.counters.bypassed += 1;
      const answer = await exec();
      if (settled && complete(answer.report)) await this.save(store, key, answer.rows, ttlMs);
      return answer;
    }
    /** A complete answer over an ended window may be given again while its files stay as they were. */
    const reusable = (report: QueryReport) =>
      settled && closed && complete(report) ? { reuse: { ttlMs, ...(fingerprint === undefined ? {} : { fingerprint }) } } : {};
    const running = this.flights.get(key);
    if (running) {
      this.counters.coalesced += 1;
      try {
        const { rows, report } = await running.promise;
        const shared = hitReport(engine, query, rows, report);
        return { rows: rows.slice(), report: shared, ...reusable(shared) };
      } catch (err) {
        // The query was cancelled because the request that started it went away, or refused by
        // that request's own budget: not our failure.
        if ((running.signal?.aborted || err instanceof BudgetExhaustedError || err instanceof ScanBudgetError) && !options.signal?.aborted) {
          this.counters.coalesced -= 1;
          return this.run(engine, query, exec, options);
        }
        throw err;
      }
    }
    const flight: Flight = { promise: settled ? this.lead(store, key, ttlMs, exec, options.signal) : exec(), signal: options.signal };
    this.flights.set(key, flight);
    try {
      const { rows, report } = await flight.promise;
      const made = report ?? hitReport(engine, query, rows);
      return { rows, report: made, ...reusable(made) };
    } finally {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    }
  }

  /**
   * Store, else another instance's computation, else the engine (and store the answer). The wait
   * for another instance ends with the request (`signal`).
   */
  private async lead(store: CacheStore, key: string, ttlMs: number, exec: Exec, signal?: AbortSignal): Promise<Outcome> {
    const found = await this.lookup(store, key);
    if (found.status === 'hit') {
      this.counters.hits += 1;
      return { rows: found.entry.rows };
    }
    let token: string | undefined;
    const lockKey = lockKeyOf(key);
    if (found.status === 'miss' && store.lock && this.options.lockWaitMs > 0) {
      const lock = await this.tryLock(store, lockKey);
      if (lock.held) {
        const entry = await this.waitForOther(store, key, lockKey, Date.now() + this.options.lockWaitMs, signal);
        if (entry) {
          this.counters.waited += 1;
          return { rows: entry.rows };
        }
      } else if (lock.token) {
        token = lock.token;
        // The previous holder may have stored the answer and released the lock since our lookup
        // (an entry refused again is counted once).
        const again = await this.lookup(store, key, !(found.status === 'miss' && found.rejected));
        if (again.status === 'hit') {
          await this.unlock(store, lockKey, token);
          this.counters.hits += 1;
          return { rows: again.entry.rows };
        }
      }
    }
    this.counters.misses += 1;
    try {
      const answer = await exec();
      if (complete(answer.report)) await this.save(store, key, answer.rows, ttlMs);
      return answer;
    } finally {
      if (token) await this.unlock(store, lockKey, token);
    }
  }

  private async lookup(store: CacheStore, key: string, report = true): Promise<Lookup> {
    let raw: Buffer | undefined;
    try {
      raw = await this.bounded('get', store.get(key));
    } catch (err) {
      this.failed('get', err);
      return { status: 'error' };
    }
    if (raw === undefined) return { status: 'miss' };
    const known = this.decoded.get(key);
    // Callers may reorder or trim the rows they get, never change a row: share the rows, not the list.
    if (known && known.raw.equals(raw)) return { status: 'hit', entry: { ...known.entry, rows: known.entry.rows.slice() } };
    try {
      const entry = await decodeEntry(key, raw, this.options.secret);
      this.decoded.set(key, { raw, entry: { ...entry, rows: entry.rows.slice() } });
      return { status: 'hit', entry };
    } catch (err) {
      if (report) {
        this.counters.invalid += 1;
        this.warn({ op: 'decode', err: describe(err), bytes: raw.length }, err instanceof InvalidEntryError ? 'cache entry rejected, treated as a miss' : 'cache entry unreadable, treated as a miss');
      }
      // Not deleted: the answer computed now is stored over it.
      return { status: 'miss', rejected: true };
    }
  }

  private async save(store: CacheStore, key: string, rows: Row[], ttlMs: number): Promise<void> {
    if (!store.connected()) return; // the lookup already counted the outage
    try {
      const value = await encodeEntry(key, { rows, storedAt: Date.now() }, this.options.secret);
      if (value.length > (this.options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES)) {
        this.logger.debug({ bytes: value.length }, 'answer too large to cache');
        return;
      }
      await this.bounded('set', store.set(key, value, ttlMs));
      this.counters.stores += 1;
    } catch (err) {
      this.failed('set', err);
    }
  }

  private async tryLock(store: CacheStore, lockKey: string): Promise<{ token?: string; held: boolean }> {
    try {
      const token = await this.bounded('lock', store.lock!(lockKey, Math.max(this.options.lockWaitMs, 1000)));
      return token ? { token, held: false } : { held: true };
    } catch (err) {
      this.failed('lock', err);
      return { held: false };
    }
  }

  private async unlock(store: CacheStore, lockKey: string, token: string): Promise<void> {
    try {
      await this.bounded('unlock', store.unlock!(lockKey, token));
    } catch (err) {
      this.failed('unlock', err); // the lock expires on its own
    }
  }

  /** Polls for the answer another instance is computing, until it appears, the lock goes, or the deadline. */
  private async waitForOther(store: CacheStore, key: string, lockKey: string, deadline: number, signal?: AbortSignal): Promise<CacheEntry | undefined> {
    let delay = POLL_FIRST_MS;
    while (Date.now() < deadline && !signal?.aborted) {
      await sleep(Math.min(delay, deadline - Date.now()));
      delay = Math.min(delay * 2, POLL_MAX_MS);
      const found = await this.lookup(store, key);
      if (found.status === 'hit') return found.entry;
      if (found.status === 'error') return undefined;
      let locked: boolean;
      try {
        locked = await this.bounded('lock', store.isLocked!(lockKey));
      } catch (err) {
        this.failed('lock', err);
        return undefined;
      }
      if (!locked) {
        // Released: the holder stored the answer just before, or gave up.
        const last = await this.lookup(store, key);
        return last.status === 'hit' ? last.entry : undefined;
      }
    }
    return undefined;
  }

  /** The store operation's result, or a CacheTimeoutError once opTimeoutMs has passed. */
  private bounded<T>(op: string, work: Promise<T>): Promise<T> {
    const ms = this.options.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CacheTimeoutError(op, ms)), ms);
    });
    work.catch(() => undefined); // a late failure after the timeout is not unhandled
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** Counts a failed store operation; logs the first of a burst, then one summary per interval. */
  private failed(op: string, err: unknown): void {
    this.counters.errors += 1;
    this.warn({ op, err: describe(err) }, 'cache unavailable, answering from the engine');
  }

  /** The store's client lost or could not make its connection. */
  noteConnectionError(err: unknown): void {
    this.counters.connectionErrors += 1;
    this.warn({ op: 'connect', err: describe(err) }, 'cache connection failed, will retry');
  }

  noteReady(): void {
    if (this.counters.connectionErrors > 0 || this.counters.errors > 0) this.logger.info('cache connected');
  }

  private warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.lastWarnAt < LOG_INTERVAL_MS) {
      this.suppressed += 1;
      return;
    }
    this.logger.warn({ ...fields, suppressed: this.suppressed }, message);
    this.lastWarnAt = now;
    this.suppressed = 0;
  }

  async close(): Promise<void> {
    await this.options.store?.close();
  }
}

/** A hit cost this request nothing; rows shared from a running query left out what it left out. */
const hitReport = (engine: Engine, query: CompiledQuery, rows: Row[], shared?: QueryReport): QueryReport =>
  cachedReport({ label: query.label, engine: engine.name, rows: rows.length, unreadable: shared?.unreadable });

/** The answer read every file it should have: only such answers are stored. */
function complete(report: QueryReport): boolean {
  return !report.unreadable?.length;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
