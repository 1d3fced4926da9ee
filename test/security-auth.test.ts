/**
 * Scopes from API keys and tokens (fail closed: "all" is said explicitly) and the security
 * configuration, without a server. `npm run mutation` runs these against src/auth.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jose from 'jose';
import { Authenticator, hashKey } from '../src/auth/authenticate';
import { ApiKeySchema, ScopeSchema, scopeOf } from '../src/auth/scope-config';
import { parseSecurityConfig } from '../src/auth/security-config';
import { A, B, SECRET, refusalOf } from './support/refusals';

describe('scopes: "all" must be said explicitly', () => {
  test('accounts named, ["*"], or admin; never missing or empty', () => {
    expect(ScopeSchema.safeParse({ accounts: [A] }).success).toBe(true);
    expect(ScopeSchema.safeParse({ accounts: ['*'] }).success).toBe(true);
    expect(ScopeSchema.safeParse({ admin: true }).success).toBe(true);
    expect(ScopeSchema.safeParse({}).success).toBe(false);
    expect(ScopeSchema.safeParse({ accounts: [] }).success).toBe(false);
    expect(ScopeSchema.safeParse({ accounts: [], admin: false }).success).toBe(false);
    expect(ScopeSchema.safeParse({ accounts: ['*', A] }).success).toBe(false);
    expect(ScopeSchema.safeParse({ accounts: ['all'] }).success).toBe(false);
    expect(ScopeSchema.safeParse({ accounts: [A], regions: ['*', 'eu-west-1'] }).success).toBe(false);
    expect(ScopeSchema.safeParse({ accounts: [A], regions: ['moon-1'] }).success).toBe(false);
    const bad = ScopeSchema.safeParse({ accounts: [] });
    expect(bad.success ? '' : bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join()).toMatch(/^accounts: accounts: name the accounts, or \["\*"\] for all accounts$/);
    const mixed = ScopeSchema.safeParse({ accounts: ['*', A] });
    expect(mixed.success ? '' : mixed.error.issues[0].message).toBe('accounts: "*" (all) stands alone');
  });

  test('defaults are the narrow ones', () => {
    expect(ScopeSchema.parse({ accounts: [A] })).toEqual({ accounts: [A], regions: [], payloads: false, admin: false });
  });

  test('API key entries follow the same rule', () => {
    const key = { id: 'k', sha256: 'a'.repeat(64) };
    expect(ApiKeySchema.safeParse({ ...key, accounts: [] }).success).toBe(false);
    expect(ApiKeySchema.safeParse(key).success).toBe(false);
    expect(ApiKeySchema.safeParse({ ...key, accounts: ['*'] }).success).toBe(true);
    expect(ApiKeySchema.safeParse({ ...key, admin: true }).success).toBe(true);
    expect(ApiKeySchema.safeParse({ ...key, id: 'bad id', accounts: [A] }).success).toBe(false);
    expect(ApiKeySchema.safeParse({ ...key, sha256: 'A'.repeat(64), accounts: [A] }).success).toBe(false);
    expect(ApiKeySchema.safeParse({ ...key, sha256: `x${'a'.repeat(64)}`, accounts: [A] }).success).toBe(false);
    expect(ApiKeySchema.safeParse({ ...key, sha256: `${'a'.repeat(64)}x`, accounts: [A] }).success).toBe(false);
    expect(ApiKeySchema.safeParse({ ...key, id: 'portal-1.a_b', accounts: [A] }).success).toBe(true);
    expect(ApiKeySchema.safeParse({ ...key, id: 'x'.repeat(65), accounts: [A] }).success).toBe(false);
    const messages = (v: unknown) => {
      const r = ApiKeySchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => i.message);
    };
    expect(messages({ id: '', sha256: 'z', accounts: ['1'], regions: ['x'] })).toEqual(
      expect.arrayContaining(['id: 1 to 64 letters, digits, ".", "_" or "-"', 'sha256: the hex SHA-256 of the key', 'accounts: 12-digit account ids', 'regions: region names like us-east-1']),
    );
    expect(messages({ ...key, accounts: [A], regions: ['*', 'eu-west-1'] })).toEqual(['regions: "*" (all) stands alone']);
  });

  test('scopeOf turns "*" into no restriction and keeps the rest', () => {
    expect(scopeOf({ accounts: ['*'], regions: ['*'], payloads: true, admin: false }, 'p')).toEqual({ accounts: [], regions: [], readPayloads: true, admin: false, principal: 'p' });
    expect(scopeOf({ accounts: [A], regions: ['eu-west-1'], payloads: false, admin: true }, 'q')).toEqual({ accounts: [A], regions: ['eu-west-1'], readPayloads: false, admin: true, principal: 'q' });
  });
});

describe('Authenticator', () => {
  const KEY = 'a-key-for-account-a';
  const ALL_KEY = 'a-key-for-all-accounts';
  const auth = new Authenticator({
    devMode: false,
    apiKeys: [
      { id: 'a', sha256: hashKey(KEY), accounts: [A], regions: [], payloads: false, admin: false },
      { id: 'all', sha256: hashKey(ALL_KEY), accounts: ['*'], regions: [], payloads: true, admin: false },
    ],
    jwt: { secret: SECRET, issuer: 'https://idp', audience: 'trailql', scopeClaim: 'trailql' },
  });
  const sign = (claims: Record<string, unknown>, opts: { exp?: string; aud?: string; iss?: string; secret?: string } = {}) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer(opts.iss ?? 'https://idp')
      .setAudience(opts.aud ?? 'trailql')
      .setExpirationTime(opts.exp ?? '10m')
      .sign(new TextEncoder().encode(opts.secret ?? SECRET));
  const bearer = async (token: string | Promise<string>) => `Bearer ${await token}`;

  test('API keys: scope and principal', async () => {
    expect(await auth.authenticate(`Bearer ${KEY}`)).toEqual({ accounts: [A], regions: [], readPayloads: false, admin: false, principal: 'key:a' });
    expect(await auth.authenticate(`bearer   ${ALL_KEY}  `)).toEqual({ accounts: [], regions: [], readPayloads: true, admin: false, principal: 'key:all' });
  });

  test('no header, a malformed header, an unknown key: 401 with a Bearer challenge', async () => {
    for (const header of [undefined, '', 'Basic abc', `Bearer`, `Bearer ${KEY} extra`, `Bearer ${'x'.repeat(8193)}`, 'Bearer unknown-key']) {
      const r = await refusalOf(auth.authenticate(header));
      expect(r).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    }
    const err = await auth.authenticate(undefined).catch((e: { extensions: { http: { headers: Map<string, string> } } }) => e);
    expect((err as { extensions: { http: { headers: Map<string, string> } } }).extensions.http.headers.get('www-authenticate')).toBe('Bearer');
    expect((await refusalOf(auth.authenticate(undefined))).message).toMatch(/authentication required/);
    expect((await refusalOf(auth.authenticate('Basic abc'))).message).toMatch(/must be "Bearer/);
    expect((await refusalOf(auth.authenticate('Bearer nope'))).message).toBe('unknown API key');
  });

  test('a token with a scope naming accounts is scoped to them', async () => {
    expect(await auth.authenticate(await bearer(sign({ trailql: { accounts: [A], regions: ['eu-west-1'], payloads: true } })))).toEqual({
      accounts: [A],
      regions: ['eu-west-1'],
      readPayloads: true,
      admin: false,
      principal: 'jwt:alice',
    });
  });

  test('explicit all: accounts ["*"] or admin', async () => {
    expect((await auth.authenticate(await bearer(sign({ trailql: { accounts: ['*'] } })))).accounts).toEqual([]);
    expect(await auth.authenticate(await bearer(sign({ trailql: { admin: true } })))).toMatchObject({ accounts: [], admin: true });
  });

  test('no scope claim, a null one, an empty one, no accounts: 401 and nothing granted', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /token has no "trailql" claim/],
      [{ trailql: null }, /token has no "trailql" claim/],
      [{ trailql: {} }, /is not a valid scope: accounts: name the accounts/],
      [{ trailql: { accounts: [] } }, /not a valid scope/],
      [{ trailql: { accounts: [], regions: ['eu-west-1'], payloads: true } }, /not a valid scope/],
      [{ trailql: 'all' }, /not a valid scope/],
      [{ other: { accounts: ['*'] } }, /no "trailql" claim/],
    ];
    for (const [claims, message] of cases) {
      const r = await refusalOf(auth.authenticate(await bearer(sign(claims))));
      expect(r).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
      expect(r.message).toMatch(message);
    }
  });

  test('alg none, expired, wrong audience, issuer or secret, missing exp or sub', async () => {
    const unsigned = new jose.UnsecuredJWT({ trailql: { accounts: ['*'] } }).setSubject('mallory').setIssuer('https://idp').setAudience('trailql').setExpirationTime('10m').encode();
    const noExp = await new jose.SignJWT({ trailql: { accounts: ['*'] } }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer('https://idp').setAudience('trailql').sign(new TextEncoder().encode(SECRET));
    const noSub = await new jose.SignJWT({ trailql: { accounts: ['*'] } }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp').setAudience('trailql').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
    const cases: [string, RegExp][] = [
      [unsigned, /token not valid/],
      [noSub, /claim "sub" not accepted/],
      [await sign({ trailql: { accounts: ['*'] } }, { exp: '-1m' }), /token expired/],
      [await sign({ trailql: { accounts: ['*'] } }, { aud: 'other' }), /claim "aud" not accepted/],
      [await sign({ trailql: { accounts: ['*'] } }, { iss: 'https://evil' }), /claim "iss" not accepted/],
      [await sign({ trailql: { accounts: ['*'] } }, { secret: 'another-secret-of-at-least-32-characters' }), /token not valid/],
      [noExp, /claim "exp" not accepted/],
    ];
    for (const [token, message] of cases) {
      const r = await refusalOf(auth.authenticate(`Bearer ${token}`));
      expect(r).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
      expect(r.message).toMatch(message);
    }
  });

  test('dev mode grants full access only without a header; a token is still checked', async () => {
    const dev = new Authenticator({ devMode: true, apiKeys: [] });
    expect(await dev.authenticate(undefined)).toEqual({ accounts: [], regions: [], readPayloads: true, principal: 'dev-mode', admin: true });
    expect(await refusalOf(dev.authenticate('Bearer unknown'))).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await refusalOf(dev.authenticate('Bearer a.b.c'))).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('security configuration', () => {
  const key = (accounts: unknown) => JSON.stringify([{ id: 'k', sha256: 'a'.repeat(64), accounts }]);
  const parse = (env: Record<string, string | undefined>, sample = false) => {
    const problems: string[] = [];
    const config = parseSecurityConfig(env, sample, problems);
    return { config, problems };
  };

  test('a key entry naming no accounts stops start-up; ["*"] is accepted', () => {
    expect(parse({ API_KEYS: key([]) }).problems.join()).toMatch(/API_KEYS\[0\.accounts\]: accounts: name the accounts, or \["\*"\]/);
    expect(parse({ API_KEYS: JSON.stringify([{ id: 'k', sha256: 'a'.repeat(64) }]) }).problems.join()).toMatch(/accounts/);
    const ok = parse({ API_KEYS: key(['*']) });
    expect(ok.problems).toEqual([]);
    expect(ok.config.auth.apiKeys[0].accounts).toEqual(['*']);
  });

  test('keys: file, JSON, duplicates', () => {
    expect(parse({ API_KEYS: 'not json' }).problems.join()).toMatch(/API_KEYS: not JSON/);
    expect(parse({ API_KEYS_FILE: '/nonexistent/keys.json' }).problems.join()).toMatch(/API_KEYS_FILE: cannot read/);
    const dup = JSON.stringify([{ id: 'k', sha256: 'a'.repeat(64), accounts: [A] }, { id: 'k', sha256: 'b'.repeat(64), accounts: [B] }]);
    expect(parse({ API_KEYS: dup }).problems).toEqual(['API_KEYS: key ids must be unique']);
    expect(parse({ API_KEYS: '  ' }).problems.join()).toMatch(/no way to authenticate/);
  });

  test('dev mode only on the sample trail; JWT settings checked', () => {
    expect(parse({}, true)).toMatchObject({ problems: [], config: { auth: { devMode: true, jwt: undefined } } });
    expect(parse({ AUTH_DEV_MODE: 'false', API_KEYS: key([A]) }, true).config.auth.devMode).toBe(false);
    expect(parse({ AUTH_DEV_MODE: 'true' }).problems.join()).toMatch(/only allowed on the generated sample trail/);
    expect(parse({ AUTH_DEV_MODE: 'maybe', API_KEYS: key([A]) }).problems.join()).toMatch(/AUTH_DEV_MODE: must be true or false/);
    expect(parse({ JWT_SECRET: 'short' }).problems.join()).toMatch(/JWT_SECRET: must be at least 32/);
    expect(parse({ JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://idp/jwks' }).problems.join()).toMatch(/set only one/);
    expect(parse({ JWT_JWKS_URL: 'not a url' }).problems.join()).toMatch(/JWT_JWKS_URL: must be a URL/);
    expect(parse({ JWT_PUBLIC_KEY: 'abc' }).problems.join()).toMatch(/JWT_PUBLIC_KEY: must be a PEM/);
    const jwt = parse({ JWT_SECRET: SECRET, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHM: 'HS256' });
    expect(jwt.problems).toEqual([]);
    expect(jwt.config.auth.jwt).toEqual({ jwksUrl: undefined, publicKey: undefined, secret: SECRET, algorithm: 'HS256', issuer: 'i', audience: 'a', scopeClaim: 'trailql' });
    expect(parse({ JWT_SECRET: SECRET, JWT_SCOPE_CLAIM: 'scope' }).config.auth.jwt?.scopeClaim).toBe('scope');
  });

  test('keys from a file, with the file named in every problem', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-keys-'));
    const file = (name: string, text: string) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    };
    try {
      const good = parse({ API_KEYS_FILE: file('good.json', key([A])), API_KEYS: 'ignored when a file is given' });
      expect(good.problems).toEqual([]);
      expect(good.config.auth.apiKeys).toEqual([{ id: 'k', sha256: 'a'.repeat(64), accounts: [A], regions: [], payloads: false, admin: false }]);
      expect(parse({ API_KEYS_FILE: file('bad.json', '[') }).problems).toEqual([
        'API_KEYS_FILE: not JSON (expected [{"id":"...","sha256":"...","accounts":[...],"regions":[...],"payloads":false,"admin":false}])',
        'API_KEYS / API_KEYS_FILE / JWT_JWKS_URL / JWT_PUBLIC_KEY / JWT_SECRET: no way to authenticate callers; configure keys or tokens',
      ]);
      expect(parse({ API_KEYS_FILE: file('empty.json', key([])), JWT_SECRET: SECRET }).problems).toEqual(['API_KEYS_FILE[0.accounts]: accounts: name the accounts, or ["*"] for all accounts']);
      const dup = JSON.stringify([{ id: 'k', sha256: 'a'.repeat(64), accounts: [A] }, { id: 'k', sha256: 'b'.repeat(64), accounts: [B] }]);
      expect(parse({ API_KEYS_FILE: file('dup.json', dup) }).problems).toEqual(['API_KEYS_FILE: key ids must be unique']);
      expect(parse({ API_KEYS_FILE: dir, JWT_SECRET: SECRET }).problems).toEqual([`API_KEYS_FILE: cannot read ${dir}`]);
      expect(parse({ API_KEYS_FILE: file('blank.json', ' \n'), JWT_SECRET: SECRET }).problems).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(parse({ API_KEYS: '{', JWT_SECRET: SECRET }).problems).toEqual(['API_KEYS: not JSON (expected [{"id":"...","sha256":"...","accounts":[...],"regions":[...],"payloads":false,"admin":false}])']);
    expect(parse({ API_KEYS: key([A, B]) }).config.auth.apiKeys.map((k) => k.id)).toEqual(['k']);
    expect(parse({ API_KEYS: '', JWT_SECRET: SECRET }).problems).toEqual([]);
  });

  test('token settings: exactly one key source, blank ones ignored, each checked', () => {
    const jwtOf = (env: Record<string, string>) => parse(env).config.auth.jwt;
    expect(parse({ JWT_SECRET: 'x'.repeat(32) }).problems).toEqual([]);
    expect(parse({ JWT_SECRET: 'x'.repeat(31) }).problems).toEqual(['JWT_SECRET: must be at least 32 characters']);
    expect(parse({ JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' }).problems).toEqual([]);
    expect(jwtOf({ JWT_JWKS_URL: 'https://idp/jwks' })).toEqual({ jwksUrl: 'https://idp/jwks', publicKey: undefined, secret: undefined, algorithm: undefined, issuer: undefined, audience: undefined, scopeClaim: 'trailql' });
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----';
    expect(parse({ JWT_PUBLIC_KEY: pem }).problems).toEqual([]);
    expect(jwtOf({ JWT_PUBLIC_KEY: pem, JWT_ISSUER: '', JWT_AUDIENCE: '', JWT_ALGORITHM: '', JWT_SCOPE_CLAIM: '' })).toEqual({ jwksUrl: undefined, publicKey: pem, secret: undefined, algorithm: undefined, issuer: undefined, audience: undefined, scopeClaim: 'trailql' });
    // Blank values do not count as a second source (nor as the only one).
    expect(parse({ JWT_SECRET: SECRET, JWT_JWKS_URL: '', JWT_PUBLIC_KEY: ' ' }).problems).toEqual(['JWT_PUBLIC_KEY: must be a PEM public key (BEGIN PUBLIC KEY)']);
    expect(parse({ JWT_SECRET: ' ', API_KEYS: key([A]) }).config.auth.jwt).toBeUndefined();
    expect(parse({ JWT_JWKS_URL: ' ' }).problems.join()).toMatch(/no way to authenticate/);
    expect(parse({ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: pem, JWT_JWKS_URL: 'https://idp/jwks' }).problems).toEqual(['JWT_JWKS_URL, JWT_PUBLIC_KEY, JWT_SECRET: set only one']);
    expect(parse({ JWT_PUBLIC_KEY: pem, JWT_JWKS_URL: 'https://idp/jwks' }).problems).toEqual(['JWT_JWKS_URL, JWT_PUBLIC_KEY, JWT_SECRET: set only one']);
    expect(parse({ JWT_JWKS_URL: 'idp/jwks' }).problems).toEqual(['JWT_JWKS_URL: must be a URL']);
  });

  test('dev mode, the no-authentication check and CORS origins, exactly', () => {
    expect(parse({ AUTH_DEV_MODE: 'true' }, true).problems).toEqual([]);
    expect(parse({ AUTH_DEV_MODE: 'true' }).problems).toEqual(['AUTH_DEV_MODE: dev mode (no authentication) is only allowed on the generated sample trail']);
    expect(parse({ AUTH_DEV_MODE: 'false' }, true).problems).toEqual(['API_KEYS / API_KEYS_FILE / JWT_JWKS_URL / JWT_PUBLIC_KEY / JWT_SECRET: no way to authenticate callers; configure keys or tokens']);
    expect(parse({ API_KEYS: key([A]) }).config.auth.devMode).toBe(false);
    const cors = (value: string) => parse({ API_KEYS: key([A]), CORS_ORIGINS: value });
    expect(cors(' https://a.example.com ,, HTTP://B.EXAMPLE.COM:8080,').config.corsOrigins).toEqual(['https://a.example.com', 'HTTP://B.EXAMPLE.COM:8080']);
    expect(cors('https://a.example.com,HTTP://B.EXAMPLE.COM:8080').problems).toEqual([]);
    for (const bad of ['xhttps://a.example.com', 'https://a.example.com/path', 'ftp://a.example.com', 'https://a.example.com:', 'https://a_b.example.com', 'https://']) {
      expect(cors(bad).problems).toEqual([`CORS_ORIGINS: "${bad}" is not an origin like https://portal.example.com`]);
    }
  });

  test('every limit variable is read; distinct key ids are not duplicates', () => {
    const { config, problems } = parse({ API_KEYS: key([A]), MAX_QUERY_COMPLEXITY: '1234', REQUEST_ENGINE_BUDGET_MS: '5000', MAX_ALIASES: '7', MAX_QUERY_DEPTH: '9' });
    expect(problems).toEqual([]);
    expect(config.limits).toEqual({ maxDepth: 9, maxComplexity: 1234, maxAliases: 7, requestEngineBudgetMs: 5000 });
    const two = JSON.stringify([{ id: 'k1', sha256: 'a'.repeat(64), accounts: [A] }, { id: 'k2', sha256: 'b'.repeat(64), accounts: [B] }]);
    expect(parse({ API_KEYS: two }).problems).toEqual([]);
  });

  test('limits, flags and CORS origins', () => {
    const { config, problems } = parse({ API_KEYS: key([A]), MAX_QUERY_DEPTH: '5', MAX_ALIASES: '0', GRAPHQL_INTROSPECTION: 'off', SANDBOX: 'no', CORS_ORIGINS: 'https://portal.example.com, http://localhost:3000' });
    expect(problems).toEqual([]);
    expect(config.limits).toEqual({ maxDepth: 5, maxComplexity: 50_000, maxAliases: 0, requestEngineBudgetMs: 300_000 });
    expect(config).toMatchObject({ introspection: false, sandbox: false, corsOrigins: ['https://portal.example.com', 'http://localhost:3000'] });
    expect(parse({ API_KEYS: key([A]) }).config).toMatchObject({ introspection: true, sandbox: true, corsOrigins: [] });
    expect(parse({ API_KEYS: key([A]), MAX_QUERY_DEPTH: '1' }).problems.join()).toMatch(/MAX_QUERY_DEPTH: must be a whole number from 2 to 100/);
    expect(parse({ API_KEYS: key([A]), MAX_QUERY_DEPTH: '101' }).problems.join()).toMatch(/MAX_QUERY_DEPTH/);
    expect(parse({ API_KEYS: key([A]), MAX_QUERY_DEPTH: '2.5' }).problems.join()).toMatch(/MAX_QUERY_DEPTH/);
    expect(parse({ API_KEYS: key([A]), MAX_QUERY_DEPTH: '100', MAX_ALIASES: '1000' }).problems).toEqual([]);
    expect(parse({ API_KEYS: key([A]), CORS_ORIGINS: 'portal.example.com' }).problems.join()).toMatch(/CORS_ORIGINS: "portal.example.com" is not an origin/);
    expect(parse({ API_KEYS: key([A]), CORS_ORIGINS: '*' }).problems).toEqual([]);
  });
});
