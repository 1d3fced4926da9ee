/**
 * Helpers for the operability tests: an app whose logger, engine, cache and metrics the test
 * chooses, captured JSON logs, a Prometheus text parser, and an engine double whose queries wait
 * for the test to let them go.
 */
import 'reflect-metadata';
import { Writable } from 'node:stream';
import { App, createApp } from '../../src/app';
import { Config } from '../../src/config';
import { createEngine } from '../../src/engines';
import { CompiledQuery, Engine, EngineResult, ExecuteOptions } from '../../src/query/engine';
import { EngineError } from '../../src/errors';
import { Logger, createLogger } from '../../src/logger';
import { Metrics } from '../../src/ops/metrics';
import { QueryCacheLayer } from '../../src/query/runner';
import { RecordingEngine, TEST_KEY, testConfig } from './server';
import { SAMPLE_END } from './trails';

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Every line written so far, as written. */
  text(): string;
}

/** The service's logger (src/logger.ts), writing to memory. */
export function captureLogs(level = 'info'): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(level, stream);
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface OpsApp {
  readonly app: App;
  readonly config: Config;
  /** http://127.0.0.1:port (no path). */
  readonly origin: string;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export interface OpsAppOptions {
  readonly trailDir: string;
  readonly env?: Record<string, string>;
  /** Replaces the DuckDB engine over `trailDir` (it is then not closed by close()). */
  readonly engine?: (real: Engine) => Engine;
  readonly cache?: QueryCacheLayer;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/** The real app over a trail folder, on a free port, with the test API key. */
export async function startOpsApp(options: OpsAppOptions): Promise<OpsApp> {
  const config = testConfig(options.trailDir, options.env);
  const setup = await createEngine(config, options.trailDir);
  const engine = options.engine ? options.engine(setup.engine) : setup.engine;
  const logger = options.logger ?? createLogger('silent');
  const app = await createApp({ config, engine, dialect: setup.dialect, logger, cache: options.cache, metrics: options.metrics, now: () => SAMPLE_END });
  const port = await app.listen();
  const origin = `http://127.0.0.1:${port}`;
  let closed = false;
  return {
    app,
    config,
    origin,
    async gql(query, variables, headers = {}) {
      const res = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: await res.json() };
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await setup.engine.close();
    },
  };
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses the text format (the subset prom-client writes). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function metricSum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

export async function scrape(origin: string): Promise<Sample[]> {
  const res = await fetch(`${origin}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

/**
 * An engine whose queries wait until the test calls release() (or their request is aborted, then
 * they fail as cancelled), then run on the real engine. Records what happened, in order.
 */
export class GatedEngine extends RecordingEngine {
  readonly events: string[] = [];
  private gate!: Promise<void>;
  private open!: () => void;
  private started: (() => void)[] = [];

  /** `holds`: which queries wait at the gate (default all); the others run at once. */
  constructor(
    inner: Engine,
    private readonly holds: (query: CompiledQuery) => boolean = () => true,
  ) {
    super(inner);
    this.reset();
  }

  /** Closes the gate again for later queries. */
  override reset(): void {
    super.reset();
    this.gate = new Promise<void>((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open();
  }

  /** Resolves once `count` queries (default 1) have reached the gate. */
  async waiting(count = 1): Promise<void> {
    while (this.events.filter((e) => e === 'wait').length < count) await new Promise<void>((resolve) => this.started.push(resolve));
  }

  override async execute(query: CompiledQuery, options?: ExecuteOptions): Promise<EngineResult> {
    if (!this.holds(query)) return super.execute(query, options);
    this.events.push('wait');
    for (const wake of this.started.splice(0)) wake();
    const signal = options?.signal;
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal?.aborted) resolve('aborted');
      signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const how = await Promise.race([this.gate.then(() => 'released' as const), aborted]);
    if (how === 'aborted') {
      this.events.push('cancelled');
      throw new EngineError('query cancelled: the request was aborted', this.name);
    }
    const result = await super.execute(query, options);
    this.events.push('done');
    return result;
  }

  /** Records the close; the real engine is closed by the app's owner. */
  override async close() {
    this.events.push('close');
  }
}
