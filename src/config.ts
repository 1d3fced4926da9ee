/**
 * The one place that reads the environment. Every variable is validated together and every
 * problem reported at once, naming the variable; the rest of the service receives a typed object.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { IOT_EVENTS_SOURCES } from './domain/iotevents-actions';
import { AthenaSettings } from './engines/athena/settings';
import { parseAthenaEnv } from './engines/athena/env';
import { SecurityConfig, parseSecurityConfig } from './auth/security-config';

const DEFAULT_EVENT_SOURCES = [...IOT_EVENTS_SOURCES];

const list = (fallback: string[]) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? fallback : s.split(',').map((x) => x.trim()).filter(Boolean)));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return fallback;
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${s}"` });
        return z.NEVER;
      }
      return n;
    });

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return fallback;
      if (/^(1|true|yes|on)$/i.test(s)) return true;
      if (/^(0|false|no|off)$/i.test(s)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${s}"` });
      return z.NEVER;
    });

const EnvSchema = z.object({
  PORT: int(4000, 0, 65535),
  HOST: z.string().optional().default('0.0.0.0'),
  ENGINE: z.enum(['duckdb', 'athena']).optional().default('duckdb'),
  TRAIL_DIR: z.string().optional(),
  SAMPLE_DIR: z.string().optional(),
  SAMPLE_DAYS: int(7, 1, 400),
  SAMPLE_SEED: int(42, 0, 2 ** 31 - 1),
  EVENT_SOURCES: list(DEFAULT_EVENT_SOURCES).pipe(
    z
      .array(z.string().regex(/^([a-z0-9.-]+\.amazonaws\.com|\*)$/, 'each event source must look like "service.amazonaws.com", or be "*" for all'))
      .min(1),
  ),
  DEFAULT_WINDOW_HOURS: int(24, 1, 24 * 400),
  MAX_WINDOW_DAYS: int(31, 1, 3660),
  DELIVERY_MARGIN_DAYS: int(1, 0, 30),
  DEFAULT_PAGE_SIZE: int(50, 1, 1000),
  MAX_PAGE_SIZE: int(500, 1, 1000),
  CURSOR_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  DUCKDB_THREADS: int(0, 0, 256),
  DUCKDB_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be like "4GB"').optional(),
  PARQUET_DIR: z.string().optional(),
  PARQUET_ENABLED: bool(true),
  ENGINE_TIMEOUT_MS: int(120_000, 100, 3_600_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional().default('info'),
  REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
  CACHE_ENABLED: bool(true),
  CACHE_DELIVERY_LAG_MINUTES: int(20, 0, 24 * 60),
  CACHE_CLOSED_TTL_SECONDS: int(86_400, 1, 30 * 86_400),
  CACHE_OPEN_TTL_SECONDS: int(60, 1, 86_400),
  CACHE_MAX_ENTRIES: int(1000, 1, 1_000_000),
  CACHE_LOCK_WAIT_MS: int(5000, 0, 120_000),
  SHUTDOWN_TIMEOUT_MS: int(25_000, 0, 600_000),
  READINESS_TIMEOUT_MS: int(2000, 50, 60_000),
  METRICS_ENABLED: bool(true),
  EVENT_HISTORY_REGIONS: list([]).pipe(z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'each region must look like "us-east-1"'))),
  EVENT_HISTORY_SYNC_INTERVAL_MINUTES: int(15, 0, 24 * 60),
  EVENT_HISTORY_DAYS: int(90, 1, 90),
  EVENT_HISTORY_OVERLAP_MINUTES: int(30, 0, 24 * 60),
  EVENT_HISTORY_REQUESTS_PER_SECOND: int(2, 1, 2),
  EVENT_HISTORY_MAX_ATTEMPTS: int(8, 1, 20),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly engine: 'duckdb' | 'athena';
  /** Trail folder for DuckDB; undefined means "the generated sample trail". */
  readonly trailDir: string | undefined;
  readonly sample: { readonly dir: string; readonly days: number; readonly seed: number };
  /** eventSource values the service answers for; `[]` means every source (`EVENT_SOURCES=*`). */
  readonly eventSources: readonly string[];
  readonly window: { readonly defaultHours: number; readonly maxDays: number; readonly deliveryMarginDays: number };
  readonly page: { readonly defaultSize: number; readonly maxSize: number };
  /** Signs cursors; a random per-process secret when unset (cursors then die with the process). */
  readonly cursorSecret: string | undefined;
  readonly duckdb: {
    readonly threads: number;
    readonly memoryLimit: string | undefined;
    /**
     * The Parquet store `npm run compact` writes and the engine reads (PARQUET_DIR); undefined
     * means `<trail folder>/.trailql-parquet`.
     */
    readonly parquetDir: string | undefined;
    /** PARQUET_ENABLED=false: read only the JSON files even when a store exists. */
    readonly parquetEnabled: boolean;
  };
  readonly engineTimeoutMs: number;
  /** Present when ENGINE=athena. */
  readonly athena: AthenaSettings | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly cache: CacheConfig;
  readonly ops: OpsConfig;
  readonly security: SecurityConfig;
  readonly eventHistory: EventHistoryConfig;
}

/** Query answer cache: Redis when `redisUrl` is set, an in-process LRU otherwise. */
export interface CacheConfig {
  readonly enabled: boolean;
  /** Never logged: it may carry a password. */
  readonly redisUrl: string | undefined;
  /** A window that ended before now minus this lag is complete (CloudTrail has delivered it). */
  readonly deliveryLagMinutes: number;
  /** TTL of answers over complete windows. */
  readonly closedTtlSeconds: number;
  /** TTL of answers over windows that touch the present. */
  readonly openTtlSeconds: number;
  /** In-process LRU bound. */
  readonly maxEntries: number;
  /** How long a request waits for an identical query another instance is running. */
  readonly lockWaitMs: number;
}

/** Event history sync (LookupEvents into the trail folder); no regions means no sync. */
export interface EventHistoryConfig {
  readonly regions: readonly string[];
  /** In the running service: sync at start, then every this many minutes; 0 never. */
  readonly intervalMinutes: number;
  /** How far back a first sync reaches (Event history keeps 90 days). */
  readonly days: number;
  /** How far before the last synced time the next run starts (Event history can show events late). */
  readonly overlapMinutes: number;
  /** LookupEvents calls per second per account and region (AWS allows 2). */
  readonly requestsPerSecond: number;
  /** Attempts per call by the SDK's retry strategy, throttling included. */
  readonly maxAttempts: number;
}

/** Probes, metrics and shutdown. */
export interface OpsConfig {
  /** On SIGTERM/SIGINT, how long requests in flight may finish before they are aborted. */
  readonly shutdownTimeoutMs: number;
  /** How long /readyz waits for the engine's ping. */
  readonly readinessTimeoutMs: number;
  /** Serve Prometheus metrics on /metrics. */
  readonly metricsEnabled: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const athena = env.ENGINE === 'athena' ? parseAthenaEnv(env) : undefined;
  const athenaProblems = athena && !athena.ok ? athena.problems : [];
  const securityProblems: string[] = [];
  const security = parseSecurityConfig(env, (env.ENGINE ?? 'duckdb') === 'duckdb' && !env.TRAIL_DIR, securityProblems);
  if (!parsed.success) {
    throw new ConfigError([...parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`), ...athenaProblems, ...securityProblems]);
  }
  const e = parsed.data;
  const problems: string[] = [...athenaProblems, ...securityProblems];
  if (e.DEFAULT_PAGE_SIZE > e.MAX_PAGE_SIZE) problems.push('DEFAULT_PAGE_SIZE: must not exceed MAX_PAGE_SIZE');
  if (e.DEFAULT_WINDOW_HOURS > e.MAX_WINDOW_DAYS * 24) problems.push('DEFAULT_WINDOW_HOURS: must not exceed MAX_WINDOW_DAYS');
  if (e.EVENT_HISTORY_REGIONS.length && (e.ENGINE !== 'duckdb' || !e.TRAIL_DIR)) problems.push('EVENT_HISTORY_REGIONS: Event history is synced into TRAIL_DIR (ENGINE=duckdb)');
  if (problems.length) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    engine: e.ENGINE,
    ...storageSettings(e),
    window: { defaultHours: e.DEFAULT_WINDOW_HOURS, maxDays: e.MAX_WINDOW_DAYS, deliveryMarginDays: e.DELIVERY_MARGIN_DAYS },
    page: { defaultSize: e.DEFAULT_PAGE_SIZE, maxSize: e.MAX_PAGE_SIZE },
    cursorSecret: e.CURSOR_SECRET,
    engineTimeoutMs: e.ENGINE_TIMEOUT_MS,
    athena: athena?.ok ? athena.settings : undefined,
    security,
    logLevel: e.LOG_LEVEL,
    cache: {
      enabled: e.CACHE_ENABLED,
      redisUrl: e.REDIS_URL,
      deliveryLagMinutes: e.CACHE_DELIVERY_LAG_MINUTES,
      closedTtlSeconds: e.CACHE_CLOSED_TTL_SECONDS,
      openTtlSeconds: e.CACHE_OPEN_TTL_SECONDS,
      maxEntries: e.CACHE_MAX_ENTRIES,
      lockWaitMs: e.CACHE_LOCK_WAIT_MS,
    },
    eventHistory: eventHistorySettings(e),
    ops: { shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS, readinessTimeoutMs: e.READINESS_TIMEOUT_MS, metricsEnabled: e.METRICS_ENABLED },
  };
}

/** Where the trail and its Parquet store are, which event sources are served, the DuckDB settings. */
export type StorageConfig = Pick<Config, 'trailDir' | 'sample' | 'eventSources' | 'duckdb'>;

function storageSettings(e: z.infer<typeof EnvSchema>): StorageConfig {
  return {
    trailDir: e.TRAIL_DIR ? path.resolve(e.TRAIL_DIR) : undefined,
    sample: { dir: path.resolve(e.SAMPLE_DIR ?? '.trail/sample'), days: e.SAMPLE_DAYS, seed: e.SAMPLE_SEED },
    eventSources: e.EVENT_SOURCES.includes('*') ? [] : e.EVENT_SOURCES,
    duckdb: {
      threads: e.DUCKDB_THREADS,
      memoryLimit: e.DUCKDB_MEMORY_LIMIT,
      parquetDir: e.PARQUET_DIR ? path.resolve(e.PARQUET_DIR) : undefined,
      parquetEnabled: e.PARQUET_ENABLED,
    },
  };
}

function eventHistorySettings(e: z.infer<typeof EnvSchema>): EventHistoryConfig {
  return {
    regions: [...new Set(e.EVENT_HISTORY_REGIONS)],
    intervalMinutes: e.EVENT_HISTORY_SYNC_INTERVAL_MINUTES,
    days: e.EVENT_HISTORY_DAYS,
    overlapMinutes: e.EVENT_HISTORY_OVERLAP_MINUTES,
    requestsPerSecond: e.EVENT_HISTORY_REQUESTS_PER_SECOND,
    maxAttempts: e.EVENT_HISTORY_MAX_ATTEMPTS,
  };
}

/**
 * The storage settings alone, for offline tools (`npm run compact`) that serve nobody and so need
 * no authentication settings.
 */
export function loadStorageConfig(
  env: NodeJS.ProcessEnv = process.env,
): StorageConfig & { readonly deliveryMarginDays: number; readonly eventHistory: EventHistoryConfig } {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`));
  return { ...storageSettings(parsed.data), deliveryMarginDays: parsed.data.DELIVERY_MARGIN_DAYS, eventHistory: eventHistorySettings(parsed.data) };
}
