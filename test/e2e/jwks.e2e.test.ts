/**
 * Issue 4, item 4: real identity providers. Besides HS256, RS256 and ES256 tokens verified against a JWKS
 * (AUTH_JWKS_URL, fetched once and cached), with `iss` and `aud` checked when AUTH_ISSUER / AUTH_AUDIENCE are set.
 *
 * The identity provider is played by this test: a node:http server on 127.0.0.1 serving a JWKS of keys made with
 * jose's generateKeyPair/exportJWK, each with a `kid`. Every refused token answers HTTP 401 UNAUTHENTICATED and closes
 * a WebSocket with 4403.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK, type KeyLike } from 'jose';
import WebSocket from 'ws';
import { print } from 'graphql';
import { SecurityBalanceDocument, SecurityCreatePatientDocument } from '../__generated__/graphql';
import { startTestServer, TestServer, TEST_SECRET } from '../harness';
import { signToken } from '../../src/auth/tokens';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'pr-ledger-api';

let idp: http.Server;
let jwksUrl: string;
let jwksFetches = 0;
let rsa: { publicKey: KeyLike; privateKey: KeyLike };
let ec: { publicKey: KeyLike; privateKey: KeyLike };
let server: TestServer;
const practice = `idp-${crypto.randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256');
  ec = await generateKeyPair('ES256');
  const keys: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  idp = http.createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
  // HS256 stays configured beside the JWKS (the harness's secret): the algorithm-confusion case needs both.
  server = await startTestServer({ env: { AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE } });
});
afterAll(async () => {
  await server.stop();
  await new Promise((resolve) => idp.close(resolve));
});

interface Claims {
  sub?: string;
  practiceId?: string;
  role?: string;
  iss?: string;
  aud?: string;
  /** Seconds from now; negative = already expired. */
  expiresIn?: number;
}

async function sign(alg: 'RS256' | 'ES256', key: KeyLike, kid: string, claims: Claims = {}): Promise<string> {
  const { sub = 'idp-user', practiceId = practice, role = 'BILLING_MANAGER', iss = ISSUER, aud = AUDIENCE, expiresIn = 600 } = claims;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ practiceId, role })
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const payload = (claims: Claims = {}) => ({
  sub: claims.sub ?? 'idp-user',
  practiceId: practice,
  role: 'BILLING_MANAGER',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: Math.floor(Date.now() / 1000),
  exp: Math.floor(Date.now() / 1000) + 600,
});

/** An HS256 token signed with `secret` (any bytes), header and payload as given. */
function hs256(secret: string | Buffer, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, body: Record<string, unknown> = payload()): string {
  const input = `${b64(header)}.${b64(body)}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function overHttp(token: string, document = SecurityBalanceDocument as unknown, variables: Record<string, unknown> = { id: crypto.randomUUID() }) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document as never), variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] } };
}

/** Connects over graphql-ws with the token; `ack` and the answer to a query, or the close code. */
async function overWs(token: string): Promise<{ ack: boolean; close?: number; answer?: unknown }> {
  const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const result: { ack: boolean; close?: number; answer?: unknown } = { ack: false };
  const done = new Promise<void>((resolve) => {
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'connection_ack') {
        result.ack = true;
        socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: 'query Reasons { writeOffReasons { code } }' } }));
      }
      if (message.type === 'next') result.answer = message.payload;
      if (message.type === 'complete') {
        socket.close(1000);
        resolve();
      }
    });
    socket.once('close', (code) => {
      result.close ??= code;
      resolve();
    });
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await done;
  if (result.ack) delete result.close;
  return result;
}

async function expectRefused(name: string, token: string): Promise<void> {
  const { status, body } = await overHttp(token);
  expect({ name, status, codes: body.errors?.map((e) => e.extensions?.code), data: body.data }).toEqual({ name, status: 401, codes: ['UNAUTHENTICATED'], data: undefined });
  expect({ name, ws: await overWs(token) }).toEqual({ name, ws: { ack: false, close: 4403 } });
}

test('valid RS256 and ES256 tokens from the JWKS are accepted over HTTP and WebSocket, and name the practice and user', async () => {
  const rsToken = await sign('RS256', rsa.privateKey, 'rsa-1', { sub: 'rs-user' });
  const esToken = await sign('ES256', ec.privateKey, 'ec-1', { sub: 'es-user' });

  const created = await overHttp(rsToken, SecurityCreatePatientDocument, { input: { firstName: 'Jwks', lastName: 'Patient' } });
  expect(created.status).toBe(200);
  expect(created.body.errors).toBeUndefined();
  const patientId = (created.body.data!.createPatient as { patient: { id: string } }).patient.id;
  // The ES256 caller is in the same practice (from its claims), so it sees the patient; an HS256 caller of another
  // practice does not.
  const read = await overHttp(esToken, SecurityBalanceDocument, { id: patientId });
  expect(read.body.data).toEqual({ patient: { id: patientId, balance: expect.objectContaining({ patientId, version: 0 }) } });
  const otherPractice = await signToken(TEST_SECRET, { sub: 'x', practiceId: 'someone-else', role: 'ADMIN' }, { issuer: ISSUER, audience: AUDIENCE });
  expect((await overHttp(otherPractice, SecurityBalanceDocument, { id: patientId })).body.data).toEqual({ patient: null });

  for (const token of [rsToken, esToken]) {
    const ws = await overWs(token);
    expect(ws).toEqual({ ack: true, answer: { data: { writeOffReasons: expect.arrayContaining([{ code: 'OTHER' }]) } } });
  }
  // The audit trail names the identity provider's subjects (reads are batched: write what waits first).
  await server.instances[0].services.audit.flush();
  const rows = await server.instances[0].services.db.query<{ actor_id: string; operation: string }>(
    'SELECT actor_id, operation FROM audit_events WHERE practice_id = ? ORDER BY actor_id',
    [practice],
  );
  expect(rows.map((r) => `${r.actor_id}:${r.operation}`)).toEqual(expect.arrayContaining(['es-user:patient', 'rs-user:createPatient']));
});

test('the JWKS is fetched once and cached, and unknown key ids cannot make the server hammer the identity provider', async () => {
  const before = jwksFetches;
  expect(before).toBeGreaterThanOrEqual(1);
  for (let i = 0; i < 10; i++) {
    expect((await overHttp(await sign('RS256', rsa.privateKey, 'rsa-1'))).status).toBe(200);
    expect((await overHttp(await sign('ES256', ec.privateKey, 'ec-1'))).status).toBe(200);
  }
  expect(jwksFetches).toBe(before);
  // A token naming a key the JWKS does not have makes jose look again, at most once per cooldown (30 s).
  const stranger = await generateKeyPair('RS256');
  for (let i = 0; i < 10; i++) expect((await overHttp(await sign('RS256', stranger.privateKey, `unknown-${i}`))).status).toBe(401);
  expect(jwksFetches).toBeLessThanOrEqual(before + 1);
});

test('wrong key, wrong or missing iss, wrong or missing aud, expired, alg none, and HS256 signed with the public key: 401 and 4403', async () => {
  const stranger = await generateKeyPair('RS256');
  const strangerEc = await generateKeyPair('ES256');
  const rsaPem = await exportSPKI(rsa.publicKey);
  const rsaJwk = JSON.stringify(await exportJWK(rsa.publicKey));
  const cases: [string, string][] = [
    ['RS256 signed by another key under the known kid', await sign('RS256', stranger.privateKey, 'rsa-1')],
    ['ES256 signed by another key under the known kid', await sign('ES256', strangerEc.privateKey, 'ec-1')],
    ['RS256 under the EC key id', await sign('RS256', rsa.privateKey, 'ec-1')],
    ['wrong iss', await sign('RS256', rsa.privateKey, 'rsa-1', { iss: 'https://evil.example.test/' })],
    ['wrong aud', await sign('ES256', ec.privateKey, 'ec-1', { aud: 'some-other-api' })],
    ['expired', await sign('RS256', rsa.privateKey, 'rsa-1', { expiresIn: -60 })],
    ['unknown role', await sign('RS256', rsa.privateKey, 'rsa-1', { role: 'SUPERUSER' })],
    ['no practiceId', await sign('ES256', ec.privateKey, 'ec-1', { practiceId: '' })],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload())}.`],
    ['alg none with kid', `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(payload())}.`],
    ['HS256 signed with the RSA public key (PEM)', hs256(rsaPem)],
    ['HS256 signed with the RSA public key (JWK)', hs256(rsaJwk)],
    ['HS256 signed with the RSA public key, kid of the RSA key', hs256(rsaPem, { alg: 'HS256', kid: 'rsa-1' })],
    ['RS256 header on an HMAC signature', hs256(rsaPem, { alg: 'RS256', kid: 'rsa-1' })],
    ['a valid RS256 token with its payload changed to ADMIN', await (async () => {
      const [header, , signature] = (await sign('RS256', rsa.privateKey, 'rsa-1', { role: 'VIEWER' })).split('.');
      return `${header}.${b64({ ...payload(), role: 'ADMIN' })}.${signature}`;
    })()],
    ['HS256 with the shared secret but no iss/aud (AUTH_ISSUER and AUTH_AUDIENCE are set)', await signToken(TEST_SECRET, { sub: 'u', practiceId: practice, role: 'ADMIN' })],
    ['HS256 with the shared secret and a wrong aud', await signToken(TEST_SECRET, { sub: 'u', practiceId: practice, role: 'ADMIN' }, { issuer: ISSUER, audience: 'nope' })],
  ];
  for (const [name, token] of cases) await expectRefused(name, token);

  // The control: the shared secret with the right iss and aud is still accepted (HS256 and the JWKS side by side).
  const good = await signToken(TEST_SECRET, { sub: 'u', practiceId: practice, role: 'ADMIN' }, { issuer: ISSUER, audience: AUDIENCE });
  expect((await overHttp(good)).status).toBe(200);
  expect((await overWs(good)).ack).toBe(true);
});

test('with only a JWKS configured, HS256 tokens are not accepted at all', async () => {
  const jwksOnly = await startTestServer({ env: { AUTH_JWT_SECRET: '', AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE } });
  try {
    expect(jwksOnly.instances[0].config.auth.jwtSecret).toBeNull();
    const post = async (token: string) =>
      (await fetch(jwksOnly.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ writeOffReasons { code } }' }) })).status;
    expect(await post(await sign('ES256', ec.privateKey, 'ec-1'))).toBe(200);
    expect(await post(await signToken(TEST_SECRET, { sub: 'u', practiceId: practice, role: 'ADMIN' }, { issuer: ISSUER, audience: AUDIENCE }))).toBe(401);
    expect(await post(hs256(await exportSPKI(rsa.publicKey)))).toBe(401);
  } finally {
    await jwksOnly.stop();
  }
});
