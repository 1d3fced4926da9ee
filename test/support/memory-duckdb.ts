/** An in-memory DuckDB connection for a describe block (or file): opened in beforeAll, closed in afterAll. */
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export interface MemoryDuckDb {
  connection: DuckDBConnection;
}

export function useMemoryDuckDb(): MemoryDuckDb {
  const ctx = {} as MemoryDuckDb;
  let instance: DuckDBInstance | undefined;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    ctx.connection = await DuckDBConnection.create(instance);
  });
  afterAll(() => {
    ctx.connection?.closeSync();
    instance?.closeSync();
  });
  return ctx;
}
