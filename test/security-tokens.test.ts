/**
 * Tokens verified by each kind of key: a PEM public key, a JWKS served over HTTP on 127.0.0.1, a
 * shared secret with a fixed algorithm; and the edges of the Authorization header. No server of
 * the service. `npm run mutation` runs these against src/auth.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { Authenticator, hashKey } from '../src/auth/authenticate';
import { A, SECRET, refusalOf } from './support/refusals';

const CLAIM = { trailql: { accounts: [A] } };
const signWith = (key: jose.KeyLike | Uint8Array, alg: string, claims: Record<string, unknown> = CLAIM, kid?: string) =>
  new jose.SignJWT(claims).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).setSubject('alice').setExpirationTime('10m').sign(key);

describe('token keys', () => {
  let pair: { publicKey: jose.KeyLike; privateKey: jose.KeyLike };
  let other: { publicKey: jose.KeyLike; privateKey: jose.KeyLike };
  let server: http.Server;
  let jwksUrl: string;
  let fetches = 0;

  beforeAll(async () => {
    pair = await jose.generateKeyPair('ES256', { extractable: true });
    other = await jose.generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = http.createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a PEM public key verifies its own tokens only', async () => {
    const auth = new Authenticator({ devMode: false, apiKeys: [], jwt: { publicKey: await jose.exportSPKI(pair.publicKey), scopeClaim: 'trailql' } });
    expect(await auth.authenticate(`Bearer ${await signWith(pair.privateKey, 'ES256')}`)).toEqual({ accounts: [A], regions: [], readPayloads: false, admin: false, principal: 'jwt:alice' });
    expect(await refusalOf(auth.authenticate(`Bearer ${await signWith(other.privateKey, 'ES256')}`))).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, message: 'token not valid' });
  });

  test('a JWKS URL: keys fetched from it, once', async () => {
    const auth = new Authenticator({ devMode: false, apiKeys: [], jwt: { jwksUrl, scopeClaim: 'trailql' } });
    const before = fetches;
    expect((await auth.authenticate(`Bearer ${await signWith(pair.privateKey, 'ES256', CLAIM, 'k1')}`)).accounts).toEqual([A]);
    expect((await auth.authenticate(`Bearer ${await signWith(pair.privateKey, 'ES256', { trailql: { admin: true } }, 'k1')}`)).admin).toBe(true);
    expect(fetches - before).toBe(1);
    expect(await refusalOf(auth.authenticate(`Bearer ${await signWith(other.privateKey, 'ES256', CLAIM, 'k1')}`))).toMatchObject({ code: 'UNAUTHENTICATED', message: 'token not valid' });
  });

  test('a fixed algorithm refuses tokens signed with another', async () => {
    const secret = new TextEncoder().encode(SECRET);
    const fixed = new Authenticator({ devMode: false, apiKeys: [], jwt: { secret: SECRET, algorithm: 'HS512', scopeClaim: 'trailql' } });
    expect((await fixed.authenticate(`Bearer ${await signWith(secret, 'HS512')}`)).accounts).toEqual([A]);
    expect(await refusalOf(fixed.authenticate(`Bearer ${await signWith(secret, 'HS256')}`))).toMatchObject({ code: 'UNAUTHENTICATED', message: 'token not valid' });
    const any = new Authenticator({ devMode: false, apiKeys: [], jwt: { secret: SECRET, scopeClaim: 'trailql' } });
    expect((await any.authenticate(`Bearer ${await signWith(secret, 'HS384')}`)).accounts).toEqual([A]);
  });

  test('the scope claim: its configured name, every problem listed, the subject as principal', async () => {
    const secret = new TextEncoder().encode(SECRET);
    const auth = new Authenticator({ devMode: false, apiKeys: [], jwt: { secret: SECRET, scopeClaim: 'grants' } });
    expect(await auth.authenticate(`Bearer ${await signWith(secret, 'HS256', { grants: { accounts: ['*'] } })}`)).toMatchObject({ accounts: [], principal: 'jwt:alice' });
    expect((await refusalOf(auth.authenticate(`Bearer ${await signWith(secret, 'HS256', CLAIM)}`))).message).toBe('token has no "grants" claim');
    expect((await refusalOf(auth.authenticate(`Bearer ${await signWith(secret, 'HS256', { grants: { accounts: ['1'], regions: ['x'] } })}`))).message).toBe(
      'token claim "grants" is not a valid scope: accounts: 12-digit account ids; regions: region names like us-east-1',
    );
    const noSubject = await new jose.SignJWT(CLAIM).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(secret);
    const plain = new Authenticator({ devMode: false, apiKeys: [], jwt: { secret: SECRET, scopeClaim: 'trailql' } });
    expect((await refusalOf(plain.authenticate(`Bearer ${noSubject}`))).message).toBe('token claim "sub" not accepted');
    // A subject that names nobody is none: every such token would be one caller.
    for (const subject of ['', null, { id: 'x' }]) {
      const token = await new jose.SignJWT({ ...CLAIM, sub: subject } as jose.JWTPayload).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(secret);
      expect((await refusalOf(plain.authenticate(`Bearer ${token}`))).message).toBe('token claim "sub" not accepted');
    }
  });
});

describe('key hashes', () => {
  test('hashKey gives the hex SHA-256 that API key entries hold', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashKey('é')).toBe('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
  });
});

describe('the Authorization header', () => {
  const KEY = 'x'.repeat(8192);
  const DOTTED = 'not.a.token';

  test('a key of 8,192 characters is read; keys with dots are keys when no tokens are configured', async () => {
    const keys = new Authenticator({ devMode: false, apiKeys: [
      { id: 'long', sha256: hashKey(KEY), accounts: [A], regions: [], payloads: false, admin: false },
      { id: 'dotted', sha256: hashKey(DOTTED), accounts: ['*'], regions: [], payloads: false, admin: true },
    ] });
    expect((await keys.authenticate(`Bearer ${KEY}`)).principal).toBe('key:long');
    expect((await keys.authenticate(`Bearer\t${DOTTED}`)).principal).toBe('key:dotted');
    expect((await refusalOf(keys.authenticate(`Bearer ${KEY}x`))).message).toBe('the Authorization header must be "Bearer <API key or token>"');
    expect((await refusalOf(keys.authenticate(`Token ${DOTTED}`))).message).toBe('the Authorization header must be "Bearer <API key or token>"');
    expect((await refusalOf(keys.authenticate(`xBearer ${DOTTED}`))).message).toBe('the Authorization header must be "Bearer <API key or token>"');
    expect((await refusalOf(keys.authenticate(undefined))).message).toBe('authentication required: send "Authorization: Bearer <API key or token>"');
    // With tokens configured, three dot-separated parts are a token.
    const both = new Authenticator({ devMode: false, apiKeys: [{ id: 'dotted', sha256: hashKey(DOTTED), accounts: ['*'], regions: [], payloads: false, admin: false }], jwt: { secret: SECRET, scopeClaim: 'trailql' } });
    expect((await refusalOf(both.authenticate(`Bearer ${DOTTED}`))).message).toBe('token not valid');
    expect((await both.authenticate(`Bearer a.${DOTTED}`).catch((e: Error) => e.message))).toBe('unknown API key');
  });

  test('dev mode: a header is still checked, and a valid key gets its own scope', async () => {
    const dev = new Authenticator({ devMode: true, apiKeys: [{ id: 'a', sha256: hashKey('k'), accounts: [A], regions: [], payloads: false, admin: false }] });
    expect(await dev.authenticate('Bearer k')).toMatchObject({ accounts: [A], principal: 'key:a', admin: false });
    expect(await dev.authenticate('')).toMatchObject({ principal: 'dev-mode' });
  });
});
