/**
 * Who is calling: an API key (stored as its SHA-256 in configuration, sent as a bearer token) or
 * a JWT (verified against a JWKS URL or a static key, with issuer, audience and expiry). Either
 * yields a Scope, which the query guards apply to every plan.
 */
import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';
import * as jose from 'jose';
import { Scope } from '../query/guards';
import { ApiKeyEntry, ScopeSchema, scopeOf } from './scope-config';

export interface JwtSettings {
  readonly jwksUrl?: string;
  /** PEM public key (RS256/ES256/EdDSA) or a shared secret for HS256. */
  readonly publicKey?: string;
  readonly secret?: string;
  /** Algorithm of `publicKey`; guessed from the key when unset. */
  readonly algorithm?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Claim holding the scope object `{accounts, regions, payloads, admin}`; required, and it must name accounts (`["*"]` for all) or be admin. */
  readonly scopeClaim: string;
}

export interface AuthSettings {
  /** No authentication: every request gets full access. Only for the sample trail. */
  readonly devMode: boolean;
  readonly apiKeys: readonly ApiKeyEntry[];
  readonly jwt?: JwtSettings;
}

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: new Map([['www-authenticate', 'Bearer']]) } } });
}

const DEV_SCOPE: Scope = Object.freeze({ accounts: [], regions: [], readPayloads: true, principal: 'dev-mode', admin: true });

export class Authenticator {
  private readonly keys: { entry: ApiKeyEntry; hash: Buffer }[];
  private verifyKey?: Promise<jose.JWTVerifyGetKey>;

  constructor(private readonly settings: AuthSettings) {
    this.keys = settings.apiKeys.map((entry) => ({ entry, hash: Buffer.from(entry.sha256, 'hex') }));
  }

  /** Resolves the Authorization header to a scope, or throws UNAUTHENTICATED (HTTP 401). */
  async authenticate(authorization: string | undefined): Promise<Scope> {
    if (this.settings.devMode && !authorization) return DEV_SCOPE;
    if (!authorization) throw unauthenticated('authentication required: send "Authorization: Bearer <API key or token>"');
    const m = /^Bearer\s+(\S{1,8192})$/i.exec(authorization.trim());
    if (!m) throw unauthenticated('the Authorization header must be "Bearer <API key or token>"');
    const token = m[1];
    if (token.split('.').length === 3 && this.settings.jwt) return this.verifyJwt(token);
    return this.checkKey(token);
  }

  private checkKey(token: string): Scope {
    const hash = Buffer.from(hashKey(token), 'hex');
    // Compare against every key, so timing does not tell how many keys exist or which matched.
    let found: ApiKeyEntry | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.hash, hash)) found = k.entry;
    if (!found) throw unauthenticated('unknown API key');
    return scopeOf(found, `key:${found.id}`);
  }

  /** The verification key as a key lookup, whatever its source (one call shape for jose). */
  private key(): Promise<jose.JWTVerifyGetKey> {
    const jwt = this.settings.jwt!;
    this.verifyKey ??= (async () => {
      if (jwt.jwksUrl) return jose.createRemoteJWKSet(new URL(jwt.jwksUrl));
      // A KeyObject serves every algorithm of its key type; JWT_ALGORITHM narrows them at verification.
      const fixed = jwt.secret ? new TextEncoder().encode(jwt.secret) : createPublicKey(jwt.publicKey!);
      return () => fixed;
    })();
    return this.verifyKey;
  }

  private async verifyJwt(token: string): Promise<Scope> {
    const jwt = this.settings.jwt!;
    let payload: jose.JWTPayload;
    try {
      const key = await this.key();
      const options: jose.JWTVerifyOptions = {
        issuer: jwt.issuer,
        audience: jwt.audience,
        // `sub` names whose answers are kept (cache partitions) and who asked (logs): a token without one names nobody.
        requiredClaims: ['exp', 'sub'],
        ...(jwt.algorithm ? { algorithms: [jwt.algorithm] } : {}),
      };
      payload = (await jose.jwtVerify(token, key, options)).payload;
    } catch (err) {
      const reason = err instanceof jose.errors.JWTExpired ? 'token expired' : err instanceof jose.errors.JWTClaimValidationFailed ? `token claim "${err.claim}" not accepted` : 'token not valid';
      throw unauthenticated(reason);
    }
    if (typeof payload.sub !== 'string' || payload.sub.trim() === '') throw unauthenticated('token claim "sub" not accepted');
    // Fail closed: no claim, or a claim naming no accounts, grants nothing (see ScopeSchema).
    const claim = payload[jwt.scopeClaim];
    if (claim === undefined || claim === null) throw unauthenticated(`token has no "${jwt.scopeClaim}" claim`);
    const parsed = ScopeSchema.safeParse(claim);
    if (!parsed.success) throw unauthenticated(`token claim "${jwt.scopeClaim}" is not a valid scope: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    return scopeOf(parsed.data, `jwt:${String(payload.sub)}`);
  }
}

