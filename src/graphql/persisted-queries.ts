/**
 * Automatic persisted queries, kept per caller. Apollo keeps one store of query texts by hash for
 * the whole process: a key could send the hashes of texts it guessed and learn, from which ones the
 * store knew, what other callers had asked (a user, an address, an account it may not read). Here
 * each caller's texts are kept under its principal, so a hash another caller registered is one it
 * was never sent (PERSISTED_QUERY_NOT_FOUND), as the answer caches keep each caller's answers apart.
 *
 * Apollo looks a hash up inside its request pipeline, where no request is at hand: the caller is
 * handed over in the request's async context, set by `persistedQueriesFor` in front of Apollo.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import express from 'express';
import { InMemoryLRUCache, KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';

const caller = new AsyncLocalStorage<string>();

/** Query texts by (caller, hash). Without a caller in the async context nothing is found or kept. */
export class PerCallerQueries implements KeyValueCache<string> {
  constructor(private readonly texts: KeyValueCache<string> = new InMemoryLRUCache<string>()) {}

  private keyOf(hash: string): string | undefined {
    const principal = caller.getStore();
    return principal === undefined ? undefined : JSON.stringify([principal, hash]);
  }

  async get(hash: string): Promise<string | undefined> {
    const key = this.keyOf(hash);
    return key === undefined ? undefined : this.texts.get(key);
  }

  async set(hash: string, text: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const key = this.keyOf(hash);
    if (key !== undefined) await this.texts.set(key, text, options);
  }

  async delete(hash: string): Promise<boolean | void> {
    const key = this.keyOf(hash);
    return key === undefined ? false : this.texts.delete(key);
  }
}

/** Whether a request speaks the persisted-query protocol (in its body, or a GET's `extensions`). */
function persisted(req: express.Request): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return typeof req.query.extensions === 'string' && req.query.extensions.includes('persistedQuery');
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && 'extensions' in body;
}

/**
 * Runs the rest of a persisted-query request with its caller in the async context (the caller the
 * response cache already authenticated, else `authenticate`'s). A request that cannot be
 * authenticated goes on without one: Apollo refuses it when it builds the request's context.
 */
export function persistedQueriesFor(authenticate: (req: express.Request) => Promise<{ readonly principal: string }>): express.RequestHandler {
  return (req, _res, next) => {
    if (!persisted(req)) return next();
    authenticate(req).then(
      (scope) => caller.run(scope.principal, next),
      () => next(),
    );
  };
}
