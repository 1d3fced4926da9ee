/**
 * The shared store: Redis through ioredis, tuned so that a Redis that is down, slow or
 * unreachable costs a request at most one short timeout, never an error:
 * - commands are refused at once while disconnected (no offline queue) and time out quickly;
 * - the client reconnects on its own, forever, with capped backoff;
 * - nothing queued is replayed after a reconnect;
 * - a Redis that holds the connection but stops answering (hung, paused) is marked down at its
 *   first command timeout: commands then fail at once, and a PING every `probeIntervalMs` marks
 *   it up again when it answers.
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
  /** Commands time out on an open connection: Redis is marked down until a PING answers. */
  readonly onUnresponsive?: (err: Error) => void;
  /** How often a store marked unresponsive is probed (default 1 s). */
  readonly probeIntervalMs?: number;
}

const isTimeout = (err: unknown): boolean => err instanceof Error && /timed out/i.test(err.message);

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
  /** Set while commands time out on an open connection; cleared by a PING that answers. */
  private probe?: NodeJS.Timeout;

  constructor(private readonly options: RedisStoreOptions) {
    const maxDelay = options.maxReconnectDelayMs ?? 2000;
    // Short: a command that has not answered by then counts as a Redis that is not answering.
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

  /** Connected and answering: false while disconnected and while commands time out. */
  connected(): boolean {
    return this.client.status === 'ready' && this.probe === undefined;
  }

  /** Runs one command; fails at once while disconnected or unresponsive; a timeout marks Redis unresponsive. */
  private async command<T>(run: (client: Redis) => Promise<T>): Promise<T> {
    if (this.client.status !== 'ready') throw new RedisUnavailableError(this.client.status);
    if (this.probe) throw new RedisUnavailableError('not answering');
    try {
      return await run(this.client);
    } catch (err) {
      if (isTimeout(err)) this.markUnresponsive(err as Error);
      throw err;
    }
  }

  private markUnresponsive(err: Error): void {
    if (this.probe || this.closed) return;
    this.options.onUnresponsive?.(err);
    let inFlight = false;
    this.probe = setInterval(() => {
      if (inFlight || this.client.status !== 'ready') return;
      inFlight = true;
      this.client
        .ping()
        .then(() => {
          clearInterval(this.probe);
          this.probe = undefined;
          this.options.onReady?.();
        })
        .catch(() => undefined)
        .finally(() => {
          inFlight = false;
        });
    }, this.options.probeIntervalMs ?? 1000);
    this.probe.unref();
  }

  async get(key: string): Promise<Buffer | undefined> {
    const value = await this.command((c) => c.getBuffer(key));
    return value ?? undefined;
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.command((c) => c.set(key, value, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async delete(key: string): Promise<void> {
    await this.command((c) => c.del(key));
  }

  async lock(lockKey: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const reply = await this.command((c) => c.set(lockKey, token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX'));
    return reply === 'OK' ? token : undefined;
  }

  async unlock(lockKey: string, token: string): Promise<void> {
    await this.command((c) => c.eval(UNLOCK_SCRIPT, 1, lockKey, token));
  }

  async isLocked(lockKey: string): Promise<boolean> {
    return (await this.command((c) => c.exists(lockKey))) === 1;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.probe);
    this.probe = undefined;
    this.client.disconnect(false);
  }
}
