/**
 * Graceful shutdown. On SIGTERM or SIGINT the service:
 * 1. answers 503 on /healthz and /readyz, so load balancers stop sending traffic;
 * 2. stops accepting connections and closes idle keep-alive ones;
 * 3. waits for the HTTP requests in flight, up to the shutdown timeout;
 * 4. then answers every request still open with 503 and the code SHUTTING_DOWN (Retry-After),
 *    cancels its engine queries (DuckDB interrupt, Athena StopQueryExecution), closes the
 *    connections, and waits briefly for the cancelled queries to settle;
 * 5. stops the GraphQL server and closes the cache (Redis) and the engine (DuckDB, Athena client);
 * 6. exits 0, or 1 when a resource failed to close or the whole sequence overran.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { Logger } from '../logger';
import { Lifecycle } from './health';
import { IdleWaiters } from './idle';

/** Tells the client this connection closes after the response (when the headers are not sent yet). */
function closeAfter(res: http.ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}

/**
 * Counts the requests in flight on an HTTP server and drains it: must be created before the
 * server accepts its first connection.
 */
export class HttpDrainer {
  /** Open sockets and the requests each is serving. */
  private readonly sockets = new Map<Socket, number>();
  /** Responses not yet finished. */
  private readonly responses = new Set<http.ServerResponse>();
  /** How to cancel the work of a request still open at the deadline (see `track`). */
  private readonly cancels = new WeakMap<http.ServerResponse, () => void>();
  /** Responses the drainer answered itself at the deadline. */
  private readonly answered = new WeakSet<http.ServerResponse>();
  private draining = false;
  private readonly waiters = new IdleWaiters();

  constructor(private readonly server: http.Server) {
    // Prepended, so a request is counted before any other listener (the app) sees it.
    server.prependListener('connection', (socket: Socket) => {
      this.sockets.set(socket, 0);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.settle();
      });
    });
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      this.sockets.set(socket, (this.sockets.get(socket) ?? 0) + 1);
      this.responses.add(res);
      if (this.draining) closeAfter(res);
      res.once('close', () => {
        this.responses.delete(res);
        const left = Math.max(0, (this.sockets.get(socket) ?? 1) - 1);
        if (this.sockets.has(socket)) this.sockets.set(socket, left);
        if (this.draining && left === 0) socket.end();
        this.settle();
      });
    });
  }

  /** Registers how to cancel a request's work (its abort controller) if it is still open at the deadline. */
  track(res: http.ServerResponse, cancel: () => void): void {
    this.cancels.set(res, cancel);
  }

  /** True when the drainer answered this response at the deadline: the app must not write to it. */
  answeredAtDeadline(res: http.ServerResponse): boolean {
    return this.answered.has(res);
  }

  /**
   * At the deadline: cancels each open request's work and answers it 503 SHUTTING_DOWN, so no
   * client is left without a response. A response already streaming cannot be answered again.
   */
  private answerOpen(): void {
    const body = JSON.stringify({ errors: [{ message: 'The service is shutting down. Retry on another instance.', extensions: { code: 'SHUTTING_DOWN', retryAfterSeconds: 1 } }] });
    for (const res of [...this.responses]) {
      this.cancels.get(res)?.();
      if (res.headersSent || res.writableEnded) continue;
      this.answered.add(res);
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close', 'cache-control': 'no-store' });
      res.end(body);
    }
  }

  /** HTTP requests being served right now. */
  get inFlight(): number {
    let n = 0;
    for (const count of this.sockets.values()) n += count;
    return n;
  }

  private settle(): void {
    if (this.inFlight === 0) this.waiters.wake();
  }

  /**
   * Stops accepting connections, lets the requests in flight finish for up to `timeoutMs`, then
   * destroys the connections still open. Returns how many requests were cut off.
   */
  async drain(timeoutMs: number): Promise<{ graceful: boolean; abandoned: number }> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
    for (const [socket, requests] of this.sockets) if (requests === 0) socket.end();
    for (const res of this.responses) closeAfter(res);
    const graceful = await this.waiters.wait(this.inFlight === 0, timeoutMs);
    const abandoned = graceful ? 0 : this.inFlight;
    if (!graceful) {
      this.answerOpen();
      // The answers just written are flushed before the connections still busy are dropped.
      await this.waiters.wait(this.inFlight === 0, 500);
      for (const socket of this.sockets.keys()) socket.destroy();
    }
    // Sockets ended above close once the client hangs up; don't wait on a client that won't.
    const rest = setTimeout(() => {
      for (const socket of this.sockets.keys()) socket.destroy();
    }, 1000);
    rest.unref();
    await closed;
    clearTimeout(rest);
    return { graceful, abandoned };
  }
}

/** Something to close at the end, named for the log. */
export interface Closable {
  readonly name: string;
  close(): Promise<void>;
}

export interface ShutdownOptions {
  readonly lifecycle: Lifecycle;
  readonly drainer: HttpDrainer;
  /** How long requests in flight may run on before they are aborted. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /**
   * Resolves true once no engine query is running (false after `ms`): called after requests were
   * aborted, so that cancelled queries settle before the engine is closed.
   */
  readonly engineIdle?: (ms: number) => Promise<boolean>;
  /** How long cancelled engine queries get to settle. Default 5000 ms. */
  readonly abortGraceMs?: number;
  /** Closed in this order once no request is left: the GraphQL server, the cache, the engine. */
  readonly close: readonly Closable[];
}

export interface ShutdownReport {
  /** Every request in flight finished on its own. */
  readonly graceful: boolean;
  /** Requests cut off at the deadline. */
  readonly abandoned: number;
  /** Resources that failed to close. */
  readonly failures: readonly string[];
  readonly ms: number;
}

export async function shutdown(options: ShutdownOptions): Promise<ShutdownReport> {
  const { lifecycle, drainer, timeoutMs, logger } = options;
  const started = performance.now();
  lifecycle.startDraining();
  logger.info({ inFlight: drainer.inFlight, timeoutMs }, 'draining: no new connections, waiting for requests in flight');
  const { graceful, abandoned } = await drainer.drain(timeoutMs);
  if (!graceful) {
    logger.warn({ abandoned, timeoutMs }, 'shutdown timeout reached: answered the requests still running with 503 and cancelled their engine queries');
    const settled = (await options.engineIdle?.(options.abortGraceMs ?? 5000)) ?? true;
    if (!settled) logger.warn('engine queries still running after cancellation; closing the engine anyway');
  }
  const failures: string[] = [];
  for (const resource of options.close) {
    try {
      await resource.close();
    } catch (err) {
      failures.push(resource.name);
      logger.error({ resource: resource.name, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'failed to close');
    }
  }
  const ms = Math.round(performance.now() - started);
  logger.info({ graceful, abandoned, failures, ms }, 'shutdown complete');
  return { graceful, abandoned, failures, ms };
}

export interface SignalOptions {
  readonly logger: Logger;
  /** Runs the shutdown once, on the first signal. */
  readonly run: () => Promise<ShutdownReport>;
  /** Exits the process (process.exit, replaced in tests). */
  readonly exit: (code: number) => void;
  /** After this long the process exits 1 whatever the shutdown is doing. */
  readonly hardDeadlineMs: number;
  readonly signals?: readonly NodeJS.Signals[];
  /** The process whose signals are handled (tests pass an emitter). Default `process`. */
  readonly target?: Pick<NodeJS.Process, 'on' | 'removeListener'>;
}

/**
 * Runs the shutdown on the first SIGTERM/SIGINT and exits 0 (1 when a resource failed to close,
 * the shutdown threw, or it overran the hard deadline). Later signals are logged and ignored.
 * Returns a function removing the handlers.
 */
export function onTerminationSignals(options: SignalOptions): () => void {
  const target = options.target ?? process;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let started = false;
  const handler = (signal: NodeJS.Signals) => {
    if (started) {
      options.logger.info({ signal }, 'already shutting down');
      return;
    }
    started = true;
    options.logger.info({ signal }, 'shutting down');
    const hard = setTimeout(() => {
      options.logger.error({ ms: options.hardDeadlineMs }, 'shutdown overran its deadline: exiting');
      options.exit(1);
    }, options.hardDeadlineMs);
    hard.unref();
    options
      .run()
      .then(
        (report) => report.failures.length === 0,
        (err: unknown) => {
          options.logger.error({ err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'shutdown failed');
          return false;
        },
      )
      .then((ok) => {
        clearTimeout(hard);
        options.exit(ok ? 0 : 1);
      });
  };
  for (const signal of signals) target.on(signal, handler);
  return () => {
    for (const signal of signals) target.removeListener(signal, handler);
  };
}
