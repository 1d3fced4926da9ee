/**
 * The embedded store: an in-process LRU with a TTL per entry, bounded by entry count and by
 * bytes. Answers are kept encoded, so a caller can never mutate a stored answer.
 */
import { LRUCache } from 'lru-cache';
import { CacheStore } from './cache';

export interface MemoryStoreOptions {
  readonly maxEntries: number;
  /** Upper bound on the bytes held (keys and encoded answers). */
  readonly maxBytes?: number;
  /** Clock for TTLs in milliseconds (tests); defaults to performance.now. */
  readonly clock?: { now(): number };
}

export const DEFAULT_MEMORY_MAX_BYTES = 64 * 1024 * 1024;

export class MemoryStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly lru: LRUCache<string, Buffer>;

  constructor(options: MemoryStoreOptions) {
    this.lru = new LRUCache<string, Buffer>({
      max: options.maxEntries,
      maxSize: options.maxBytes ?? DEFAULT_MEMORY_MAX_BYTES,
      sizeCalculation: (value, key) => Math.max(1, value.length + key.length),
      ttlAutopurge: false,
      ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.lru.get(key);
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    this.lru.set(key, value, { ttl: ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.lru.delete(key);
  }

  connected(): boolean {
    return true;
  }

  /** Entries and bytes currently held. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
