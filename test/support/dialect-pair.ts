/**
 * Two servers over the same trail folder for comparing dialects: one on DuckDB with the DuckDB
 * compiler, one running the Athena compiler's Trino SQL on DuckDB through the shim. They share a
 * cursor secret, so a cursor of one is valid on the other.
 */
import { athenaDialect } from '../../src/engines/athena/dialect';
import { AthenaSqlOnDuckDb } from './athena-on-duckdb';
import { TestServer, startServer } from './server';
import { SAMPLE_END } from './trails';

export interface DialectPair {
  duck: TestServer;
  athena: TestServer;
  athenaEngine: AthenaSqlOnDuckDb;
  close(): Promise<void>;
}

export async function startDialectPair(dir: string, extraEnv: Record<string, string> = {}): Promise<DialectPair> {
  const env = { CURSOR_SECRET: 'the-same-secret-for-both-servers', ...extraEnv };
  const duck = await startServer(dir, env, { now: () => SAMPLE_END });
  const athenaEngine = await AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs');
  const athena = await startServer(dir, env, {
    now: () => SAMPLE_END,
    engine: { engine: athenaEngine, dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true }) },
  });
  return {
    duck,
    athena,
    athenaEngine,
    async close() {
      await duck.close();
      await athena.close();
    },
  };
}
