/**
 * Graceful shutdown of the real process (issue 3): SIGTERM stops accepting connections, lets the request in flight
 * finish, closes WebSockets with 1001 (going away), and exits 0 within a few seconds.
 *
 * The server is built like `npm run build` (tsconfig.build.json, its sources only), but into a directory of this test's
 * own under node_modules/.cache, so it never races another build or a server running from dist/ (removed afterwards).
 */
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, Client } from 'graphql-ws';
import WebSocket from 'ws';
import { BalanceFieldsFragment, CreateChargeDocument, CreatePatientDocument, LiveWriteOffDocument, PatientBalanceChangedDocument } from '../__generated__/graphql';
import { signToken } from '../../src/auth/tokens';
import { freePort } from '../support/net';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '..', '..');
/** A build of this run's own: other runs of this test (or of the whole suite) may build at the same time. */
const OUT = path.join(ROOT, 'node_modules', '.cache', 'shutdown-e2e', `${process.pid}-${crypto.randomBytes(3).toString('hex')}`);
const SECRET = 'shutdown-test-secret-that-is-long-enough-for-hs256';

let dir: string;
let child: ChildProcess;
let url: string;
let token: string;
let ws: Client | null = null;
const output: string[] = [];

/** What a wait was for, with the server's output so far (shown when the wait times out). */
const withOutput = (what: string) => () => `${what}; server output:\n${output.join('')}`;

async function gql<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: R; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Whether a new connection is still accepted. */
async function accepting(): Promise<boolean> {
  try {
    await fetch(url.replace('/graphql', '/healthz'), { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  // The build's own settings (tsconfig.build.json), for the server's sources only.
  fs.mkdirSync(OUT, { recursive: true });
  const config = path.join(OUT, 'tsconfig.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { rootDir: ROOT, outDir: OUT },
      include: [path.join(ROOT, 'src')],
      exclude: [path.join(ROOT, 'src', '**', '*.test.ts')],
    }),
  );
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    throw new Error(`the server does not build:\n${String((error as { stdout?: Buffer }).stdout ?? error)}`);
  }
}, 120_000);

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-shutdown-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}/graphql`;
  output.length = 0;
  child = spawn(process.execPath, [path.join(OUT, 'src', 'main.js')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${path.join(dir, 'ledger.sqlite')}`,
      AUTH_JWT_SECRET: SECRET,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
      ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => output.push(String(chunk)));
  child.stderr!.on('data', (chunk) => output.push(String(chunk)));
  await waitFor(async () => child.exitCode === null && (await accepting()), withOutput('the server to start'), 15_000);
  token = await signToken(SECRET, { sub: 'manager', practiceId: `practice-${crypto.randomBytes(4).toString('hex')}`, role: 'BILLING_MANAGER' });
});

afterAll(() => fs.rmSync(OUT, { recursive: true, force: true }));

afterEach(async () => {
  await ws?.dispose();
  ws = null;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('SIGTERM: stops accepting, finishes the request in flight, closes sockets with 1001, exits 0 within seconds', async () => {
  const patient = await gql(CreatePatientDocument, { input: { firstName: 'Shut', lastName: 'Down' } });
  const patientId = patient.createPatient.patient!.id;
  const charge = await gql(CreateChargeDocument, {
    input: { patientId, serviceDate: '2026-10-01', procedureCode: '99213', billedCents: 10_000, responsibilities: [{ kind: 'CUSTOM', amountCents: 5_000 }] },
  });
  const lineId = charge.createCharge.charge!.responsibilities[0].id;

  // A live subscriber.
  ws = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
  const closes: number[] = [];
  ws.on('closed', (event) => closes.push((event as { code: number }).code));
  const balances: BalanceFieldsFragment[] = [];
  let subscriptionError: unknown = null;
  ws.subscribe(
    { query: print(PatientBalanceChangedDocument), variables: { patientId } },
    { next: (r) => void (r.data && balances.push(r.data.patientBalanceChanged as BalanceFieldsFragment)), error: (e) => void (subscriptionError = e), complete: () => undefined },
  );
  await waitFor(() => balances.length === 1, withOutput('the initial balance'), 15_000);

  // A request in flight: its headers are in (the server answered 100-continue), its body is still to come.
  const body = JSON.stringify({ query: print(LiveWriteOffDocument), variables: { input: { responsibilityId: lineId, amountCents: 1_000, reason: 'SMALL_BALANCE' } } });
  const request = http.request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    request.on('error', reject);
  });
  await new Promise<void>((resolve) => request.once('continue', resolve));

  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const signalledAt = Date.now();
  child.kill('SIGTERM');

  // WebSockets are told the server is going away; new connections are refused while the request is still open.
  await waitFor(() => closes.length > 0, withOutput('the WebSocket to close'), 5_000);
  expect(closes).toEqual([1001]);
  expect((subscriptionError as { code?: number } | null)?.code).toBe(1001);
  await waitFor(async () => !(await accepting()), withOutput('new connections to be refused'), 5_000);
  expect(child.exitCode).toBeNull();

  // The request in flight completes, and its change is committed.
  request.end(body);
  const answer = await response;
  expect(answer.status).toBe(200);
  const result = JSON.parse(answer.body) as { data: { writeOff: { balance: { version: number; writtenOffCents: number }; userErrors: unknown[] } } };
  expect(result.data.writeOff.userErrors).toEqual([]);
  expect(result.data.writeOff.balance).toMatchObject({ version: 2, writtenOffCents: 1_000 });

  const exit = await exited;
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  expect(exit.at - signalledAt).toBeLessThan(5_000);
  expect(output.join('')).toContain('"event":"shutdown"');
});
