/**
 * Issue 8: an audit trail you can investigate with. Refusals on a known patient are in that patient's trail, list
 * reads are found by every patient they returned, the request id is the server's own, `from`/`to` are strict, any
 * text a token carries is storable, and read events are batched yet durable (within a bounded delay, and at a
 * graceful stop).
 *
 * Operations are raw query strings over HTTP, like a frontend without generated types.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startServer } from '../../src/server';
import { signToken } from '../../src/auth/tokens';
import type { Logger } from '../../src/logger';
import { READ_AUDIT_MAX_DELAY_MS } from '../../src/audit/audit.service';
import { startTestServer, testServerEnv, TestServer, Caller, TEST_SECRET } from '../harness';
import { createScratchDatabase } from '../scratch-postgres';

interface Answer<T = Record<string, unknown>> {
  status: number;
  requestId: string | null;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

interface EventNode {
  operation: string;
  outcome: string;
  code: string | null;
  patientId: string | null;
  entityIds: string[];
  requestId: string;
  clientRequestId: string | null;
  occurredAt: string;
}

let server: TestServer;
let manager: Caller;

beforeAll(async () => {
  server = await startTestServer();
  manager = await server.caller('BILLING_MANAGER', undefined, 'investigator');
});
afterAll(() => server.stop());

async function post<T = Record<string, unknown>>(url: string, token: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, requestId: response.headers.get('x-request-id'), ...((await response.json()) as object) };
}

const gql = <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}, caller = manager) =>
  post<T>(server.url, caller.token, query, variables, headers);

async function ok<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<T> {
  const answer = await gql<T>(query, variables, headers);
  if (answer.errors || !answer.data) throw new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`);
  return answer.data;
}

const TRAIL = `query Trail($patientId: ID, $from: String, $to: String, $first: Int) {
  auditTrail(patientId: $patientId, from: $from, to: $to, first: $first) {
    edges { node { operation outcome code patientId entityIds requestId clientRequestId occurredAt } }
  }
}`;

async function trail(variables: { patientId?: string; from?: string; to?: string; first?: number }): Promise<EventNode[]> {
  const data = await ok<{ auditTrail: { edges: { node: EventNode }[] } }>(TRAIL, { first: 100, ...variables });
  return data.auditTrail.edges.map((e) => e.node);
}

async function newPatient(lastName = `Trail${crypto.randomBytes(3).toString('hex')}`): Promise<string> {
  const data = await ok<{ createPatient: { patient: { id: string } } }>('mutation($i: CreatePatientInput!) { createPatient(input: $i) { patient { id } } }', {
    i: { firstName: 'Audit', lastName },
  });
  return data.createPatient.patient.id;
}

async function newLine(patientId: string, amountCents: number): Promise<string> {
  const data = await ok<{ createCharge: { charge: { responsibilities: { id: string }[] } } }>(
    'mutation($i: CreateChargeInput!) { createCharge(input: $i) { charge { responsibilities { id } } } }',
    { i: { patientId, serviceDate: '2026-10-01', procedureCode: '99213', billedCents: 100_000, responsibilities: [{ kind: 'CUSTOM', amountCents }] } },
  );
  return data.createCharge.charge.responsibilities[0].id;
}

const WRITE_OFF = 'mutation($i: WriteOffInput!) { writeOff(input: $i) { writeOff { id } userErrors { code } } }';
const READ_PATIENT = 'query($id: ID!) { patient(id: $id) { id } }';

test('a refused write-off on a known line is in that patient’s trail, with the line; one on an unknown line is not tied to a patient', async () => {
  const patientId = await newPatient();
  const lineId = await newLine(patientId, 5000);
  const tooMuch = await ok<{ writeOff: { userErrors: { code: string }[] } }>(WRITE_OFF, { i: { responsibilityId: lineId, amountCents: 9000, reason: 'SMALL_BALANCE' } });
  expect(tooMuch.writeOff.userErrors.map((e) => e.code)).toEqual(['WRITE_OFF_EXCEEDS_OPEN']);
  // The same idempotency key with other input: refused against the stored request, whose patient is known.
  const key = `wo-${crypto.randomUUID()}`;
  await ok(WRITE_OFF, { i: { responsibilityId: lineId, amountCents: 1000, reason: 'SMALL_BALANCE', idempotencyKey: key } });
  const reused = await ok<{ writeOff: { userErrors: { code: string }[] } }>(WRITE_OFF, { i: { responsibilityId: lineId, amountCents: 2000, reason: 'SMALL_BALANCE', idempotencyKey: key } });
  expect(reused.writeOff.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  const unknownLine = crypto.randomUUID();
  await ok(WRITE_OFF, { i: { responsibilityId: unknownLine, amountCents: 100, reason: 'SMALL_BALANCE' } });

  const refused = (await trail({ patientId })).filter((e) => e.outcome === 'REFUSED');
  expect(refused).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ operation: 'writeOff', code: 'WRITE_OFF_EXCEEDS_OPEN', patientId, entityIds: [lineId] }),
      expect.objectContaining({ operation: 'writeOff', code: 'IDEMPOTENCY_KEY_REUSED', patientId, entityIds: [lineId] }),
    ]),
  );
  expect(refused).toHaveLength(2);
  const notFound = (await trail({})).find((e) => e.code === 'NOT_FOUND' && e.operation === 'writeOff');
  expect(notFound).toMatchObject({ outcome: 'REFUSED', patientId: null, entityIds: [] });
});

test('a patients list read is found in the trail of every patient it returned, and only theirs', async () => {
  const family = `Listed${crypto.randomBytes(3).toString('hex')}`;
  const [first, second] = [await newPatient(family), await newPatient(family)];
  const other = await newPatient();
  const list = await ok<{ patients: { edges: { node: { id: string } }[] } }>('query($s: String) { patients(search: $s, first: 10) { edges { node { id } } } }', { s: family });
  expect(list.patients.edges.map((e) => e.node.id).sort()).toEqual([first, second].sort());

  for (const patientId of [first, second]) {
    const reads = (await trail({ patientId })).filter((e) => e.operation === 'patients');
    expect({ patientId, reads }).toEqual({ patientId, reads: [expect.objectContaining({ outcome: 'READ', patientId: null, entityIds: expect.arrayContaining([first, second]) })] });
  }
  expect((await trail({ patientId: other })).filter((e) => e.operation === 'patients')).toEqual([]);
  // A list that returns one patient names that patient outright.
  await ok('query($s: String) { patients(search: $s, first: 10) { edges { node { id } } } }', { s: (await ok<{ patient: { lastName: string } }>('query($id: ID!) { patient(id: $id) { lastName } }', { id: other })).patient.lastName });
  expect((await trail({ patientId: other })).filter((e) => e.operation === 'patients')).toEqual([expect.objectContaining({ patientId: other, entityIds: [other] })]);
});

test('the stored request id is the server’s own; a client’s x-request-id is kept beside it, never instead of it', async () => {
  const patientId = await newPatient();
  const clientId = `client-${crypto.randomBytes(4).toString('hex')}`;
  const read = await gql(READ_PATIENT, { id: patientId }, { 'x-request-id': clientId });
  expect(read.errors).toBeUndefined();
  expect(read.requestId).toMatch(/^[0-9a-f-]{36}$/);
  const refused = await gql(WRITE_OFF, { i: { responsibilityId: await newLine(patientId, 500), amountCents: 900, reason: 'SMALL_BALANCE' } }, { 'x-request-id': clientId });

  const events = await trail({ patientId });
  const readEvent = events.find((e) => e.operation === 'patient')!;
  expect(readEvent).toMatchObject({ requestId: read.requestId, clientRequestId: clientId });
  expect(readEvent.requestId).not.toBe(clientId);
  expect(events.find((e) => e.operation === 'writeOff')).toMatchObject({ outcome: 'REFUSED', requestId: refused.requestId, clientRequestId: clientId });
  // Without the header there is no client id, and the server's id is still there.
  expect(events.find((e) => e.operation === 'createPatient')).toMatchObject({ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), clientRequestId: null });
});

test('from and to take ISO-8601 date-times (with Z or an offset) or plain dates, in 2000–2100, with from ≤ to; anything else is BAD_USER_INPUT', async () => {
  const refusedValues = [
    '0',
    'March 7',
    '+275760-09-13T00:00:00Z',
    '2026-02-30',
    '2026-11-01T25:00:00Z',
    '2026-11-01T00:00:00',
    '2026-11-01 00:00:00Z',
    '2026-01-01T00:00:00+99:99',
    '1999-12-31T23:59:59Z',
    '2101-01-01',
    '',
  ];
  for (const name of ['from', 'to']) {
    for (const value of refusedValues) {
      const answer = await gql(TRAIL, { [name]: value });
      expect({ name, value, codes: answer.errors?.map((e) => e.extensions?.code), data: answer.data ?? null }).toEqual({ name, value, codes: ['BAD_USER_INPUT'], data: null });
      expect(answer.errors![0].message).toMatch(new RegExp(`^${name} must be an ISO-8601 date-time .*2026-11-01T00:00:00Z`));
    }
  }
  const backwards = await gql(TRAIL, { from: '2026-12-01T00:00:00Z', to: '2026-11-01' });
  expect(backwards.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  expect(backwards.errors![0].message).toMatch(/^from must not be after to, e\.g\. from: "2026-11-01T00:00:00Z"/);

  // What is accepted means what it says: a date is midnight UTC, an offset is applied.
  const patientId = await newPatient();
  const now = Date.now();
  const today = new Date(now).toISOString().slice(0, 10);
  const tomorrow = new Date(now + 86_400_000).toISOString().slice(0, 10);
  const withOffset = (instant: number, offsetMinutes: number) => {
    const sign = offsetMinutes < 0 ? '-' : '+';
    const hhmm = `${String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMinutes) % 60).padStart(2, '0')}`;
    return `${new Date(instant + offsetMinutes * 60_000).toISOString().slice(0, 19)}${sign}${hhmm}`;
  };
  const count = async (bounds: { from?: string; to?: string }) => (await trail({ patientId, ...bounds })).length;
  expect(await count({ from: today })).toBe(1);
  expect(await count({ to: today })).toBe(0);
  expect(await count({ from: tomorrow })).toBe(0);
  expect(await count({ from: today, to: tomorrow })).toBe(1);
  expect(await count({ from: withOffset(now - 3_600_000, 330) })).toBe(1); // an hour ago, written in +05:30
  expect(await count({ from: withOffset(now + 3_600_000, -300) })).toBe(0); // an hour ahead, written in -05:00
  expect(await count({ from: today, to: today })).toBe(0); // an empty range is a range, not an error
});

test('a NUL or another control character in a token’s sub is UNAUTHENTICATED, and audit rows store whatever text they are given', async () => {
  for (const sub of ['nul\u0000user', 'bell\u0007user', 'csi\u009buser']) {
    const token = await signToken(TEST_SECRET, { sub, practiceId: server.practice, role: 'ADMIN' });
    const answer = await post(server.url, token, '{ writeOffReasons { code } }');
    expect({ sub, status: answer.status, codes: answer.errors?.map((e) => e.extensions?.code) }).toEqual({ sub, status: 401, codes: ['UNAUTHENTICATED'] });
  }
  // The audit builder does not rely on that: text PostgreSQL cannot hold is made storable, on both paths.
  const audit = server.instances[0].services.audit;
  const caller = { actor: { userId: 'odd\u0000actor', practiceId: server.practice, role: 'ADMIN' as const, expiresAt: 0 }, requestId: 'req\u0000id', clientRequestId: 'client\u0000id' };
  const patientId = await newPatient();
  await audit.record(caller, { operation: 'write\u0000Off', outcome: 'REFUSED', code: 'FORBIDDEN', patientId, entityIds: ['id\u0000'] });
  audit.enqueueReads(caller, [{ operation: 'patient', outcome: 'READ', patientId, entityIds: [patientId] }]);
  const odd = (await trail({ patientId })).filter((e) => e.requestId === 'req\uFFFDid');
  expect(odd).toHaveLength(2);
  expect(odd).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ operation: 'patient', clientRequestId: 'client\uFFFDid' }),
      expect.objectContaining({ operation: 'write\uFFFDOff', code: 'FORBIDDEN', entityIds: ['id\u0000'] }),
    ]),
  );
});

test('the patient index of the trail is append-only, like the events', async () => {
  const db = server.instances[0].services.db;
  for (const sql of ['UPDATE audit_event_patients SET patient_id = ?', 'DELETE FROM audit_event_patients WHERE patient_id <> ?']) {
    await expect(db.transaction((tx) => tx.query(sql, ['x']))).rejects.toThrow(/append-only|not allowed|never deleted/);
  }
});

describe('read events: batched, yet durable', () => {
  const countReads = (db: { query: TestServer['instances'][number]['services']['db']['query'] }, patientId: string) =>
    db.query<{ n: number }>("SELECT COUNT(*) AS n FROM audit_events WHERE operation = 'patient' AND outcome = 'READ' AND patient_id = ?", [patientId]).then(([row]) => Number(row.n));

  test('a read answers without waiting for the writer, and its event is written shortly after without anyone asking', async () => {
    const patientId = await newPatient();
    const { db } = server.instances[0].services;
    // Hold the database's write transaction (on SQLite every transaction of the process queues behind it).
    let release!: () => void;
    const held = db.transaction(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const read = await gql(READ_PATIENT, { id: patientId });
    const answeredIn = Date.now() - started;
    expect(read.errors).toBeUndefined();
    setTimeout(() => release(), 1500);
    expect(answeredIn).toBeLessThan(1000);
    await held;
    const released = Date.now();
    while ((await countReads(db, patientId)) === 0) {
      if (Date.now() - released > 5000) throw new Error('the read event was never written');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // At most a retry's backoff after the writer is free again, plus one transaction.
    expect(Date.now() - released).toBeLessThan(READ_AUDIT_MAX_DELAY_MS * 8);
  });

  test('a graceful stop writes the read events that wait, before the database closes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-audit-stop-'));
    const postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase('ledger_audit_stop') : null;
    const logger: Logger = { log() {} };
    const env = testServerEnv(dir, postgres?.url ?? null);
    try {
      const practice = `stop-${crypto.randomBytes(4).toString('hex')}`;
      const token = await signToken(TEST_SECRET, { sub: 'stopper', practiceId: practice, role: 'BILLING_MANAGER' });
      const first = await startServer(loadConfig(env, dir), { logger });
      const created = await post<{ createPatient: { patient: { id: string } } }>(first.url, token, 'mutation { createPatient(input: { firstName: "Stop", lastName: "Test" }) { patient { id } } }');
      const patientId = created.data!.createPatient.patient.id;
      for (let i = 0; i < 3; i++) expect((await post(first.url, token, READ_PATIENT, { id: patientId })).errors).toBeUndefined();
      await first.stop();

      const second = await startServer(loadConfig(env, dir), { logger });
      try {
        expect(await countReads(second.services.db, patientId)).toBe(3);
      } finally {
        await second.stop();
      }
    } finally {
      await postgres?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
