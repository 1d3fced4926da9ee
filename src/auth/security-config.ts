/**
 * Security settings from the environment: authentication (API keys, JWT, dev mode), query
 * limits, introspection, the Sandbox landing page and CORS. Parsed on its own and merged into
 * the service configuration, every problem reported together.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { AuthSettings } from './authenticate';
import { ApiKeysSchema } from './scope-config';
import { Env, bool, int, readVariable } from '../config/vars';

export interface SecurityConfig {
  readonly auth: AuthSettings;
  readonly limits: {
    readonly maxDepth: number;
    readonly maxComplexity: number;
    readonly maxAliases: number;
    /** Engine time one request may use across all its queries. */
    readonly requestEngineBudgetMs: number;
  };
  readonly introspection: boolean;
  readonly sandbox: boolean;
  /** Origins allowed to call from browsers (portals); `*` for any; empty for none. */
  readonly corsOrigins: readonly string[];
}

const flag = (env: Env, name: string, fallback: boolean, problems: string[]): boolean => readVariable(env, name, bool(fallback), problems) ?? fallback;

const number = (env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number =>
  readVariable(env, name, int(fallback, min, max), problems) ?? fallback;

function apiKeys(env: Env, problems: string[]): AuthSettings['apiKeys'] {
  let text = env.API_KEYS;
  let source = 'API_KEYS';
  if (env.API_KEYS_FILE) {
    source = 'API_KEYS_FILE';
    try {
      text = fs.readFileSync(env.API_KEYS_FILE, 'utf8');
    } catch {
      problems.push(`API_KEYS_FILE: cannot read ${env.API_KEYS_FILE}`);
      return [];
    }
  }
  if (!text || text.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    problems.push(`${source}: not JSON (expected [{"id":"...","sha256":"...","accounts":[...],"regions":[...],"payloads":false,"admin":false}])`);
    return [];
  }
  const parsed = ApiKeysSchema.safeParse(json);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${source}[${i.path.join('.')}]: ${i.message}`));
    return [];
  }
  const ids = parsed.data.map((k) => k.id);
  if (new Set(ids).size !== ids.length) problems.push(`${source}: key ids must be unique`);
  return parsed.data;
}

/**
 * `sampleTrail` is true when the service runs on the generated sample trail: the only case where
 * dev mode (no authentication) may be on, and where it is on unless AUTH_DEV_MODE=false.
 */
export function parseSecurityConfig(env: Env, sampleTrail: boolean, problems: string[]): SecurityConfig {
  const devMode = flag(env, 'AUTH_DEV_MODE', sampleTrail, problems);
  if (devMode && !sampleTrail) problems.push('AUTH_DEV_MODE: dev mode (no authentication) is only allowed on the generated sample trail');
  const keys = apiKeys(env, problems);
  const jwtConfigured = [env.JWT_JWKS_URL, env.JWT_PUBLIC_KEY, env.JWT_SECRET].filter((v) => v && v.trim() !== '').length;
  if (jwtConfigured > 1) problems.push('JWT_JWKS_URL, JWT_PUBLIC_KEY, JWT_SECRET: set only one');
  if (env.JWT_JWKS_URL && !z.string().url().safeParse(env.JWT_JWKS_URL).success) problems.push('JWT_JWKS_URL: must be a URL');
  if (env.JWT_SECRET && env.JWT_SECRET.length < 32) problems.push('JWT_SECRET: must be at least 32 characters');
  if (env.JWT_PUBLIC_KEY && !/-----BEGIN PUBLIC KEY-----/.test(env.JWT_PUBLIC_KEY)) problems.push('JWT_PUBLIC_KEY: must be a PEM public key (BEGIN PUBLIC KEY)');
  if (!devMode && keys.length === 0 && jwtConfigured === 0) {
    problems.push('API_KEYS / API_KEYS_FILE / JWT_JWKS_URL / JWT_PUBLIC_KEY / JWT_SECRET: no way to authenticate callers; configure keys or tokens');
  }
  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of corsOrigins) {
    if (o !== '*' && !/^https?:\/\/[a-z0-9.-]+(:\d+)?$/i.test(o)) problems.push(`CORS_ORIGINS: "${o}" is not an origin like https://portal.example.com`);
  }
  return {
    auth: {
      devMode,
      apiKeys: keys,
      jwt: jwtConfigured
        ? {
            jwksUrl: env.JWT_JWKS_URL || undefined,
            publicKey: env.JWT_PUBLIC_KEY || undefined,
            secret: env.JWT_SECRET || undefined,
            algorithm: env.JWT_ALGORITHM || undefined,
            issuer: env.JWT_ISSUER || undefined,
            audience: env.JWT_AUDIENCE || undefined,
            scopeClaim: env.JWT_SCOPE_CLAIM || 'trailql',
          }
        : undefined,
    },
    limits: {
      maxDepth: number(env, 'MAX_QUERY_DEPTH', 10, 2, 100, problems),
      maxComplexity: number(env, 'MAX_QUERY_COMPLEXITY', 50_000, 10, 10_000_000, problems),
      maxAliases: number(env, 'MAX_ALIASES', 30, 0, 1000, problems),
      requestEngineBudgetMs: number(env, 'REQUEST_ENGINE_BUDGET_MS', 300_000, 100, 3_600_000, problems),
    },
    introspection: flag(env, 'GRAPHQL_INTROSPECTION', true, problems),
    sandbox: flag(env, 'SANDBOX', true, problems),
    corsOrigins,
  };
}
