/**
 * Whole GraphQL answers, kept in this process, so that the very same question asked again by the
 * same caller (the same request body under the same key or token) is answered without parsing,
 * validating, planning or looking each statement up again.
 *
 * Only answers that can no longer change are kept: every statement of the request gave a complete
 * answer over a window that had ended (`QueryRunner.reuse`). Such an answer still changes when
 * files arrive late or are replaced, so each one keeps the file state its statements read
 * (`Engine.fingerprint`: the day folders' modification times) and is given again only while that
 * state is unchanged, checked on every hit. A file rewritten in place under the same name changes
 * no folder, and is not noticed (as by the statements' cache) until its folder is touched; an
 * admin's request with `x-trailql-no-cache: 1` drops that admin's kept answer of its body. Engines without a fingerprint
 * (Athena) count a window as ended only after the delivery lag, as the statement cache does, and
 * their entries live no longer than the statements' TTL. What the files do not show (Event history
 * the sync met but could not write, src/history/coverage.ts) is asked again on every hit too
 * (`stillWhole`).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CompiledQuery, Engine } from '../query/engine';
import type { Scope } from '../query/guards';
import type { ResponseReuse } from '../query/runner';
import { cacheSalt } from './cache';

/** A kept answer: the response body around its request id, and what it depends on. */
export interface StoredResponse {
  /** The body up to the request id's value (`{"data":…,"extensions":{"requestId":`). */
  readonly head: string;
  /** The body after it (completeness and the cost report of an answer given again). */
  readonly tail: string;
  readonly operationName: string | null;
  /** Statements the answer came from (for the request log). */
  readonly queries: number;
  readonly rows: number;
  readonly dependencies: ResponseReuse['dependencies'];
  /** Every statement's window and partitions, for `stillWhole`. */
  readonly statements: readonly Pick<CompiledQuery, 'window' | 'partitions'>[];
  /** What the entry holds, about in bytes: the body and its statements (kept for their fingerprints). */
  readonly size: number;
}

export interface ResponseCacheStats {
  /** Answered whole from this cache. */
  readonly hits: number;
  /** Kept answers not given because a file they read changed since. */
  readonly stale: number;
  /** Answers kept. */
  readonly stores: number;
  /** Answers not kept: larger than one entry may be. */
  readonly tooLarge: number;
  readonly entries: number;
  readonly bytes: number;
}

export interface ResponseCacheOptions {
  /** Bound of all kept bodies, in bytes. */
  readonly maxBytes: number;
  /** Bodies larger than this are not kept. */
  readonly maxEntryBytes: number;
  /** No answer is kept longer than this, whatever its statements' TTL. */
  readonly maxTtlMs: number;
  /** Overrides the version salt of the keys (tests). */
  readonly salt?: string;
  /** Clock for lifetimes in milliseconds (tests); defaults to performance.now. */
  readonly clock?: { now(): number };
  /**
   * Whether an answer over these statements is still whole by what the files do not show; a kept
   * answer for which it says no is dropped on its next hit.
   */
  readonly stillWhole?: (statements: readonly Pick<CompiledQuery, 'window' | 'partitions'>[]) => boolean;
}

export class ResponseCache {
  private readonly entries: LRUCache<string, StoredResponse>;
  private readonly counters = { hits: 0, stale: 0, stores: 0, tooLarge: 0 };
  private readonly salt: string;

  constructor(
    private readonly engine: Pick<Engine, 'fingerprint'>,
    private readonly options: ResponseCacheOptions,
  ) {
    this.salt = options.salt ?? cacheSalt();
    this.entries = new LRUCache<string, StoredResponse>({
      maxSize: Math.max(1, options.maxBytes),
      sizeCalculation: (e) => Math.max(1, e.size),
      ttl: Math.max(1, options.maxTtlMs),
      ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    });
  }

  /**
   * The key of a request: who asks (every part of the scope, and the principal, so no two callers
   * share an entry) and the exact bytes of the request body (query, variables, operation name,
   * extensions).
   */
  keyOf(scope: Scope, body: Buffer): string {
    const who = JSON.stringify([this.salt, scope.principal, scope.accounts, scope.regions, scope.readPayloads, scope.admin]);
    return createHash('sha256').update(who).update('\u0000').update(body).digest('base64');
  }

  /**
   * The kept answer, when there is one and every file state it depends on is unchanged; a changed
   * one drops the entry. A fingerprint that cannot be taken (the trail is gone) is a miss: the
   * request then runs and reports the problem.
   */
  async get(key: string): Promise<StoredResponse | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    for (const dep of entry.dependencies) {
      if (dep.fingerprint === undefined) continue;
      let now: string | null | undefined;
      try {
        now = await this.engine.fingerprint?.(dep.query);
      } catch {
        now = undefined;
      }
      if (now !== dep.fingerprint) {
        this.entries.delete(key);
        this.counters.stale += 1;
        return undefined;
      }
    }
    if (this.options.stillWhole && !this.options.stillWhole(entry.statements)) {
      this.entries.delete(key);
      this.counters.stale += 1;
      return undefined;
    }
    this.counters.hits += 1;
    return entry;
  }

  /** Drops the answer kept under `key`, if any. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Keeps an answer for at most `reuse.ttlMs` (and the configured bound). */
  set(key: string, entry: Omit<StoredResponse, 'dependencies' | 'statements' | 'size'>, reuse: ResponseReuse): void {
    const dependencies = distinctStates(reuse.dependencies);
    const statements = this.options.stillWhole ? distinctWindows(reuse.dependencies.map((d) => d.query)) : [];
    const bytes = entry.head.length + entry.tail.length + dependencies.reduce((a, d) => a + d.query.sql.length + JSON.stringify(d.query.params).length + 256, 0);
    if (bytes > this.options.maxEntryBytes) {
      this.counters.tooLarge += 1;
      return;
    }
    const ttl = Math.min(reuse.ttlMs, this.options.maxTtlMs);
    if (ttl <= 0) return;
    this.entries.set(key, { ...entry, dependencies, statements, size: bytes }, { ttl });
    this.counters.stores += 1;
  }

  stats(): ResponseCacheStats {
    return { ...this.counters, entries: this.entries.size, bytes: this.entries.calculatedSize };
  }
}

/** Each statement's window and partitions once. */
function distinctWindows(queries: readonly CompiledQuery[]): Pick<CompiledQuery, 'window' | 'partitions'>[] {
  const seen = new Map<string, Pick<CompiledQuery, 'window' | 'partitions'>>();
  for (const q of queries) {
    const id = JSON.stringify([q.window.from.getTime(), q.window.to.getTime(), q.partitions]);
    if (!seen.has(id)) seen.set(id, { window: q.window, partitions: q.partitions });
  }
  return [...seen.values()];
}

/**
 * One dependency per file state: statements over the same partitions (a page and its count)
 * share their fingerprint, which a hit then takes once.
 */
function distinctStates(deps: ResponseReuse['dependencies']): ResponseReuse['dependencies'] {
  const seen = new Map<string, { query: CompiledQuery; fingerprint?: string }>();
  for (const d of deps) {
    const id = `${d.fingerprint ?? ''}\u0000${JSON.stringify(d.query.partitions)}`;
    if (!seen.has(id)) seen.set(id, d);
  }
  return [...seen.values()];
}
