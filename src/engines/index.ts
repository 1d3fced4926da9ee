import { Config } from '../config';
import { Logger } from '../logger';
import { Dialect } from '../query/compiler';
import { Engine } from '../query/engine';
import { duckdbDialect } from './duckdb/dialect';
import { DuckDbEngine } from './duckdb/driver';
import { defaultStoreDir } from './duckdb/parquet-store';
import { athenaDialect } from './athena/dialect';
import { AthenaEngine } from './athena/driver';
import { isOrganizationTrail } from './athena/settings';

export interface EngineSetup {
  readonly engine: Engine;
  readonly dialect: Dialect;
}

/** The configured engine and the dialect its compiler speaks. */
export async function createEngine(config: Config, trailDir: string, logger?: Logger): Promise<EngineSetup> {
  if (config.engine === 'athena') {
    const settings = config.athena;
    if (!settings) throw new Error('ENGINE=athena needs the Athena settings');
    return {
      // Athena may reuse a kept result only for a window ended as long ago as the cache takes one
      // for complete (the delivery lag, reuse age included).
      engine: new AthenaEngine(settings, undefined, { deliveryLagMs: config.cache.deliveryLagMinutes * 60_000, logger }),
      dialect: athenaDialect({
        database: settings.database,
        table: settings.table,
        ...(settings.pathColumn ? { pathColumn: settings.pathColumn } : {}),
        orgTrail: isOrganizationTrail(settings),
        accountProjection: settings.accountProjection,
        regions: settings.regions,
        accounts: settings.accounts,
        startDate: settings.startDate,
      }),
    };
  }
  const engine = await DuckDbEngine.create({
    trailDir,
    threads: config.duckdb.threads || undefined,
    memoryLimit: config.duckdb.memoryLimit,
    concurrentQueries: config.admission.maxConcurrent,
    parquetDir: config.duckdb.parquetEnabled ? (config.duckdb.parquetDir ?? defaultStoreDir(trailDir)) : undefined,
    eventSources: config.eventSources,
    deliveryMarginDays: config.window.deliveryMarginDays,
    sharedScanMaxBytes: config.duckdb.sharedScanMaxBytes,
    sharedScanKeepMs: config.duckdb.sharedScanKeepMs,
    sharedScanKeepMemoryBytes: config.duckdb.sharedScanKeepMemoryBytes,
    logger,
  });
  return { engine, dialect: duckdbDialect };
}
