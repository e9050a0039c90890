/**
 * Issue 8: a token's life is bounded. A token whose `exp` is further ahead than AUTH_MAX_TOKEN_LIFETIME (default 24 h),
 * or whose `iat` is in the future beyond 60 s of clock skew, is refused like any invalid token: HTTP 401
 * UNAUTHENTICATED, and a WebSocket closed with 4403. The token CLI will not make one, and the demo token is printed only
 * for the generated development secret.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../../src/config';
import { tokenCommand } from '../../src/auth/token-cli';
import { startTestServer, TestServer, TEST_SECRET } from '../harness';

const HOUR = 3600;
const DAY = 24 * HOUR;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** An HS256 token with `iat` and `exp` this many seconds from now (iat omitted when null). */
function token(options: { exp: number; iat?: number | null; sub?: string; practiceId?: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ practiceId: options.practiceId ?? server.practice, role: 'BILLING_MANAGER' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? 'lifetime-user')
    .setExpirationTime(now + options.exp);
  if (options.iat !== null) jwt = jwt.setIssuedAt(now + (options.iat ?? 0));
  return jwt.sign(new TextEncoder().encode(TEST_SECRET));
}

async function overHttp(url: string, bearer: string): Promise<{ status: number; codes: (string | undefined)[] | undefined }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query: '{ writeOffReasons { code } }' }),
  });
  const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
  return { status: response.status, codes: body.errors?.map((e) => e.extensions?.code) };
}

/** Connects over graphql-ws with the token: acknowledged, or closed with which code. */
async function overWs(url: string, bearer: string): Promise<{ ack: boolean; close?: number }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const result: { ack: boolean; close?: number } = { ack: false };
  const done = new Promise<void>((resolve) => {
    socket.on('message', (raw) => {
      if (JSON.parse(String(raw)).type === 'connection_ack') {
        result.ack = true;
        socket.close(1000);
      }
    });
    socket.once('close', (code) => {
      if (!result.ack) result.close = code;
      resolve();
    });
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
  await done;
  return result;
}

async function expectRefused(url: string, name: string, bearer: string): Promise<void> {
  expect({ name, http: await overHttp(url, bearer), ws: await overWs(url, bearer) }).toEqual({ name, http: { status: 401, codes: ['UNAUTHENTICATED'] }, ws: { ack: false, close: 4403 } });
}

async function expectAccepted(url: string, name: string, bearer: string): Promise<void> {
  expect({ name, http: await overHttp(url, bearer), ws: await overWs(url, bearer) }).toEqual({ name, http: { status: 200, codes: undefined }, ws: { ack: true } });
}

test('a token living longer than 24 hours, or issued in the future beyond 60 s of skew, is refused on both transports', async () => {
  await expectRefused(server.url, 'exp 30 days ahead', await token({ exp: 30 * DAY }));
  await expectRefused(server.url, 'exp 24 h and 2 min ahead', await token({ exp: DAY + 120 }));
  await expectRefused(server.url, 'iat an hour ahead', await token({ iat: HOUR, exp: 2 * HOUR }));
  await expectRefused(server.url, 'iat 2 min ahead', await token({ iat: 120, exp: HOUR }));
  await expectRefused(server.url, 'a control character in sub', await token({ exp: HOUR, sub: 'tab\tuser' }));

  await expectAccepted(server.url, 'exp 23 h ahead', await token({ exp: 23 * HOUR }));
  await expectAccepted(server.url, 'iat 30 s ahead (clock skew)', await token({ iat: 30, exp: HOUR }));
  await expectAccepted(server.url, 'no iat', await token({ iat: null, exp: HOUR }));
});

test('AUTH_MAX_TOKEN_LIFETIME sets the bound', async () => {
  const strict = await startTestServer({ env: { AUTH_MAX_TOKEN_LIFETIME: '30m' } });
  try {
    expect(strict.instances[0].config.auth.maxTokenLifetimeSeconds).toBe(1800);
    await expectRefused(strict.url, 'exp an hour ahead', await token({ exp: HOUR, practiceId: strict.practice }));
    await expectAccepted(strict.url, 'exp 20 min ahead', await token({ exp: 20 * 60, practiceId: strict.practice }));
  } finally {
    await strict.stop();
  }
});

describe('configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-config-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('AUTH_MAX_TOKEN_LIFETIME takes seconds or a unit, defaults to 24 h, and refuses anything else', () => {
    const lifetime = (value?: string) => loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, AUTH_JWT_SECRET: TEST_SECRET, ...(value === undefined ? {} : { AUTH_MAX_TOKEN_LIFETIME: value }) }, dir).auth.maxTokenLifetimeSeconds;
    expect([lifetime(), lifetime('90'), lifetime('90s'), lifetime('30m'), lifetime('24h'), lifetime('7d')]).toEqual([DAY, 90, 90, 1800, DAY, 7 * DAY]);
    for (const bad of ['0', '-5', '1.5h', '24 hours', 'forever', '1w']) expect(() => lifetime(bad)).toThrow(ConfigError);
  });

  test('the secret counts as generated only when AUTH_JWT_SECRET is unset (the demo token is printed only then)', () => {
    const generated = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }, dir).auth;
    expect(generated).toMatchObject({ secretGenerated: true, jwtSecret: expect.any(String) });
    expect(fs.readFileSync(path.join(dir, 'dev-jwt-secret'), 'utf8').trim()).toBe(generated.jwtSecret);
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir, AUTH_JWT_SECRET: TEST_SECRET }, dir).auth).toMatchObject({ secretGenerated: false, jwtSecret: TEST_SECRET });
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir, AUTH_JWKS_URL: 'https://idp.example.test/jwks.json' }, dir).auth).toMatchObject({ secretGenerated: false, jwtSecret: null });
  });

  test('npm run token refuses a lifetime the server would refuse, and signs one it accepts', async () => {
    const env = { NODE_ENV: 'test', DATA_DIR: dir, AUTH_JWT_SECRET: TEST_SECRET };
    const args = ['--practice', 'cli-practice', '--role', 'ADMIN'];
    const tooLong = await tokenCommand([...args, '--expires', '30d'], env);
    expect(tooLong).toEqual({ code: 2, err: expect.stringMatching(/^--expires 30d is longer than the server accepts: at most 86400 seconds \(AUTH_MAX_TOKEN_LIFETIME/) });
    expect((await tokenCommand([...args, '--expires', 'soon'], env)).code).toBe(2);

    const signed = await tokenCommand([...args, '--expires', '30m'], env);
    expect(signed.code).toBe(0);
    const claims = decodeJwt(signed.out!);
    expect(claims.exp! - claims.iat!).toBe(1800);
    await expectAccepted(server.url, 'the CLI token', (await tokenCommand(['--practice', server.practice, '--role', 'ADMIN', '--expires', '24h'], env)).out!);
    expect((await tokenCommand(['--practice', 'p', '--role', 'ADMIN', '--expires', '2h'], { ...env, AUTH_MAX_TOKEN_LIFETIME: '1h' })).code).toBe(2);
  });
});
