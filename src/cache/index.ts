/**
 * The answer cache: Redis when `REDIS_URL` is set (shared by every instance), an in-process LRU
 * otherwise, both behind the same layer (`QueryCache`).
 */
import { Config } from '../config';
import { Logger } from '../logger';
import { CacheStore } from './cache';
import { MemoryStore } from './memory-cache';
import { QueryCache } from './query-cache';
import { RedisStore } from './redis-cache';

export { CACHE_SCHEMA_VERSION, KEY_PREFIX, NO_CACHE_HEADER, cacheKey, cacheSalt, ttlFor, wantsNoCache } from './cache';
export type { CacheStore, TtlPolicy } from './cache';
export { MemoryStore } from './memory-cache';
export { QueryCache } from './query-cache';
export type { CacheStats, QueryCacheOptions } from './query-cache';
export { RedisStore } from './redis-cache';

export interface CreateCacheOptions {
  /** Clock for the TTL policy (tests). */
  readonly now?: () => Date;
  /** Upper bound on one Redis command (default 500 ms); a timeout marks the cache down. */
  readonly commandTimeoutMs?: number;
  /** How often an unresponsive Redis is probed (default 1 s). */
  readonly probeIntervalMs?: number;
}

export function createCache(config: Pick<Config, 'cache'>, logger: Logger, options: CreateCacheOptions = {}): QueryCache {
  const settings = config.cache;
  let cache: QueryCache | undefined;
  let store: CacheStore | undefined;
  if (!settings.enabled) store = undefined;
  else if (settings.redisUrl) {
    store = new RedisStore({
      url: settings.redisUrl,
      commandTimeoutMs: options.commandTimeoutMs,
      probeIntervalMs: options.probeIntervalMs,
      onConnectionError: (err) => cache?.noteConnectionError(err),
      onReady: () => cache?.noteReady(),
      onUnresponsive: (err) => cache?.noteConnectionError(err),
    });
  } else store = new MemoryStore({ maxEntries: settings.maxEntries });
  cache = new QueryCache({
    store,
    policy: {
      deliveryLagMs: settings.deliveryLagMinutes * 60_000,
      closedTtlMs: settings.closedTtlSeconds * 1000,
      openTtlMs: settings.openTtlSeconds * 1000,
    },
    lockWaitMs: settings.lockWaitMs,
    secret: settings.secret,
    logger,
    now: options.now,
  });
  logger.info({ backend: cache.backend }, 'answer cache ready');
  return cache;
}
