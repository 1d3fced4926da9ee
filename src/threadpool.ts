/**
 * Sizes libuv's thread pool; imported first by main.ts, before anything can use the pool (it is
 * created on first use and never resized).
 *
 * Every DuckDB query runs on a pool thread for its whole duration, and so do file listings,
 * `stat`s and the readiness ping. Node's default of 4 threads means 4 running queries hold the
 * whole pool: file listings and /readyz then wait behind them. The pool is sized above the
 * admission limit (ENGINE_MAX_CONCURRENT, default 4) with room for file work and probes. An
 * explicit UV_THREADPOOL_SIZE in the environment is kept (this and src/config/ are the only readers
 * of the environment: this one has to run before the configuration is loaded).
 */
export const DEFAULT_THREADPOOL_SIZE = 16;

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(DEFAULT_THREADPOOL_SIZE);
