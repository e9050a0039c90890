/**
 * Issue 4, item 5 (docs/operations.md §4): structured JSON logs, one line per request with request id, operation
 * name, caller, duration and outcome; never a patient's name, date of birth, MRN, free text staff typed, or a token.
 *
 * Canary PHI (unique strings as names, MRN and free text, a distinctive date of birth) goes through a full workload
 * over HTTP and WebSocket: patient, charge, payments, write-offs, removals, refunds, a cancellation, a remittance,
 * queries, subscriptions, refusals, malformed requests, forged tokens and an unexpected failure. Then every line the
 * server logged is searched: the in-process server's lines (server.logs), and every byte a real child process
 * (`node dist/src/main.js`, NODE_ENV=development, LOG_LEVEL=debug) wrote to stdout and stderr.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CancelPrDocument,
  ChargeDocument,
  CreateChargeDocument,
  PatientBalanceChangedDocument,
  PracticeBalanceChangedDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  SecurityCreatePatientDocument,
  SecurityPatientScreenDocument,
  SecurityPatientSearchDocument,
  WriteOffDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, TEST_SECRET, NO_CALLER_LIMITS } from '../harness';
import { signToken } from '../../src/auth/tokens';
import type { Role } from '../../src/auth/roles';

const ROOT = path.resolve(__dirname, '..', '..');

/** Unique strings that must never reach a log. */
function canaries() {
  const tag = crypto.randomBytes(5).toString('hex');
  return {
    firstName: `Zyqfirst${tag}`,
    lastName: `Zyqlast${tag}`,
    mrn: `MRNZYQ${tag}`,
    dateOfBirth: '1911-11-23',
    note: `Zyqnote${tag} patient said her name is Zyqlast${tag}`,
    reason: `Zyqreason${tag}`,
    description: `Zyqvisit${tag}`,
  };
}
type Canaries = ReturnType<typeof canaries>;

interface Target {
  url: string;
  practice: string;
}

interface Workload {
  tokens: string[];
  /** The server's request id of every HTTP request sent (and the client's own beside it), with what its log line must say. */
  http: { requestId: string; clientRequestId: string; operationName: string | null; actor: string | null; outcome: 'ok' | 'error'; status: number }[];
  /** Operation names sent over WebSocket (one log line each). */
  ws: string[];
}

/** A full workload with canary PHI over HTTP and WebSocket, with refusals, malformed requests and forged tokens. */
async function runWorkload(target: Target, c: Canaries, options: { injectFailure?: () => () => void } = {}): Promise<Workload> {
  const token = (role: Role, sub: string, practice = target.practice) => signToken(TEST_SECRET, { sub, practiceId: practice, role });
  const admin = await token('ADMIN', 'log-admin');
  const viewer = await token('VIEWER', 'log-viewer');
  const stranger = await token('ADMIN', 'log-stranger', `${target.practice}-other`);
  const forged = `${admin.split('.').slice(0, 2).join('.')}.${crypto.randomBytes(32).toString('base64url')}`;
  const expired = await signToken(TEST_SECRET, { sub: 'log-old', practiceId: target.practice, role: 'ADMIN' }, { expiresIn: -60 });
  const work: Workload = { tokens: [admin, viewer, stranger, forged, expired], http: [], ws: [] };
  const subs: Record<string, string> = { [admin]: 'log-admin', [viewer]: 'log-viewer', [stranger]: 'log-stranger' };
  let n = 0;

  /** `reachesAuth: false` for requests refused before the token is read (body too large or not JSON, CSRF). */
  const send = async (options: { token: string | null; body: string | Buffer; contentType?: string; operationName: string | null; expect: { outcome: 'ok' | 'error'; status: number }; reachesAuth?: boolean }) => {
    const clientRequestId = `logtest-${crypto.randomBytes(4).toString('hex')}-${++n}`;
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': options.contentType ?? 'application/json', 'x-request-id': clientRequestId, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      body: options.body,
    });
    const text = await response.text();
    expect({ clientRequestId, status: response.status }).toEqual({ clientRequestId, status: options.expect.status });
    // The server makes its own id for every request and answers with it; the client's is kept beside it in the log.
    const requestId = response.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const actor = options.reachesAuth !== false && options.token && subs[options.token] ? subs[options.token] : null;
    work.http.push({ requestId, clientRequestId, operationName: options.operationName, actor, ...options.expect });
    return text ? (JSON.parse(text) as { data?: Record<string, any> | null; errors?: { extensions?: { code?: string } }[] }) : {};
  };
  const gql = async <R, V>(tokenValue: string | null, document: TypedDocumentNode<R, V>, variables: V, outcome: 'ok' | 'error' = 'ok', status = 200) => {
    const operationName = (document.definitions[0] as { name?: { value: string } }).name?.value ?? null;
    const body = await send({ token: tokenValue, body: JSON.stringify({ query: print(document), variables, operationName }), operationName, expect: { outcome, status } });
    if (outcome === 'ok') expect(body.errors).toBeUndefined();
    return body.data as R;
  };

  // The patient, with every canary.
  const created = await gql(admin, SecurityCreatePatientDocument, { input: { firstName: c.firstName, lastName: c.lastName, dateOfBirth: c.dateOfBirth, mrn: c.mrn } });
  const patientId = created.createPatient.patient!.id;
  expect(created.createPatient.patient).toMatchObject({ firstName: c.firstName, mrn: c.mrn, dateOfBirth: c.dateOfBirth });

  // Live balances over WebSocket, and WebSocket queries and mutations.
  const ws: Client = createClient({ url: target.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin}` }, retryAttempts: 0 });
  const events: unknown[] = [];
  const watch = <R, V>(document: TypedDocumentNode<R, V>, variables: V) => {
    work.ws.push((document.definitions[0] as { name: { value: string } }).name.value);
    return ws.subscribe({ query: print(document), variables: variables as Record<string, unknown> }, { next: (v) => void events.push(v), error: () => undefined, complete: () => undefined });
  };
  const overWs = <R, V>(document: TypedDocumentNode<R, V>, variables: V) =>
    new Promise<{ data?: R; errors?: unknown[] }>((resolve) => {
      work.ws.push((document.definitions[0] as { name: { value: string } }).name.value);
      let answer: { data?: R; errors?: unknown[] } = {};
      ws.subscribe({ query: print(document), variables: variables as Record<string, unknown> }, {
        next: (v) => void (answer = v as typeof answer),
        error: (e) => resolve({ errors: e as unknown[] }),
        complete: () => resolve(answer),
      });
    });
  const stopPatient = watch(PatientBalanceChangedDocument, { patientId });
  const stopPractice = watch(PracticeBalanceChangedDocument, {});

  const charge = await gql(admin, CreateChargeDocument, {
    input: { patientId, serviceDate: '2026-10-05', procedureCode: '99213', description: c.description, billedCents: 20_000, responsibilities: [{ kind: 'COPAY', amountCents: 5000 }, { kind: 'CUSTOM', amountCents: 3000 }] },
  });
  const [l0, l1] = charge.createCharge.charge!.responsibilities.map((r) => r.id);
  const payment = await gql(admin, RecordPaymentDocument, { input: { patientId, amountCents: 2000, method: 'CARD', allocations: [{ responsibilityId: l0, amountCents: 2000 }] } });
  const writeOff = await overWs(WriteOffDocument, { input: { responsibilityId: l1, amountCents: 3000, reason: 'OTHER', customReason: c.reason, note: c.note } });
  expect(writeOff.data?.writeOff.userErrors).toEqual([]);
  const removed = await overWs(RemoveWriteOffDocument, { input: { writeOffId: writeOff.data!.writeOff.writeOff!.id, reason: c.reason } });
  expect(removed.data?.removeWriteOff.userErrors).toEqual([]);
  await gql(admin, RefundPaymentDocument, { input: { paymentId: payment.recordPayment.payment!.id, amountCents: 500, method: 'EXTERNAL_CHECK', reason: c.note } });
  await gql(admin, CancelPrDocument, { input: { responsibilityId: l1, reason: c.reason } });
  const bare = await gql(admin, CreateChargeDocument, { input: { patientId, serviceDate: '2026-10-06', procedureCode: '99214', billedCents: 9000, responsibilities: [] } });
  await gql(admin, RecordRemittanceDocument, { input: { chargeId: bare.createCharge.charge!.id, remittanceId: `ERA-${c.mrn}`, adjustments: [{ groupCode: 'PR', reasonCode: '1', amountCents: 1200 }] } });

  // Reads: by id, by MRN, by name, over both transports.
  const screen = await gql(admin, SecurityPatientScreenDocument, { id: patientId });
  expect(screen.patient?.lastName).toBe(c.lastName);
  for (const search of [c.mrn, c.lastName, c.firstName.toLowerCase()]) {
    const found = await gql(admin, SecurityPatientSearchDocument, { search, first: 5 });
    expect(found.patients.edges.map((e) => e.node.id)).toEqual([patientId]);
  }
  const wsSearch = await overWs(SecurityPatientSearchDocument, { search: c.mrn, first: 5 });
  expect(wsSearch.data?.patients.edges).toHaveLength(1);
  expect((await overWs(ChargeDocument, { id: l0 })).data).toEqual({ charge: null });
  await gql(viewer, ChargeDocument, { id: charge.createCharge.charge!.id });

  // Refusals and errors, each carrying canaries.
  await gql(viewer, SecurityCreatePatientDocument, { input: { firstName: c.firstName, lastName: c.lastName, mrn: c.mrn, dateOfBirth: c.dateOfBirth } }, 'error');
  const forbiddenWs = await overWs(SecurityCreatePatientDocument, { input: { firstName: c.firstName, lastName: c.lastName, mrn: c.mrn } });
  expect(forbiddenWs.errors ?? forbiddenWs.data).toBeTruthy();
  const invalid = await gql(admin, SecurityCreatePatientDocument, { input: { firstName: `${c.firstName}\u0000\u001b[31m`, lastName: c.lastName, mrn: c.mrn } });
  expect(invalid.createPatient.userErrors.map((e) => e.code)).toEqual(['INVALID_TEXT']);
  const tooMuch = await gql(admin, WriteOffDocument, { input: { responsibilityId: l0, amountCents: 999_999, reason: 'OTHER', customReason: c.reason, note: c.note } });
  expect(tooMuch.writeOff.userErrors.map((e) => e.code)).toEqual(['WRITE_OFF_EXCEEDS_OPEN']);
  expect((await gql(stranger, SecurityPatientScreenDocument, { id: patientId })).patient).toBeNull();
  const strangerSearch = await gql(stranger, SecurityPatientSearchDocument, { search: c.mrn });
  expect(strangerSearch.patients.edges).toEqual([]);
  // Variables of the wrong shape: the error message echoes the value back to the caller, never to the log.
  const wrongType = await send({
    token: admin,
    body: JSON.stringify({ query: print(SecurityCreatePatientDocument), variables: { input: { firstName: { name: c.firstName }, lastName: c.lastName, dateOfBirth: c.dateOfBirth, mrn: 42 } } }),
    operationName: 'SecurityCreatePatient',
    expect: { outcome: 'error', status: 400 },
  });
  expect(JSON.stringify(wrongType)).toContain(c.firstName);
  await send({ token: admin, body: JSON.stringify({ query: `query Broken { patients(search: "${c.lastName}") { edges { node { id } }` }), operationName: null, expect: { outcome: 'error', status: 400 } });
  await send({ token: admin, body: `{"query": "{ patients(search: \\"${c.mrn}\\") `, operationName: null, expect: { outcome: 'error', status: 400 }, reachesAuth: false });
  await send({ token: admin, body: JSON.stringify({ query: `query Q { patients(search: "${c.mrn}") { edges { node { id } } } }`, pad: c.note.repeat(100_000) }), operationName: null, expect: { outcome: 'error', status: 413 }, reachesAuth: false });
  await send({ token: admin, body: JSON.stringify({ query: `query Q { patients(search: "${c.mrn}") { edges { node { id } } } }` }), contentType: 'text/plain', operationName: null, expect: { outcome: 'error', status: 400 }, reachesAuth: false });
  await send({ token: admin, body: JSON.stringify([{ query: `query Q { patients(search: "${c.mrn}") { edges { node { id } } } }` }]), operationName: null, expect: { outcome: 'error', status: 400 } });
  for (const bad of [forged, expired, `${c.lastName}.${c.mrn}.${c.dateOfBirth}`]) {
    await send({ token: bad, body: JSON.stringify({ query: print(SecurityPatientSearchDocument), variables: { search: c.mrn }, operationName: 'SecurityPatientSearch' }), operationName: 'SecurityPatientSearch', expect: { outcome: 'error', status: 401 } });
  }
  work.tokens.push(`${c.lastName}.${c.mrn}.${c.dateOfBirth}`);
  // A forged token over WebSocket: closed with 4403.
  const refusedSocket = new WebSocket(target.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((resolve) => refusedSocket.once('open', resolve));
  refusedSocket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${forged}`, mrn: c.mrn } }));
  expect(await new Promise((resolve) => refusedSocket.once('close', resolve))).toBe(4403);

  // An unexpected failure whose message carries PHI (as a database error quoting a row would).
  if (options.injectFailure) {
    const restore = options.injectFailure();
    try {
      await gql(admin, SecurityPatientScreenDocument, { id: patientId }, 'error');
      expect((await overWs(SecurityPatientSearchDocument, { search: c.mrn, first: 1 })).errors).toBeTruthy();
    } finally {
      restore();
    }
  }

  // Every change reached the live streams; then close them.
  const deadline = Date.now() + 10_000;
  while (events.length < 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(events.length).toBeGreaterThanOrEqual(8);
  stopPatient();
  stopPractice();
  await ws.dispose();
  await new Promise((resolve) => setTimeout(resolve, 100)); // the close is logged when the server sees it
  return work;
}

/** Every canary (and its lowercase form), every token, and each token's signature: none may appear. */
function leaks(output: string, c: Canaries, work: Workload): string[] {
  const needles = [
    ...Object.values(c).flatMap((v) => [v, v.toLowerCase()]),
    c.dateOfBirth.replace(/-/g, ''),
    ...work.tokens,
    ...work.tokens.map((t) => t.split('.')[2]).filter((s) => s && s.length > 10),
  ];
  const lower = output.toLowerCase();
  return [...new Set(needles)].filter((needle) => lower.includes(needle.toLowerCase()));
}

type LogLine = Record<string, unknown>;

function checkRequestLines(lines: LogLine[], work: Workload, practice: string) {
  const requests = lines.filter((l) => l.event === 'graphql_request');
  for (const sent of work.http) {
    const mine = requests.filter((l) => l.requestId === sent.requestId);
    expect({ requestId: sent.requestId, lines: mine.length, clientRequestId: mine[0]?.clientRequestId }).toEqual({ requestId: sent.requestId, lines: 1, clientRequestId: sent.clientRequestId });
    const [line] = mine;
    expect(line).toMatchObject({ transport: 'http', operationName: sent.operationName, actor: sent.actor, outcome: sent.outcome, status: sent.status });
    expect(typeof line.durationMs).toBe('number');
    expect(line.durationMs as number).toBeGreaterThanOrEqual(0);
    if (sent.actor) expect(line).toMatchObject({ role: expect.any(String), practiceId: expect.stringContaining(practice) });
    if (sent.outcome === 'error') expect(line.errorCodes).toEqual(expect.arrayContaining([expect.any(String)]));
  }
  const overWs = requests.filter((l) => l.transport === 'ws');
  for (const name of new Set(work.ws)) {
    const mine = overWs.filter((l) => l.operationName === name);
    expect({ name, lines: mine.length }).toEqual({ name, lines: work.ws.filter((w) => w === name).length });
    for (const line of mine) {
      expect(line).toMatchObject({ requestId: expect.any(String), actor: 'log-admin', role: 'ADMIN', practiceId: practice, outcome: expect.stringMatching(/^(ok|error)$/) });
      expect(typeof line.durationMs).toBe('number');
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('in-process server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...NO_CALLER_LIMITS } });
  });
  afterAll(() => server.stop());

  test('a full workload with canary PHI: one JSON line per request with the required fields, and no PHI or token in any line', async () => {
    const c = canaries();
    const reader = server.instances[0].services.reader;
    const work = await runWorkload({ url: server.url, practice: server.practice }, c, {
      injectFailure: () => {
        const original = { patients: reader.patients, listPatients: reader.listPatients };
        const fail = async (): Promise<never> => {
          throw new Error(`SQLITE_CONSTRAINT: UNIQUE failed for ('${c.firstName}', '${c.lastName}', '${c.mrn}', '${c.dateOfBirth}')`);
        };
        reader.patients = fail;
        reader.listPatients = fail;
        return () => Object.assign(reader, original);
      },
    });
    const lines = server.logs.map((line) => JSON.parse(line) as LogLine);
    expect(lines.length).toBeGreaterThan(work.http.length);
    expect(lines.some((l) => l.event === 'unexpected_error')).toBe(true);
    checkRequestLines(lines, work, server.practice);
    expect(leaks(`a line with ${c.mrn.toUpperCase()} and ${work.tokens[0]}`, c, work).length).toBeGreaterThanOrEqual(2); // the search finds what it looks for
    expect(leaks(server.logs.join('\n'), c, work)).toEqual([]);
    // The audit trail and the log share the request id.
    const [audited] = await server.instances[0].services.db.query<{ request_id: string }>("SELECT request_id FROM audit_events WHERE operation = 'createPatient' AND outcome = 'ACCEPTED' AND practice_id = ?", [server.practice]);
    expect(work.http.map((r) => r.requestId)).toContain(audited.request_id);
  });
});

describe('child process: node dist/src/main.js', () => {
  let child: ChildProcess | null = null;
  let dir: string;
  afterAll(() => {
    child?.kill('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every byte on stdout and stderr, NODE_ENV=development and LOG_LEVEL=debug, is free of canaries and tokens', async () => {
    const build = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    expect({ build: build.code, output: build.output }).toEqual({ build: 0, output: '' });

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-logs-'));
    const practice = `child-${crypto.randomBytes(4).toString('hex')}`;
    const output: Buffer[] = [];
    child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        LOG_LEVEL: 'debug',
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dir,
        DATABASE_URL: `sqlite:${path.join(dir, 'ledger.sqlite')}`,
        AUTH_JWT_SECRET: TEST_SECRET,
        SEED_DEMO: 'false',
        ...NO_CALLER_LIMITS,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const text = () => Buffer.concat(output).toString('utf8');

    let port = 0;
    const deadline = Date.now() + 30_000;
    while (!port && Date.now() < deadline) {
      port = Number(/"event":"server_started","port":(\d+)/.exec(text())?.[1] ?? 0);
      if (!port) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect({ port: port > 0, output: port ? '' : text() }).toEqual({ port: true, output: '' });

    const c = canaries();
    const work = await runWorkload({ url: `http://127.0.0.1:${port}/graphql`, practice }, c);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = null;

    const all = text();
    expect(leaks(all, c, work)).toEqual([]);
    // Apart from the development banner (a demo token for the demo practice, printed once at start), stdout is JSON
    // lines; no JSON line carries anything token-shaped.
    const jsonLines = all.split('\n').filter((line) => line.startsWith('{'));
    const lines = jsonLines.map((line) => JSON.parse(line) as LogLine);
    for (const line of jsonLines) expect(line).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(lines.filter((l) => l.level === 'debug' || l.level === 'info').length).toBeGreaterThan(work.http.length);
    checkRequestLines(lines, work, practice);
    expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(['server_started', 'graphql_request', 'shutdown', 'server_stopped']));
  }, 240_000);
});
