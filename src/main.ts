import './threadpool';
import 'reflect-metadata';
import { createApp } from './app';
import { createCache } from './cache';
import { ConfigError, loadConfig } from './config';
import { createEngine } from './engines';
import { DuckDbEngine } from './engines/duckdb/driver';
import { createLogger } from './logger';
import { onTerminationSignals, shutdown } from './ops/shutdown';
import { ensureSampleTrail } from './trail/sample-trail';
import { scheduleSync } from './history/schedule';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`trailql: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let trailDir = config.trailDir;
  if (config.engine === 'duckdb' && !trailDir) {
    await ensureSampleTrail(config.sample.dir, config.sample.days, config.sample.seed, logger);
    trailDir = config.sample.dir;
  }
  const { engine, dialect } = await createEngine(config, trailDir ?? '', logger);
  if (engine instanceof DuckDbEngine && engine.resources.adjusted.length) {
    logger.warn({ adjusted: engine.resources.adjusted }, 'DuckDB settings lowered to fit DUCKDB_MEMORY_LIMIT (see docs/operations.md)');
  }
  const cache = createCache(config, logger);
  if (config.security.auth.devMode) {
    logger.warn('authentication is OFF: dev mode on the generated sample trail (set AUTH_DEV_MODE=false to require keys)');
  }
  const app = await createApp({ config, engine, dialect, logger, cache });
  const port = await app.listen();
  const { eventHistory } = config;
  const history =
    eventHistory.regions.length && eventHistory.intervalMinutes > 0 && trailDir
      ? scheduleSync({ trailDir, eventSources: config.eventSources, settings: eventHistory, logger })
      : undefined;
  logger.info({ url: `http://localhost:${port}/graphql`, engine: engine.name, source: engine.sourceId }, 'trailql is listening');

  const abortGraceMs = 5000;
  onTerminationSignals({
    logger,
    exit: (code) => process.exit(code),
    hardDeadlineMs: config.ops.shutdownTimeoutMs + abortGraceMs + 15_000,
    run: () =>
      shutdown({
        lifecycle: app.ops.lifecycle,
        drainer: app.ops.drainer,
        timeoutMs: config.ops.shutdownTimeoutMs,
        logger,
        engineIdle: (ms) => app.ops.engine.idle(ms),
        abortGraceMs,
        close: [
          { name: 'event history sync', close: async () => history?.stop() },
          { name: 'graphql', close: () => app.close() },
          { name: 'cache', close: () => cache.close() },
          { name: 'engine', close: () => engine.close() },
        ],
      }),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`trailql: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
