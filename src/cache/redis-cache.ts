/**
 * The shared store: Redis through ioredis, tuned so that a Redis that is down, slow or
 * unreachable costs a request at most one short timeout, never an error:
 * - commands are refused at once while disconnected (no offline queue) and time out quickly;
 * - the client reconnects on its own, forever, with capped backoff;
 * - nothing queued is replayed after a reconnect.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { CacheStore } from './cache';

export interface RedisStoreOptions {
  readonly url: string;
  /** Upper bound on one command's round trip. */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts. */
  readonly maxReconnectDelayMs?: number;
  /** Connection-level trouble (refused, reset, timed out): for logs and counters. */
  readonly onConnectionError?: (err: Error) => void;
  /** The connection is (again) usable. */
  readonly onReady?: () => void;
}

/** Deletes the lock only if this caller still holds it (it may have expired and been taken). */
const UNLOCK_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class RedisUnavailableError extends Error {
  constructor(status: string) {
    super(`redis is not connected (${status})`);
    this.name = 'RedisUnavailableError';
  }
}

export class RedisStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private closed = false;

  constructor(options: RedisStoreOptions) {
    const maxDelay = options.maxReconnectDelayMs ?? 2000;
    this.client = new Redis(options.url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      protocol: 2,
      connectionName: 'trailql-cache',
      disableClientInfo: true,
      retryStrategy: (times) => (this.closed ? null : Math.min(50 * 2 ** Math.min(times, 10), maxDelay) + Math.floor(Math.random() * 50)),
    });
    this.client.on('error', (err: Error) => options.onConnectionError?.(err));
    this.client.on('ready', () => options.onReady?.());
  }

  connected(): boolean {
    return this.client.status === 'ready';
  }

  private ready(): Redis {
    if (this.client.status !== 'ready') throw new RedisUnavailableError(this.client.status);
    return this.client;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const value = await this.ready().getBuffer(key);
    return value ?? undefined;
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.ready().set(key, value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async delete(key: string): Promise<void> {
    await this.ready().del(key);
  }

  async lock(lockKey: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const reply = await this.ready().set(lockKey, token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
    return reply === 'OK' ? token : undefined;
  }

  async unlock(lockKey: string, token: string): Promise<void> {
    await this.ready().eval(UNLOCK_SCRIPT, 1, lockKey, token);
  }

  async isLocked(lockKey: string): Promise<boolean> {
    return (await this.ready().exists(lockKey)) === 1;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.disconnect(false);
  }
}
