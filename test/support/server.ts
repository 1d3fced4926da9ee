/**
 * Starts the real HTTP service on a free port over a trail folder, with an engine wrapper that
 * records every statement run, and a small GraphQL client.
 */
import 'reflect-metadata';
import { App, createApp } from '../../src/app';
import { Config, loadConfig } from '../../src/config';
import { CompiledQuery, Engine, EngineResult, ExecuteOptions } from '../../src/query/engine';
import { EngineSetup, createEngine } from '../../src/engines';
import { createLogger } from '../../src/logger';
import { hashKey } from '../../src/auth/authenticate';
import { QueryCacheLayer } from '../../src/query/runner';

export interface GqlResponse<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: string[] }[];
  extensions?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export class RecordingEngine implements Engine {
  readonly executed: CompiledQuery[] = [];
  readonly filesRead: string[][] = [];
  readonly fingerprint?: Engine['fingerprint'];
  readonly trailHealth?: Engine['trailHealth'];
  constructor(readonly inner: Engine) {
    if (inner.fingerprint) this.fingerprint = (query) => inner.fingerprint!(query);
    if (inner.trailHealth) this.trailHealth = () => inner.trailHealth!();
  }
  get name() {
    return this.inner.name;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  get sourceId() {
    return this.inner.sourceId;
  }
  get maxConcurrentQueries() {
    return this.inner.maxConcurrentQueries;
  }
  async execute(query: CompiledQuery, options?: ExecuteOptions): Promise<EngineResult> {
    this.executed.push(query);
    const result = await this.inner.execute(query, options);
    if (result.stats.files) this.filesRead.push([...result.stats.files]);
    return result;
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return this.inner.close();
  }
  reset() {
    this.executed.length = 0;
    this.filesRead.length = 0;
  }
}

export interface TestServer {
  url: string;
  config: Config;
  engine: RecordingEngine;
  app: App;
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResponse<T>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

/** An API key every test server accepts, with full scope (admin, payloads). */
export const TEST_KEY = 'test-key-with-full-scope-0123456789';
export const TEST_KEYS = [{ id: 'tests', sha256: hashKey(TEST_KEY), accounts: ['*'], regions: [], payloads: true, admin: true }];

/** The configuration of an in-process test server: a free loopback port, silent, the test keys; `env` on top. */
export function testConfig(trailDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    TRAIL_DIR: trailDir,
    DUCKDB_THREADS: '2',
    API_KEYS: JSON.stringify(TEST_KEYS),
    ...env,
  });
}

export async function startServer(
  trailDir: string,
  env: Record<string, string> = {},
  extra: { cache?: QueryCacheLayer; now?: () => Date; engine?: EngineSetup } = {},
): Promise<TestServer> {
  const config = testConfig(trailDir, env);
  const { engine, dialect } = extra.engine ?? (await createEngine(config, trailDir));
  const recording = new RecordingEngine(engine);
  const app = await createApp({ config, engine: recording, dialect, logger: createLogger(config.logLevel), cache: extra.cache, now: extra.now });
  const port = await app.listen();
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    url,
    config,
    engine: recording,
    app,
    async gql(query, variables, headers = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as Omit<GqlResponse, 'status' | 'headers'>;
      return { status: res.status, headers: res.headers, ...body };
    },
    async close() {
      await app.close();
      await engine.close();
    },
  };
}
