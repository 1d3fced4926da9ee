import { Config } from '../config';
import { Dialect } from '../query/compiler';
import { Engine } from './engine';
import { duckdbDialect } from './duckdb/dialect';
import { DuckDbEngine } from './duckdb/driver';

export interface EngineSetup {
  readonly engine: Engine;
  readonly dialect: Dialect;
}

/** The configured engine and the dialect its compiler speaks. */
export async function createEngine(config: Config, trailDir: string): Promise<EngineSetup> {
  const engine = await DuckDbEngine.create({
    trailDir,
    threads: config.duckdb.threads || undefined,
    memoryLimit: config.duckdb.memoryLimit,
  });
  return { engine, dialect: duckdbDialect };
}
