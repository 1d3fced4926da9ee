/**
 * Serves the browser code: /embed/ (the components bundle, fetchable from any origin), /ui (the
 * console) and /explorer (GraphiQL, unless EXPLORER=off). Pages carry a strict Content Security
 * Policy: scripts, styles and connections from this origin only, no inline code, no eval (the
 * explorer's styles may also carry its response's nonce: GraphiQL's dialogs insert a style).
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { Logger } from '../logger';
import { Asset, AssetSet, BundleName, STYLE_NONCE_PLACEHOLDER, loadBundle } from './assets';

export type ExplorerMode = 'sandbox' | 'graphiql' | 'off';

/** The policy every page is served with. Fonts and images may be data: URLs (GraphiQL's own font is one). */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

export interface WebRoutesOptions {
  readonly explorer: ExplorerMode;
  readonly logger: Logger;
  /** Where prebuilt bundles are looked for (tests). */
  readonly prebuiltDir?: string;
}

/** PAGE_CSP with styles carrying `nonce` allowed too. */
export const pageCspWithStyleNonce = (nonce: string): string => PAGE_CSP.replace("style-src 'self'", `style-src 'self' 'nonce-${nonce}'`);

/**
 * A page whose styles may carry a nonce (STYLE_NONCE_PLACEHOLDER), with a fresh one, and its
 * policy; any other asset as it is.
 */
function withNonce(a: Asset): { body: Buffer; gzip?: Buffer; csp: string } {
  if (a.immutable || !a.body.includes(STYLE_NONCE_PLACEHOLDER)) return { body: a.body, gzip: a.gzip, csp: PAGE_CSP };
  const nonce = randomBytes(18).toString('base64');
  const body = Buffer.from(a.body.toString('utf8').split(STYLE_NONCE_PLACEHOLDER).join(nonce));
  return { body, csp: pageCspWithStyleNonce(nonce) };
}

function send(req: express.Request, res: express.Response, a: Asset): void {
  res.setHeader('content-type', a.type);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('vary', 'accept-encoding');
  const page = withNonce(a);
  if (a.immutable) {
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
  } else {
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('content-security-policy', page.csp);
    res.setHeader('referrer-policy', 'no-referrer');
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzip) res.setHeader('content-encoding', 'gzip');
  res.end(req.method === 'HEAD' ? undefined : gzip ? (page.gzip ?? gzipSync(page.body)) : page.body);
}

export function webRoutes(options: WebRoutesOptions): express.Router {
  const router = express.Router();
  const serve = (name: BundleName) => async (req: express.Request, res: express.Response, next: express.NextFunction) => {
    let set: AssetSet;
    try {
      set = await loadBundle(name, options.prebuiltDir);
    } catch (err) {
      options.logger.error({ err, bundle: name }, 'building the browser bundle failed');
      res.status(500).type('text/plain').send(`The ${name} bundle could not be built; see the service log.`);
      return;
    }
    const alias = set.aliases.get(req.path);
    if (alias) {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('access-control-allow-origin', '*');
      res.redirect(302, alias);
      return;
    }
    const file = set.files.get(req.path);
    if (!file) return next();
    if (file.url.startsWith('/embed/')) {
      // Public code, no data: any portal may load it as a module script (a CORS request).
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('cross-origin-resource-policy', 'cross-origin');
    }
    send(req, res, file);
  };
  router.get(/^\/embed\/[\w.-]+$/, serve('components'));
  router.get(/^\/ui(\/[\w.-]+)?$/, serve('components'));
  if (options.explorer !== 'off') router.get(/^\/explorer(\/[\w.-]+)?$/, serve('explorer'));
  if (options.explorer === 'graphiql') {
    // A browser opening the endpoint gets the bundled explorer, as it would Apollo's page.
    // `use`, not `get`: a GET route would also answer the endpoint's CORS preflight (OPTIONS).
    router.use('/graphql', (req, res, next) => {
      const page = req.method === 'GET' && req.path === '/' && Object.keys(req.query).length === 0;
      if (page && req.accepts(['application/json', 'text/html']) === 'text/html') res.redirect(302, '/explorer');
      else next();
    });
  }
  return router;
}
