import crypto from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, JWTPayload, JWTVerifyGetKey, SignJWT } from 'jose';
import type { Config } from '../config';
import { Actor } from './actor';
import { isRole, Role } from './roles';

export class InvalidTokenError extends Error {}

const PRACTICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const MAX_TOKEN_LENGTH = 8192;
/** C0 and C1 control characters (NUL included): no staff user id has them, and they break logs and storage. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/** How far the issuer's clock may run ahead of ours before an `iat` counts as "in the future". */
export const CLOCK_SKEW_SECONDS = 60;

export interface ClaimRules {
  /** A token whose `exp` is further ahead than this (AUTH_MAX_TOKEN_LIFETIME) is refused. */
  maxLifetimeSeconds: number;
  /** Seconds since the epoch. */
  now: number;
}

/**
 * Turns verified claims into an actor, or says why they do not make one (docs/design.md §4). Besides the claims' shape, it
 * bounds a token's life: a stolen token valid for a month, or one issued "in the future" to outlive its apparent
 * lifetime, is refused.
 */
export function actorFromClaims(claims: JWTPayload, rules: ClaimRules): Actor {
  const { sub, exp, iat } = claims;
  const practiceId = claims.practiceId;
  const role = claims.role;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255 || CONTROL_CHARACTERS.test(sub)) throw new InvalidTokenError('token has no usable sub');
  if (typeof practiceId !== 'string' || !PRACTICE_ID.test(practiceId)) throw new InvalidTokenError('token has no usable practiceId');
  if (!isRole(role)) throw new InvalidTokenError('token role is not one of the known roles');
  if (typeof exp !== 'number') throw new InvalidTokenError('token has no exp');
  if (exp - rules.now > rules.maxLifetimeSeconds) throw new InvalidTokenError('token expires further ahead than the accepted lifetime');
  if (typeof iat === 'number' && iat - rules.now > CLOCK_SKEW_SECONDS) throw new InvalidTokenError('token is issued in the future');
  return { userId: sub, practiceId, role, expiresAt: exp };
}

/** Tokens verified recently, each kept at most this long: a key removed from the JWKS stops working within it. */
const VERIFIED_TOKEN_TTL_MS = 60_000;
/** At most this many verified tokens are remembered (the least recently verified leave first). */
const VERIFIED_TOKEN_CAPACITY = 1_000;

/**
 * Verifies bearer tokens: HS256 with the shared secret, or RS256/ES256 against a JWKS when one is configured. A client
 * sends the same token with every request, so a verified token is remembered (until it expires, and at most
 * VERIFIED_TOKEN_TTL_MS): checking a signature costs more than a whole small mutation's own work.
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | null;
  private readonly jwks: JWTVerifyGetKey | null;
  private readonly verified = new Map<string, { actor: Actor; until: number }>();

  constructor(private readonly auth: Config['auth']) {
    this.secret = auth.jwtSecret ? new TextEncoder().encode(auth.jwtSecret) : null;
    this.jwks = auth.jwksUrl ? createRemoteJWKSet(new URL(auth.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 }) : null;
  }

  async verify(token: string): Promise<Actor> {
    const known = this.verified.get(token);
    if (known && Date.now() < known.until) return known.actor;
    this.verified.delete(token);
    const actor = await this.verifyNow(token);
    this.verified.set(token, { actor, until: Math.min(actor.expiresAt * 1000, Date.now() + VERIFIED_TOKEN_TTL_MS) });
    if (this.verified.size > VERIFIED_TOKEN_CAPACITY) this.verified.delete(this.verified.keys().next().value!);
    return actor;
  }

  private async verifyNow(token: string): Promise<Actor> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('token is empty or too long');
    const options = {
      issuer: this.auth.issuer ?? undefined,
      audience: this.auth.audience ?? undefined,
      requiredClaims: ['exp', 'sub'],
    };
    let header: { alg?: string };
    try {
      header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    } catch {
      throw new InvalidTokenError('token is not a JWT');
    }
    const rules = (): ClaimRules => ({ maxLifetimeSeconds: this.auth.maxTokenLifetimeSeconds, now: Math.floor(Date.now() / 1000) });
    try {
      if (header.alg === 'HS256' && this.secret) {
        return actorFromClaims((await jwtVerify(token, this.secret, { ...options, algorithms: ['HS256'] })).payload, rules());
      }
      if ((header.alg === 'RS256' || header.alg === 'ES256') && this.jwks) {
        return actorFromClaims((await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload, rules());
      }
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      throw new InvalidTokenError('token signature, expiry or claims are not valid');
    }
    throw new InvalidTokenError('token algorithm is not accepted');
  }

  /** Reads `Bearer <token>` from a header value. */
  async verifyBearer(header: string | undefined | null): Promise<Actor> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw new InvalidTokenError('no bearer token');
    return this.verify(match[1]);
  }
}

export interface TokenClaims {
  sub: string;
  practiceId: string;
  role: Role;
}

/** Signs an HS256 token (the token CLI, the demo token, tests). */
export async function signToken(secret: string, claims: TokenClaims, options: { expiresIn?: string | number; issuer?: string; audience?: string } = {}): Promise<string> {
  let jwt = new SignJWT({ practiceId: claims.practiceId, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(options.expiresIn ?? '12h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
