/**
 * Liveness, readiness and the metrics endpoint.
 *
 * - `/healthz`: the process is up and serving (200), or shutting down (503).
 * - `/readyz`: the service can answer queries: the engine answered a ping within the time limit
 *   and the schema is built (200); otherwise 503 with the reasons. The cache is reported but never
 *   makes the service unready: without it, answers come from the engine. The data is checked
 *   too (`checks.data`): a missing trail folder or `AWSLogs/` makes the service unready; files
 *   set aside as unreadable leave it ready but `degraded` (answers over them say complete: false).
 * - `/metrics`: Prometheus text format.
 */
import express from 'express';
import { GraphQLSchema } from 'graphql';
import { Engine } from '../query/engine';
import { Logger } from '../logger';
import { Metrics, hasCacheStats } from './metrics';

/** Whether the process is serving or shutting down; shared by the probes and the shutdown. */
export class Lifecycle {
  private drainingSince: Date | undefined;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** From now on both probes answer 503. */
  startDraining(): void {
    this.drainingSince ??= new Date();
  }
}

export type CheckStatus = 'ok' | 'down' | 'off';

export interface Readiness {
  readonly ready: boolean;
  readonly status: 'ready' | 'not ready' | 'shutting down';
  /** Why the service is not ready (empty when it is). */
  readonly reasons: string[];
  readonly checks: {
    readonly engine?: { readonly status: CheckStatus; readonly engine: string; readonly ms?: number; readonly error?: string };
    readonly cache?: { readonly status: CheckStatus; readonly backend: string; readonly detail?: string };
    readonly schema?: { readonly status: CheckStatus };
    readonly data?: DataCheck;
  };
  /** Ready, but some answers are incomplete (unreadable files set aside); absent otherwise. */
  readonly degraded?: string[];
}

/** The trail's state as readiness reports it: never absolute paths, only counts and a reason. */
export interface DataCheck {
  readonly status: 'ok' | 'degraded' | 'down';
  readonly unreadableFiles: number;
  readonly detail?: string;
}

export interface ReadinessOptions {
  readonly engine: Pick<Engine, 'name' | 'ping' | 'trailHealth'>;
  /** The cache layer; its `stats()` (backend, connected) is reported when it has one. */
  readonly cache?: unknown;
  readonly schema: () => GraphQLSchema | undefined;
  readonly lifecycle: Lifecycle;
  /** How long the engine ping may take. */
  readonly timeoutMs: number;
  /**
   * When (performance.now()) an engine query last succeeded. A ping that times out while queries
   * keep succeeding means the engine is busy, not down: readiness stays up instead of flapping
   * under load (a ping that fails outright still makes the service not ready).
   */
  readonly engineLastOk?: () => number | undefined;
  readonly logger: Logger;
}

/** How recent a successful engine query must be for a slow ping to mean "busy". */
const BUSY_WINDOW_MS = 30_000;

class PingTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'PingTimeoutError';
  }
}

/** A short, path-free description of why a ping failed: safe to send to any probe. */
function pingFailure(err: unknown): string {
  if (err instanceof PingTimeoutError) return 'timeout';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z_]{2,32}$/.test(code)) return code;
  return err instanceof Error && /^[A-Za-z]{1,40}$/.test(err.name) ? err.name : 'error';
}

/**
 * Answers readiness. Concurrent checks share one engine ping; a change of the engine's state is
 * logged once (with the full error), not at every probe.
 */
export class ReadinessCheck {
  private pending: Promise<Readiness> | undefined;
  private engineWasUp: boolean | undefined;

  constructor(private readonly options: ReadinessOptions) {}

  check(): Promise<Readiness> {
    if (this.options.lifecycle.draining) return Promise.resolve({ ready: false, status: 'shutting down', reasons: ['shutting down'], checks: {} });
    this.pending ??= this.run().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async run(): Promise<Readiness> {
    const { engine, timeoutMs, logger } = this.options;
    const reasons: string[] = [];

    const started = performance.now();
    let engineCheck: NonNullable<Readiness['checks']['engine']>;
    let timer: NodeJS.Timeout | undefined;
    try {
      const ping = engine.ping();
      ping.catch(() => undefined); // a late failure after the timeout is not unhandled
      await Promise.race([
        ping,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new PingTimeoutError(timeoutMs)), timeoutMs);
        }),
      ]);
      engineCheck = { status: 'ok', engine: engine.name, ms: Math.round(performance.now() - started) };
      if (this.engineWasUp === false) logger.info({ engine: engine.name }, 'engine reachable again');
      this.engineWasUp = true;
    } catch (err) {
      const lastOk = this.options.engineLastOk?.();
      const busy = err instanceof PingTimeoutError && lastOk !== undefined && performance.now() - lastOk < BUSY_WINDOW_MS;
      if (busy) {
        engineCheck = { status: 'ok', engine: engine.name, error: 'busy' };
      } else {
        const error = pingFailure(err);
        engineCheck = { status: 'down', engine: engine.name, error };
        reasons.push(`engine: ${engine.name} cannot be reached (${error})`);
        if (this.engineWasUp !== false) {
          logger.warn({ engine: engine.name, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'engine cannot be reached: not ready');
        }
        this.engineWasUp = false;
      }
    } finally {
      clearTimeout(timer);
    }

    let schemaCheck: NonNullable<Readiness['checks']['schema']>;
    try {
      schemaCheck = { status: this.options.schema()?.getQueryType() ? 'ok' : 'down' };
    } catch {
      schemaCheck = { status: 'down' };
    }
    if (schemaCheck.status !== 'ok') reasons.push('schema: not built');

    const cache = this.options.cache;
    let cacheCheck: NonNullable<Readiness['checks']['cache']>;
    if (hasCacheStats(cache)) {
      const { backend, connected } = cache.stats();
      cacheCheck =
        backend === 'off'
          ? { status: 'off', backend, detail: 'answers from the engine' }
          : connected
            ? { status: 'ok', backend }
            : { status: 'down', backend, detail: 'answers from the engine' };
    } else {
      cacheCheck = cache ? { status: 'ok', backend: 'custom' } : { status: 'off', backend: 'off', detail: 'answers from the engine' };
    }

    const dataCheck = await this.data();
    if (dataCheck?.status === 'down') reasons.push(`data: ${dataCheck.detail}`);
    const degraded = dataCheck?.status === 'degraded' ? [`data: ${dataCheck.detail}`] : undefined;

    const ready = reasons.length === 0;
    return {
      ready,
      status: ready ? 'ready' : 'not ready',
      reasons,
      checks: { engine: engineCheck, cache: cacheCheck, schema: schemaCheck, ...(dataCheck ? { data: dataCheck } : {}) },
      ...(degraded ? { degraded } : {}),
    };
  }

  /** The trail's state from the engine's own bookkeeping (a few stats, no query). */
  private async data(): Promise<DataCheck | undefined> {
    const { engine, logger } = this.options;
    if (!engine.trailHealth) return undefined;
    let health;
    try {
      health = await engine.trailHealth();
    } catch (err) {
      logger.warn({ err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'trail state unknown');
      return { status: 'down', unreadableFiles: 0, detail: 'the trail state cannot be read' };
    }
    const unreadableFiles = health.unreadable.length;
    if (!health.available) return { status: 'down', unreadableFiles, detail: health.problem ?? 'the trail cannot be read' };
    if (unreadableFiles > 0) return { status: 'degraded', unreadableFiles, detail: `${unreadableFiles} unreadable trail file${unreadableFiles === 1 ? '' : 's'} left out of answers (see the trailHealth query)` };
    return { status: 'ok', unreadableFiles };
  }
}

export interface OpsRoutesOptions extends ReadinessOptions {
  /** Undefined: no /metrics route. */
  readonly metrics?: Metrics;
}

/** `/healthz`, `/readyz` and (when metrics are on) `/metrics`. No caching by intermediaries. */
export function opsRoutes(options: OpsRoutesOptions): express.Router {
  const router = express.Router();
  const readiness = new ReadinessCheck(options);
  router.get('/healthz', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    if (options.lifecycle.draining) res.status(503).json({ status: 'shutting down' });
    else res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const answer = await readiness.check();
    res.setHeader('cache-control', 'no-store');
    res.status(answer.ready ? 200 : 503).json({
      status: answer.status,
      ...(answer.reasons.length ? { reasons: answer.reasons } : {}),
      ...(answer.degraded ? { degraded: answer.degraded } : {}),
      checks: answer.checks,
    });
  });
  const metrics = options.metrics;
  if (metrics) {
    router.get('/metrics', async (_req, res) => {
      try {
        const { contentType, body } = await metrics.scrape();
        res.setHeader('cache-control', 'no-store');
        res.type(contentType).send(body);
      } catch (err) {
        options.logger.error({ err: err instanceof Error ? err.name : 'error' }, 'metrics could not be collected');
        res.status(500).type('text/plain').send('metrics could not be collected\n');
      }
    });
  }
  return router;
}
