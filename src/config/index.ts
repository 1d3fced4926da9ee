/**
 * The one place that reads the environment (tools get it from {@link processEnvironment}). Every variable is validated together and every
 * problem reported at once, naming the variable; the rest of the service receives a typed object.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { REGION } from '../domain/aws';
import { IOT_EVENTS_SOURCES } from '../domain/iotevents-actions';
import { duckDbResources } from '../engines/duckdb/resources';
import { AthenaSettings } from '../engines/athena/settings';
import { parseAthenaEnv } from '../engines/athena/env';
import { SecurityConfig, parseSecurityConfig } from '../auth/security-config';
import type { InsightsConfig } from '../insights/rules';
import { ConfigError, Env, bool, int, list, optionalInt, problemsOf, processEnvironment } from './vars';

export { ConfigError, processEnvironment, type Env } from './vars';
export { loadBenchConfig, type BenchConfig } from './bench';

/** Only where no CACHE_SECRET is required: dev mode, or the in-process cache. */
const DEV_CACHE_SECRET = 'trailql-dev-mode-cache-secret-not-for-shared-stores';

const DEFAULT_EVENT_SOURCES = [...IOT_EVENTS_SOURCES];

const EnvSchema = z.object({
  PORT: int(4000, 0, 65535),
  HOST: z.string().optional().default('0.0.0.0'),
  HTTP_KEEP_ALIVE_SECONDS: int(65, 1, 3600),
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
  // At least a day: CloudTrail files a record by its file's delivery time, so a call of a day's
  // last minutes sits in the next day's folder; reading no later folder would leave it out unsaid.
  DELIVERY_MARGIN_DAYS: int(1, 1, 30),
  DEFAULT_PAGE_SIZE: int(50, 1, 1000),
  MAX_PAGE_SIZE: int(500, 1, 1000),
  CURSOR_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  DUCKDB_THREADS: int(0, 0, 256),
  DUCKDB_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be like "4GB"').optional(),
  SHARED_SCAN_MAX_MB: int(64, 0, 1_048_576),
  SHARED_SCAN_KEEP_SECONDS: int(120, 0, 86_400),
  SHARED_SCAN_KEEP_MB: int(256, 0, 1_048_576),
  PARQUET_DIR: z.string().optional(),
  PARQUET_ENABLED: bool(true),
  ENGINE_TIMEOUT_MS: int(120_000, 100, 3_600_000),
  ENGINE_MAX_CONCURRENT: int(4, 1, 256),
  ENGINE_QUEUE_LENGTH: int(64, 0, 100_000),
  ENGINE_QUEUE_TIMEOUT_MS: int(30_000, 0, 600_000),
  ENGINE_HEAVY_DAYS: int(3, 1, 3660),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional().default('info'),
  REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
  CACHE_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  CACHE_ENABLED: bool(true),
  // CloudTrail documents an average of about 5 minutes from call to delivery, with no guarantee, and
  // delivers later at times: a window counts as closed (Athena) only a day after its end, the
  // same day the reader's delivery margin allows for. DuckDB keys answers on the files instead.
  // Unset: a day, or DELIVERY_MARGIN_DAYS days when longer (see loadConfig).
  CACHE_DELIVERY_LAG_MINUTES: optionalInt(0, 30 * 24 * 60),
  CACHE_CLOSED_TTL_SECONDS: int(86_400, 1, 30 * 86_400),
  CACHE_OPEN_TTL_SECONDS: int(60, 1, 86_400),
  CACHE_MAX_ENTRIES: int(1000, 1, 1_000_000),
  CACHE_LOCK_WAIT_MS: int(5000, 0, 120_000),
  CACHE_SHARED_ACROSS_CALLERS: bool(false),
  CACHE_GROUP_LIST_MAX: int(2000, 0, 100_000),
  WALK_KEEP_SECONDS: int(900, 0, 86_400),
  WALK_KEEP_MAX_MB: int(64, 1, 16_384),
  RESPONSE_CACHE_ENABLED: bool(true),
  RESPONSE_CACHE_MAX_MB: int(64, 1, 16_384),
  RESPONSE_CACHE_TTL_SECONDS: int(300, 1, 86_400),
  SHUTDOWN_TIMEOUT_MS: int(25_000, 0, 600_000),
  READINESS_TIMEOUT_MS: int(2000, 50, 60_000),
  METRICS_ENABLED: bool(true),
  EXPLORER: z.enum(['sandbox', 'graphiql', 'off']).optional(),
  AWS_IP_RANGES_FILE: z
    .string()
    .optional()
    .refine((f) => f === undefined || fs.existsSync(f), 'must name a readable copy of AWS\'s ip-ranges.json'),
  INSIGHTS_BASELINE_DAYS: int(7, 1, 3660),
  ENRICHMENT_MAX_ADDRESSES: int(20_000, 1, 99_999),
  ENRICHMENT_MAX_MATCHED: int(2_000, 1, 10_000),
  INSIGHTS_DENIED_BURST_COUNT: int(5, 1, 100_000),
  INSIGHTS_DENIED_BURST_MINUTES: int(10, 1, 60).refine((m) => 60 % m === 0, 'must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)'),
  INSIGHTS_ERROR_SPIKE_MIN_ERRORS: int(5, 1, 100_000),
  INSIGHTS_ERROR_SPIKE_FACTOR: int(3, 1, 1000),
  INSIGHTS_ERROR_SPIKE_MIN_BASELINE_CALLS: int(10, 1, 1_000_000),
  SCAN_BUDGET_BYTES: int(0, 0, Number.MAX_SAFE_INTEGER),
  SCAN_PRICE_PER_TB_USD: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return 5;
      const n = Number(s);
      if (!Number.isFinite(n) || n < 0 || n > 1000) {
        ctx.addIssue({ code: 'custom', message: `must be a price from 0 to 1000, got "${s}"` });
        return z.NEVER;
      }
      return n;
    }),
  EVENT_HISTORY_REGIONS: list([]).pipe(z.array(z.string().regex(REGION, 'each region must look like "us-east-1"'))),
  EVENT_HISTORY_SYNC_INTERVAL_MINUTES: int(15, 0, 24 * 60),
  EVENT_HISTORY_DAYS: int(90, 1, 90),
  // Event history can show an event up to about 15 minutes late: a shorter overlap would never fetch it.
  EVENT_HISTORY_OVERLAP_MINUTES: int(30, 15, 24 * 60),
  EVENT_HISTORY_REQUESTS_PER_SECOND: int(2, 1, 2),
  EVENT_HISTORY_MAX_ATTEMPTS: int(8, 1, 20),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  /**
   * How long an idle keep-alive connection stays open (HTTP_KEEP_ALIVE_SECONDS). Longer than a
   * load balancer's idle timeout (60 s on an ALB), so the balancer, not the service, closes first
   * and never sends a request down a connection the service is closing.
   */
  readonly keepAliveSeconds: number;
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
    /** SHARED_SCAN_MAX_MB in bytes: the most delivery-file bytes (on disk) read once for the statements over them (0: each statement reads its own). */
    readonly sharedScanMaxBytes: number;
    /** SHARED_SCAN_KEEP_SECONDS in milliseconds: how long after its files were read a reading may serve later requests. */
    readonly sharedScanKeepMs: number;
    /** SHARED_SCAN_KEEP_MB in bytes: the memory DuckDB's tables may hold for idle readings to be kept. */
    readonly sharedScanKeepMemoryBytes: number;
  };
  readonly engineTimeoutMs: number;
  readonly admission: AdmissionConfig;
  /** Present when ENGINE=athena. */
  readonly athena: AthenaSettings | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly cache: CacheConfig;
  readonly ops: OpsConfig;
  readonly security: SecurityConfig;
  /**
   * What a browser opening /graphql gets: Apollo Sandbox (loaded from Apollo's CDN), the bundled
   * GraphiQL at /explorer (no network beyond the service), or nothing. Unset: `sandbox`, or `off`
   * with SANDBOX=false.
   */
  readonly explorer: 'sandbox' | 'graphiql' | 'off';
  readonly insights: InsightsConfig;
  /** Source address enrichment: AWS's published ranges (ASN and country databases ship with the service). */
  readonly enrichment: {
    readonly awsIpRangesFile: string | undefined;
    /** Most distinct source addresses of a window looked up for an AS number or country filter (QUERY_TOO_COMPLEX beyond). */
    readonly maxAddresses: number;
    /** Most matching addresses such a filter binds into one statement (QUERY_TOO_COMPLEX beyond). */
    readonly maxMatched: number;
  };
  /** Engines billed by bytes scanned (Athena): per-request budget (0: none) and price for the estimate. */
  readonly scan: { readonly budgetBytes: number; readonly pricePerTbUsd: number };
  readonly eventHistory: EventHistoryConfig;
}

/** Query answer cache: Redis when `redisUrl` is set, an in-process LRU otherwise. */
export interface CacheConfig {
  readonly enabled: boolean;
  /** Never logged: it may carry a password. */
  readonly redisUrl: string | undefined;
  /** HMAC key of stored answers; never logged. A fixed, public one in dev mode without CACHE_SECRET. */
  readonly secret: string;
  /**
   * Engines without a file fingerprint (Athena): a window that ended before now minus this lag is
   * taken as complete (CloudTrail has delivered it). DuckDB answers are keyed on the files read.
   */
  readonly deliveryLagMinutes: number;
  /** TTL of answers over complete windows. */
  readonly closedTtlSeconds: number;
  /** TTL of answers over windows that touch the present. */
  readonly openTtlSeconds: number;
  /** In-process LRU bound. */
  readonly maxEntries: number;
  /** How long a request waits for an identical query another instance is running. */
  readonly lockWaitMs: number;
  /**
   * Statements' answers are given to every caller whose scope asks the very same statement. Off
   * (the default), each caller (principal) has answers of its own: that a statement was answered
   * from the cache, or fast, then tells a caller only what it asked itself, never what another
   * asked about the accounts it sees (who was looked into, and when).
   */
  readonly sharedAcrossCallers: boolean;
  /**
   * Whole answers kept in this process (src/cache/response-cache.ts), in front of the statements'
   * cache: answers over ended windows, given again to the same caller for the same request body
   * while the files they read are unchanged.
   */
  readonly responses: { readonly enabled: boolean; readonly maxBytes: number; readonly ttlSeconds: number };
  /**
   * `callers` and `sourceIps` lists of at most this many groups are read whole, in one statement,
   * and every page of a walk is cut from that list (src/query/walks.ts). 0: every page runs its
   * own keyset statement.
   */
  readonly groupListMax: number;
  /** Lists grouped walks are cut from, kept in each process between pages (keepSeconds 0: not kept). */
  readonly walks: { readonly keepSeconds: number; readonly maxBytes: number };
}

/** How many engine queries run at once, and how the others wait (src/query/admission.ts). */
export interface AdmissionConfig {
  /** Engine queries running at once (lowered for DuckDB when its memory limit cannot hold them). */
  readonly maxConcurrent: number;
  /** Queries waiting in each lane; one more is refused with ENGINE_BUSY (503). */
  readonly queueLength: number;
  /** Longest a query waits for a slot before it is refused with ENGINE_BUSY (503). */
  readonly queueTimeoutMs: number;
  /** A query reading more day folders than this is heavy: it never takes the last free slot. */
  readonly heavyDays: number;
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

export function loadConfig(env: Env = processEnvironment()): Config {
  const parsed = EnvSchema.safeParse(env);
  const athena = env.ENGINE === 'athena' ? parseAthenaEnv(env) : undefined;
  const athenaProblems = athena && !athena.ok ? athena.problems : [];
  const securityProblems: string[] = [];
  const security = parseSecurityConfig(env, (env.ENGINE ?? 'duckdb') === 'duckdb' && !env.TRAIL_DIR, securityProblems);
  if (!parsed.success) {
    throw new ConfigError([...problemsOf(parsed.error), ...athenaProblems, ...securityProblems]);
  }
  const e = parsed.data;
  const problems: string[] = [...athenaProblems, ...securityProblems];
  if (e.DEFAULT_PAGE_SIZE > e.MAX_PAGE_SIZE) problems.push('DEFAULT_PAGE_SIZE: must not exceed MAX_PAGE_SIZE');
  if (e.DEFAULT_WINDOW_HOURS > e.MAX_WINDOW_DAYS * 24) problems.push('DEFAULT_WINDOW_HOURS: must not exceed MAX_WINDOW_DAYS');
  // A longer default baseline would have every insights request refused for a value it never sent.
  if (e.INSIGHTS_BASELINE_DAYS > e.MAX_WINDOW_DAYS) problems.push('INSIGHTS_BASELINE_DAYS: must not exceed MAX_WINDOW_DAYS');
  if (e.EXPLORER === 'sandbox' && !security.sandbox) problems.push('EXPLORER: sandbox contradicts SANDBOX=false');
  if (e.REDIS_URL && e.CACHE_ENABLED && !e.CACHE_SECRET && !security.auth.devMode) {
    problems.push('CACHE_SECRET: required with REDIS_URL (entries in Redis are authenticated with it); at least 32 characters, the same on every instance');
  }
  if (e.ENGINE === 'duckdb') {
    try {
      duckDbResources({ threads: e.DUCKDB_THREADS, memoryLimit: e.DUCKDB_MEMORY_LIMIT, concurrentQueries: e.ENGINE_MAX_CONCURRENT, cores: os.availableParallelism(), totalMemoryBytes: os.totalmem() });
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (e.EVENT_HISTORY_REGIONS.length && (e.ENGINE !== 'duckdb' || !e.TRAIL_DIR)) problems.push('EVENT_HISTORY_REGIONS: Event history is synced into TRAIL_DIR (ENGINE=duckdb)');
  // A window's files may land until its last day's margin has passed: an answer kept as complete
  // sooner could miss them.
  const deliveryLagMinutes = e.CACHE_DELIVERY_LAG_MINUTES ?? e.DELIVERY_MARGIN_DAYS * 24 * 60;
  if (deliveryLagMinutes < e.DELIVERY_MARGIN_DAYS * 24 * 60) {
    problems.push(`CACHE_DELIVERY_LAG_MINUTES: at least DELIVERY_MARGIN_DAYS (${e.DELIVERY_MARGIN_DAYS}) days in minutes (${e.DELIVERY_MARGIN_DAYS * 24 * 60}): files of a window can land until then`);
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    keepAliveSeconds: e.HTTP_KEEP_ALIVE_SECONDS,
    engine: e.ENGINE,
    ...storageSettings(e),
    window: { defaultHours: e.DEFAULT_WINDOW_HOURS, maxDays: e.MAX_WINDOW_DAYS, deliveryMarginDays: e.DELIVERY_MARGIN_DAYS },
    page: { defaultSize: e.DEFAULT_PAGE_SIZE, maxSize: e.MAX_PAGE_SIZE },
    cursorSecret: e.CURSOR_SECRET,
    engineTimeoutMs: e.ENGINE_TIMEOUT_MS,
    admission: {
      maxConcurrent: e.ENGINE_MAX_CONCURRENT,
      queueLength: e.ENGINE_QUEUE_LENGTH,
      queueTimeoutMs: e.ENGINE_QUEUE_TIMEOUT_MS,
      heavyDays: e.ENGINE_HEAVY_DAYS,
    },
    athena: athena?.ok ? athena.settings : undefined,
    security,
    explorer: e.EXPLORER ?? (security.sandbox ? 'sandbox' : 'off'),
    logLevel: e.LOG_LEVEL,
    cache: {
      enabled: e.CACHE_ENABLED,
      redisUrl: e.REDIS_URL,
      secret: e.CACHE_SECRET ?? DEV_CACHE_SECRET,
      // A result Athena reuses may be as old as its reuse age: a window is closed only once its
      // late deliveries had time to land before such a result was made.
      deliveryLagMinutes: deliveryLagMinutes + (athena?.ok ? (athena.settings.resultReuseMaxAgeMinutes ?? 0) : 0),
      closedTtlSeconds: e.CACHE_CLOSED_TTL_SECONDS,
      openTtlSeconds: e.CACHE_OPEN_TTL_SECONDS,
      maxEntries: e.CACHE_MAX_ENTRIES,
      lockWaitMs: e.CACHE_LOCK_WAIT_MS,
      sharedAcrossCallers: e.CACHE_SHARED_ACROSS_CALLERS,
      groupListMax: e.CACHE_GROUP_LIST_MAX,
      walks: { keepSeconds: e.WALK_KEEP_SECONDS, maxBytes: e.WALK_KEEP_MAX_MB * 1024 * 1024 },
      responses: { enabled: e.CACHE_ENABLED && e.RESPONSE_CACHE_ENABLED, maxBytes: e.RESPONSE_CACHE_MAX_MB * 1024 * 1024, ttlSeconds: e.RESPONSE_CACHE_TTL_SECONDS },
    },
    eventHistory: eventHistorySettings(e),
    ops: { shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS, readinessTimeoutMs: e.READINESS_TIMEOUT_MS, metricsEnabled: e.METRICS_ENABLED },
    enrichment: {
      awsIpRangesFile: e.AWS_IP_RANGES_FILE ? path.resolve(e.AWS_IP_RANGES_FILE) : undefined,
      maxAddresses: e.ENRICHMENT_MAX_ADDRESSES,
      maxMatched: e.ENRICHMENT_MAX_MATCHED,
    },
    insights: {
      baselineDays: e.INSIGHTS_BASELINE_DAYS,
      deniedBurstCount: e.INSIGHTS_DENIED_BURST_COUNT,
      deniedBurstMinutes: e.INSIGHTS_DENIED_BURST_MINUTES,
      errorSpikeMinErrors: e.INSIGHTS_ERROR_SPIKE_MIN_ERRORS,
      errorSpikeFactor: e.INSIGHTS_ERROR_SPIKE_FACTOR,
      errorSpikeMinBaselineCalls: e.INSIGHTS_ERROR_SPIKE_MIN_BASELINE_CALLS,
    },
    scan: { budgetBytes: e.SCAN_BUDGET_BYTES, pricePerTbUsd: e.SCAN_PRICE_PER_TB_USD },
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
      sharedScanMaxBytes: e.SHARED_SCAN_MAX_MB * 2 ** 20,
      sharedScanKeepMs: e.SHARED_SCAN_KEEP_SECONDS * 1000,
      sharedScanKeepMemoryBytes: e.SHARED_SCAN_KEEP_MB * 2 ** 20,
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
  env: Env = processEnvironment(),
): StorageConfig & { readonly deliveryMarginDays: number; readonly eventHistory: EventHistoryConfig } {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error));
  return { ...storageSettings(parsed.data), deliveryMarginDays: parsed.data.DELIVERY_MARGIN_DAYS, eventHistory: eventHistorySettings(parsed.data) };
}
