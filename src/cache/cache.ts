/**
 * The pieces of the answer cache that do not depend on where answers are stored: the storage
 * contract, cache keys, the TTL policy and the per-request bypass.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import * as path from 'node:path';
import { CompiledQuery, Engine, windowBoundMs } from '../query/engine';

/**
 * Bump when the shape of cached rows changes (new columns, renamed aliases, different decoding)
 * or what an answer means does (2: a call is its first delivery file's copy, filtered as such;
 * 3: another account's principal a service acted for, and a federated user, are callers and
 * principals of their own): entries written by older code are then never read, nor whole
 * responses kept under them.
 */
export const CACHE_SCHEMA_VERSION = 3;

/** Every key this service writes starts with this, so the keyspace can be inspected or flushed. */
export const KEY_PREFIX = 'trailql:v1:';

/** Where answers are kept. Every method may throw or reject: the caller treats that as a miss. */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** The stored bytes, or undefined when there is no entry. */
  get(key: string): Promise<Buffer | undefined>;
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Whether the store is reachable right now (a local check, no round trip). */
  connected(): boolean;
  /**
   * Cross-instance lock for single flight. Present only on shared stores: a token when this
   * caller holds the lock, undefined when another instance does.
   */
  lock?(lockKey: string, ttlMs: number): Promise<string | undefined>;
  unlock?(lockKey: string, token: string): Promise<void>;
  isLocked?(lockKey: string): Promise<boolean>;
  close(): Promise<void>;
}

let packageVersion: string | undefined;

/** The service's version from package.json (src/cache and dist/cache are both two levels down). */
function serviceVersion(): string {
  if (packageVersion === undefined) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version?: unknown };
      packageVersion = typeof pkg.version === 'string' ? pkg.version : '0';
    } catch {
      packageVersion = '0';
    }
  }
  return packageVersion;
}

/** Part of every key: a deploy that changes the version or the row schema starts a fresh keyspace. */
export function cacheSalt(): string {
  return `${serviceVersion()}/${CACHE_SCHEMA_VERSION}`;
}

/** Digests of recent SQL texts: a page asked again compiles to the same text, which is hashed once. */
const sqlDigests = new Map<string, string>();
const SQL_DIGESTS_KEPT = 512;

function sqlDigest(sql: string): string {
  let digest = sqlDigests.get(sql);
  if (digest === undefined) {
    digest = createHash('sha256').update(sql).digest('base64');
    if (sqlDigests.size >= SQL_DIGESTS_KEPT) sqlDigests.clear();
    sqlDigests.set(sql, digest);
  }
  return digest;
}

/**
 * The key of a compiled query's answer: sha256 over the engine, the data it reads, the SQL text
 * (through its own digest, kept for recent texts), the parameters (types kept: `"1"` and `1`
 * differ), the window and the salt, plus the state of the files the query reads when the engine
 * gives it (`Engine.fingerprint`), and the partition of whose answers they are when there is one
 * (CacheRunOptions.partition).
 */
export function cacheKey(
  engine: Pick<Engine, 'name' | 'sourceId'>,
  query: Pick<CompiledQuery, 'sql' | 'params' | 'window'>,
  salt = cacheSalt(),
  fingerprint?: string,
  partition?: string,
): string {
  const material = JSON.stringify([
    salt,
    engine.name,
    engine.sourceId,
    sqlDigest(query.sql),
    query.params,
    query.window.from.toISOString(),
    query.window.to.toISOString(),
    ...(fingerprint === undefined ? [] : [fingerprint]),
    ...(partition === undefined ? [] : [{ partition }]),
  ]);
  return `${KEY_PREFIX}q:${createHash('sha256').update(material).digest('hex')}`;
}

/** The lock guarding the computation of one key's answer across instances. */
export function lockKeyOf(key: string): string {
  return key.replace(`${KEY_PREFIX}q:`, `${KEY_PREFIX}lock:`);
}

export interface TtlPolicy {
  /** How late CloudTrail may deliver events: a window ending before now minus this is complete. */
  readonly deliveryLagMs: number;
  readonly closedTtlMs: number;
  readonly openTtlMs: number;
}

/**
 * How long an answer over `window` may be kept. A window that ended before now − delivery lag
 * can no longer change: keep it long. One that touches the present can: keep it briefly. With
 * `fingerprinted` (the key holds the state of the files read, so a new delivery is a new key) no
 * lag is needed: a window that has ended is closed.
 */
export function ttlFor(window: { readonly to: Date }, now: Date, policy: TtlPolicy, fingerprinted = false): { ttlMs: number; closed: boolean } {
  // The window's end as its statements compare it (a bound within a second reaches the next).
  const closed = windowBoundMs(window.to) <= now.getTime() - (fingerprinted ? 0 : policy.deliveryLagMs);
  return { ttlMs: closed ? policy.closedTtlMs : policy.openTtlMs, closed };
}

/** Header a caller sends to bypass cached answers for one request. */
export const NO_CACHE_HEADER = 'x-trailql-no-cache';

/** True when the request asks for fresh answers (`x-trailql-no-cache: 1`). */
export function wantsNoCache(req: { readonly headers: IncomingHttpHeaders }): boolean {
  const value = req.headers[NO_CACHE_HEADER];
  return typeof value === 'string' && /^(1|true)$/i.test(value.trim());
}
