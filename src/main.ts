import 'reflect-metadata';
import { createApp } from './app';
import { createCache } from './cache';
import { ConfigError, loadConfig } from './config';
import { createEngine } from './engines';
import { createLogger } from './logger';
import { ensureSampleTrail } from './trail/sample-trail';

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
  const { engine, dialect } = await createEngine(config, trailDir ?? '');
  const cache = createCache(config, logger);
  const app = await createApp({ config, engine, dialect, logger, cache });
  const port = await app.listen();
  logger.info({ url: `http://localhost:${port}/graphql`, engine: engine.name, source: engine.sourceId }, 'trailql is listening');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await cache.close();
    await engine.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`trailql: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
