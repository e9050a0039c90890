/**
 * Durability on SQLite (docs/operations.md §2): the writer runs WAL + synchronous=FULL with a busy timeout, and
 * an acknowledged mutation survives the process being killed with SIGKILL mid-load. This file always uses SQLite
 * (DATABASE_URL is given explicitly), whatever TEST_DB says: the PostgreSQL path has its durability from PostgreSQL.
 *
 * The crash test runs the built server (`dist/src/main.js`) as a child process, so `kill -9` hits a real process with
 * requests in flight, then restarts it on the same file and checks every acknowledged mutation is there, exactly
 * once, with every invariant and balance intact.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import sqlite3 from 'sqlite3';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  ConcBalanceDocument,
  ConcCancelDocument,
  ConcLineDocument,
  ConcPaymentDocument,
  ConcRecordPaymentDocument,
  ConcRefundDocument,
  ConcRemoveWriteOffDocument,
  ConcWriteOffDocument,
  CreateChargeDocument,
  CreatePatientDocument,
  RecordRemittanceDocument,
} from '../__generated__/graphql';
import { startTestServer, TEST_SECRET } from '../harness';
import { signToken } from '../../src/auth/tokens';
import { Run, Sql, checkPatient } from './ledger-check';
import { mulberry32, pick, randomInt } from '../seeded-random';
import { ensureBuilt } from '../support/built-dist';

const ROOT = path.resolve(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const PRACTICE = 'practice-durability';

jest.setTimeout(120_000);

describe('the SQLite writer', () => {
  test('runs with journal_mode=wal, synchronous=FULL and a busy timeout; the reader is read-only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-pragmas-'));
    const server = await startTestServer({ env: { DATABASE_URL: `sqlite:${path.join(dir, 'ledger.sqlite')}` } });
    try {
      const db = server.instances[0].services.db;
      expect(db.kind).toBe('sqlite');
      expect(await db.pragma('journal_mode')).toBe('wal');
      expect(Number(await db.pragma('synchronous'))).toBe(2);
      expect(Number(await db.pragma('busy_timeout'))).toBeGreaterThanOrEqual(1000);
      // The reader connection sees the same WAL database and cannot write.
      expect(Object.values((await db.query('PRAGMA journal_mode'))[0])[0]).toBe('wal');
      expect(Number(Object.values((await db.query('PRAGMA query_only'))[0])[0])).toBe(1);
      expect(Number(Object.values((await db.query('PRAGMA busy_timeout'))[0])[0])).toBeGreaterThanOrEqual(1000);
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A server in a child process, and a small client for it.

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function startChild(dbFile: string, dataDir: string): Promise<Child> {
  const proc = spawn(process.execPath, [MAIN], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: `sqlite:${dbFile}`,
      AUTH_JWT_SECRET: TEST_SECRET,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
      MUTATION_RATE_LIMIT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start in 20 s: ${out}${err}`));
    }, 20_000);
    proc.stderr!.on('data', (chunk) => (err += chunk));
    proc.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ proc, url: match[1], exited });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${out}${err}`));
    });
  });
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

interface Reply {
  status: number;
  data: Record<string, any> | null;
  errors?: unknown[];
}

async function send(url: string, token: string, document: TypedDocumentNode<any, any>, variables: unknown): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Reply, 'status'>) };
}

function runner(url: string, token: string): Run {
  return (async (document: TypedDocumentNode<any, any>, variables: unknown) => {
    const reply = await send(url, token, document, variables);
    if (reply.status !== 200 || reply.errors?.length || !reply.data) throw new Error(`GraphQL failure: ${reply.status} ${JSON.stringify(reply.errors)}`);
    return reply.data;
  }) as Run;
}

/** A read-only connection of our own to the database file, for raw rows and PRAGMA integrity_check. */
async function openRows(file: string): Promise<{ sql: Sql; close(): Promise<void> }> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (e) => (e ? reject(e) : resolve(d)));
  });
  await new Promise<void>((resolve, reject) => db.run('PRAGMA busy_timeout = 5000', (e) => (e ? reject(e) : resolve())));
  return {
    sql: (text, params = []) => new Promise((resolve, reject) => db.all(text, params, (e, rows) => (e ? reject(e) : resolve(rows as Record<string, unknown>[])))),
    close: () => new Promise((resolve) => db.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------------------------

type Kind = 'writeOff' | 'payment' | 'refund' | 'removal' | 'cancel';

interface Attempt {
  kind: Kind;
  patientId: string;
  key: string;
  document: TypedDocumentNode<any, any>;
  input: Record<string, unknown>;
  /** ack: HTTP 200, no errors, no userErrors. unknown: no answer (the process died). */
  outcome: 'ack' | 'refused' | 'unknown';
  id: string | null;
  /** For refunds: the payment; for write-offs and removals: the line. */
  parentId: string | null;
  amountCents: number | null;
  cycle: number;
}

const FIELD: Record<Kind, string> = { writeOff: 'writeOff', payment: 'recordPayment', refund: 'refundPayment', removal: 'removeWriteOff', cancel: 'cancelPR' };

function judge(attempt: Attempt, reply: Reply): void {
  if (reply.status !== 200 || reply.errors?.length || !reply.data) throw new Error(`${attempt.kind} ${attempt.key}: ${reply.status} ${JSON.stringify(reply.errors)}`);
  const payload = reply.data[FIELD[attempt.kind]];
  if (payload.userErrors.length > 0) {
    attempt.outcome = 'refused';
    return;
  }
  attempt.outcome = 'ack';
  attempt.id =
    attempt.kind === 'refund' ? payload.refund.id : attempt.kind === 'payment' ? payload.payment.id : attempt.kind === 'cancel' ? payload.responsibility.id : payload.writeOff.id;
}

interface Patient {
  id: string;
  lines: string[];
  setupVersions: number;
}

async function setUp(run: Run, rand: () => number): Promise<Patient[]> {
  const patients: Patient[] = [];
  for (let i = 0; i < 3; i++) {
    const created = await run(CreatePatientDocument, { input: { firstName: 'Crash', lastName: `Test${i}` } });
    const id = created.createPatient.patient!.id;
    const charge = await run(CreateChargeDocument, {
      input: {
        patientId: id,
        serviceDate: '2026-10-01',
        procedureCode: '99213',
        billedCents: 1_000_000,
        responsibilities: Array.from({ length: 3 }, () => ({ kind: 'CUSTOM' as const, amountCents: randomInt(rand, 20_000, 50_000) })),
      },
    });
    const remitted = await run(CreateChargeDocument, { input: { patientId: id, serviceDate: '2026-10-02', procedureCode: '99214', billedCents: 100_000, responsibilities: [] } });
    const remittance = await run(RecordRemittanceDocument, {
      input: { chargeId: remitted.createCharge.charge!.id, remittanceId: `ERA-${i}`, adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: randomInt(rand, 20_000, 50_000) }] },
    });
    patients.push({
      id,
      lines: [...charge.createCharge.charge!.responsibilities.map((r) => r.id), remittance.recordRemittance.charge!.responsibilities[0].id],
      setupVersions: 3,
    });
  }
  return patients;
}


describe('a crash (kill -9) mid-load', () => {
  let dir: string;
  let dbFile: string;
  let token: string;
  let child: Child | null = null;

  beforeAll(async () => {
    token = await signToken(TEST_SECRET, { sub: 'crash-manager', practiceId: PRACTICE, role: 'BILLING_MANAGER' });
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-crash-'));
    dbFile = path.join(dir, 'ledger.sqlite');
  }, 120_000);
  afterAll(async () => {
    if (child) await kill9(child);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Checks the restarted server against everything the clients were told; returns the problems. */
  async function verify(run: Run, patients: Patient[], attempts: Attempt[], lastCycle: number): Promise<string[]> {
    const problems: string[] = [];
    const rows = await openRows(dbFile);
    try {
      const integrity = await rows.sql('PRAGMA integrity_check');
      if (integrity.length !== 1 || Object.values(integrity[0])[0] !== 'ok') problems.push(`integrity_check: ${JSON.stringify(integrity)}`);
      const mode = await rows.sql('PRAGMA journal_mode');
      if (Object.values(mode[0])[0] !== 'wal') problems.push(`journal_mode: ${JSON.stringify(mode)}`);
      for (const p of patients) {
        const mine = attempts.filter((a) => a.patientId === p.id);
        const acked = mine.filter((a) => a.outcome === 'ack');
        const unknown = mine.filter((a) => a.outcome === 'unknown');
        if (unknown.length > 0) problems.push(`${unknown.length} attempts still have no answer`);

        // Invariants, and balances equal to a recomputation from the rows.
        const checked = await checkPatient(run, rows.sql, p.id);
        problems.push(...checked.problems);

        // Every acknowledged object is there, through the API: those of the cycle just killed one by one by id,
        // all of them in the patient's ledger as the API lists it.
        const listed = {
          payment: new Map(checked.snapshot.payments.map((x) => [x.id, x.amountCents])),
          refund: new Set(checked.snapshot.payments.flatMap((x) => x.refunds.map((r) => r.id))),
          writeOff: new Map(checked.snapshot.lines.flatMap((l) => l.writeOffs.map((w) => [w.id, w.amountCents] as const))),
        };
        for (const a of acked) {
          if (a.kind === 'payment' && listed.payment.get(a.id!) !== a.amountCents) problems.push(`acknowledged payment ${a.id} not listed`);
          if (a.kind === 'refund' && !listed.refund.has(a.id!)) problems.push(`acknowledged refund ${a.id} not listed`);
          if (a.kind === 'writeOff' && listed.writeOff.get(a.id!) !== a.amountCents) problems.push(`acknowledged write-off ${a.id} not listed`);
          if (a.cycle !== lastCycle) continue;
          if (a.kind === 'payment') {
            const payment = (await run(ConcPaymentDocument, { id: a.id! })).payment;
            if (!payment || payment.amountCents !== a.amountCents) problems.push(`acknowledged payment ${a.id} lost: ${JSON.stringify(payment)}`);
          } else if (a.kind === 'refund') {
            const payment = (await run(ConcPaymentDocument, { id: a.parentId! })).payment;
            if (!payment?.refunds.some((r) => r.id === a.id)) problems.push(`acknowledged refund ${a.id} lost`);
          } else if (a.kind === 'writeOff') {
            const line = (await run(ConcLineDocument, { id: a.parentId! })).responsibility;
            const w = line?.writeOffs.find((x) => x.id === a.id);
            if (!w || w.amountCents !== a.amountCents) problems.push(`acknowledged write-off ${a.id} lost`);
          }
        }
        // Exactly once: the rows hold what the clients were told about, no more.
        const idsOf = async (table: string) => new Set((await rows.sql(`SELECT id FROM ${table} WHERE patient_id = ?`, [p.id])).map((r) => String(r.id)));
        const told = (kind: Kind) => new Set(acked.filter((a) => a.kind === kind).map((a) => a.id!));
        const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
        if (!same(await idsOf('write_offs'), told('writeOff'))) problems.push(`patient ${p.id}: write_offs rows != acknowledged write-offs`);
        if (!same(await idsOf('payments'), told('payment'))) problems.push(`patient ${p.id}: payments rows != acknowledged payments`);
        if (!same(await idsOf('refunds'), told('refund'))) problems.push(`patient ${p.id}: refunds rows != acknowledged refunds`);
        const reversals = Number((await rows.sql('SELECT COUNT(*) AS n FROM write_off_reversals WHERE patient_id = ?', [p.id]))[0].n);
        if (reversals !== acked.filter((a) => a.kind === 'removal').length) problems.push(`patient ${p.id}: ${reversals} reversal rows for ${acked.filter((a) => a.kind === 'removal').length} acknowledged removals`);
        const keys = Number((await rows.sql('SELECT COUNT(*) AS n FROM idempotency_keys WHERE patient_id = ?', [p.id]))[0].n);
        if (keys !== acked.length) problems.push(`patient ${p.id}: ${keys} idempotency keys for ${acked.length} acknowledged mutations`);

        // Version: one per accepted mutation, and every accepted one was acknowledged (in the end).
        const version = checked.snapshot.balance.version;
        if (version !== p.setupVersions + acked.length) problems.push(`patient ${p.id}: version ${version}, expected ${p.setupVersions} + ${acked.length}`);
      }
    } finally {
      await rows.close();
    }
    return problems;
  }

  test('every acknowledged mutation survives five kill -9 / restart cycles, exactly once, with every invariant intact', async () => {
    const rand = mulberry32(424242);
    // Kill points come from their own generator, so they do not depend on how many requests the timing let through.
    const killRand = mulberry32(99);
    child = await startChild(dbFile, dir);
    let run = runner(child.url, token);
    const patients = await setUp(run, rand);
    const attempts: Attempt[] = [];
    const CYCLES = 5;
    const WORKERS = 12;
    const stats: string[] = [];

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const target = randomInt(killRand, 25, 60);
      let acked = 0;
      let killed: Promise<void> | null = null;
      let inFlightAtKill = 0;
      let inFlight = 0;
      let serial = 0;
      const live = child!;
      const ackedSoFar = (kind: Kind) => attempts.filter((a) => a.outcome === 'ack' && a.kind === kind);

      const next = (): Attempt => {
        const p = pick(rand, patients);
        const key = `cycle${cycle}-${serial++}`;
        const x = rand();
        const payments = ackedSoFar('payment').filter((a) => a.patientId === p.id);
        const writeOffs = ackedSoFar('writeOff').filter((a) => a.patientId === p.id);
        const base = { patientId: p.id, key, outcome: 'unknown' as const, id: null, cycle };
        if (x < 0.15 && payments.length > 0) {
          const payment = pick(rand, payments);
          const amountCents = randomInt(rand, 100, 1_500);
          const method = rand() < 0.5 ? 'ACCOUNT_CREDIT' : 'ORIGINAL_CARD';
          return { ...base, kind: 'refund', document: ConcRefundDocument, parentId: payment.id, amountCents, input: { paymentId: payment.id, amountCents, method, reason: 'Overpaid', idempotencyKey: key } };
        }
        if (x < 0.25 && writeOffs.length > 0) {
          const writeOff = pick(rand, writeOffs);
          const amountCents = randomInt(rand, 50, 300);
          return { ...base, kind: 'removal', document: ConcRemoveWriteOffDocument, parentId: writeOff.parentId, amountCents, input: { writeOffId: writeOff.id, amountCents, reason: 'Patient can pay', idempotencyKey: key } };
        }
        if (x < 0.6) {
          const amountCents = randomInt(rand, 500, 5_000);
          const allocations = rand() < 0.8 ? [{ responsibilityId: pick(rand, p.lines), amountCents: randomInt(rand, 100, 2_000) }] : [];
          return { ...base, kind: 'payment', document: ConcRecordPaymentDocument, parentId: null, amountCents, input: { patientId: p.id, amountCents, method: 'CARD', allocations, idempotencyKey: key } };
        }
        const line = pick(rand, p.lines);
        const amountCents = randomInt(rand, 50, 800);
        return { ...base, kind: 'writeOff', document: ConcWriteOffDocument, parentId: line, amountCents, input: { responsibilityId: line, amountCents, reason: 'SMALL_BALANCE', idempotencyKey: key } };
      };

      let failure: unknown = null;
      const worker = async () => {
        while (!killed && !failure) {
          const attempt = next();
          attempts.push(attempt);
          inFlight++;
          try {
            judge(attempt, await send(live.url, token, attempt.document, { input: attempt.input }));
          } catch (error) {
            // No answer: the process died with the request in flight. Its outcome is unknown until retried.
            if (!killed) failure ??= error;
          } finally {
            inFlight--;
          }
          if (attempt.outcome === 'ack' && ++acked >= target && !killed) {
            inFlightAtKill = inFlight;
            killed = kill9(live);
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      if (failure) throw failure;
      await killed;

      // Restart on the same file; retry every request whose answer was lost, with its idempotency key.
      const restartAt = Date.now();
      child = await startChild(dbFile, dir);
      const restartMs = Date.now() - restartAt;
      run = runner(child.url, token);
      const lost = attempts.filter((a) => a.outcome === 'unknown');
      for (const attempt of lost) judge(attempt, await send(child.url, token, attempt.document, { input: attempt.input }));
      expect(inFlightAtKill).toBeGreaterThan(0);
      const verifyAt = Date.now();
      expect(await verify(run, patients, attempts, cycle)).toEqual([]);
      stats.push(`cycle ${cycle}: ${acked} acknowledged, ${inFlightAtKill} in flight at the kill, ${lost.length} retried; restart ${restartMs} ms, verify ${Date.now() - verifyAt} ms`);
    }

    // After the last restart, replaying acknowledged requests returns the original objects and changes nothing.
    const versions = await Promise.all(patients.map(async (p) => (await run(ConcBalanceDocument, { id: p.id })).patient!.balance.version));
    const sample = attempts.filter((a) => a.outcome === 'ack' && a.cycle === 0);
    expect(sample.length).toBeGreaterThan(0);
    for (const a of sample) {
      const replay: Attempt = { ...a, outcome: 'unknown', id: null };
      judge(replay, await send(child!.url, token, a.document, { input: a.input }));
      expect({ key: a.key, outcome: replay.outcome, id: replay.id }).toEqual({ key: a.key, outcome: 'ack', id: a.id });
    }
    expect(await Promise.all(patients.map(async (p) => (await run(ConcBalanceDocument, { id: p.id })).patient!.balance.version))).toEqual(versions);
    expect(await verify(run, patients, attempts, -1)).toEqual([]);
    // eslint-disable-next-line no-console
    if (process.env.VERBOSE_E2E) console.log(stats.join('\n'));
  });

  test('an idempotent replay after a restart returns the original result, and a changed input under the same key is refused', async () => {
    if (child) await kill9(child);
    child = await startChild(dbFile, dir);
    let run = runner(child.url, token);
    const created = await run(CreatePatientDocument, { input: { firstName: 'Replay', lastName: 'Test' } });
    const patientId = created.createPatient.patient!.id;
    const charge = await run(CreateChargeDocument, {
      input: { patientId, serviceDate: '2026-10-03', procedureCode: '99213', billedCents: 100_000, responsibilities: [{ kind: 'CUSTOM', amountCents: 10_000 }, { kind: 'CUSTOM', amountCents: 5_000 }] },
    });
    const [lineA, lineB] = charge.createCharge.charge!.responsibilities.map((r) => r.id);

    const steps: { kind: Kind; document: TypedDocumentNode<any, any>; input: Record<string, unknown> }[] = [];
    /** The acknowledged answers, as the client keeps them. */
    const original: string[] = [];
    const perform = async (kind: Kind, document: TypedDocumentNode<any, any>, input: Record<string, unknown>) => {
      const attempt: Attempt = { kind, patientId, key: String(input.idempotencyKey), document, input, outcome: 'unknown', id: null, parentId: null, amountCents: null, cycle: -1 };
      judge(attempt, await send(child!.url, token, document, { input }));
      expect(attempt.outcome).toBe('ack');
      steps.push({ kind, document, input });
      original.push(attempt.id!);
      return attempt.id!;
    };
    const paymentId = await perform('payment', ConcRecordPaymentDocument, { patientId, amountCents: 6_000, method: 'CARD', allocations: [{ responsibilityId: lineA, amountCents: 4_000 }], idempotencyKey: 'replay-payment' });
    const writeOffId = await perform('writeOff', ConcWriteOffDocument, { responsibilityId: lineA, amountCents: 2_500, reason: 'BAD_DEBT', idempotencyKey: 'replay-write-off' });
    await perform('removal', ConcRemoveWriteOffDocument, { writeOffId, amountCents: 1_000, reason: 'Patient can pay', idempotencyKey: 'replay-removal' });
    await perform('refund', ConcRefundDocument, { paymentId, amountCents: 3_000, method: 'EXTERNAL_CHECK', reason: 'Overpaid', idempotencyKey: 'replay-refund' });
    await perform('cancel', ConcCancelDocument, { responsibilityId: lineB, reason: 'Entered in error', idempotencyKey: 'replay-cancel' });
    const before = (await run(ConcBalanceDocument, { id: patientId })).patient!.balance;
    expect(before.version).toBe(1 + steps.length);

    await kill9(child);
    child = await startChild(dbFile, dir);
    run = runner(child.url, token);
    // Replays after the restart, all at once: the same objects, no new version, no new rows.
    const replays = await Promise.all(
      steps.map(async (s) => {
        const a: Attempt = { ...s, patientId, key: '', outcome: 'unknown', id: null, parentId: null, amountCents: null, cycle: -1 };
        judge(a, await send(child!.url, token, s.document, { input: s.input }));
        return a;
      }),
    );
    expect(replays.map((a) => [a.outcome, a.id])).toEqual(original.map((id) => ['ack', id]));
    const after = (await run(ConcBalanceDocument, { id: patientId })).patient!.balance;
    expect(after).toEqual(before);

    // The same key with a different input is IDEMPOTENCY_KEY_REUSED, and changes nothing.
    const reused = await send(child.url, token, ConcWriteOffDocument, { input: { responsibilityId: lineA, amountCents: 100, reason: 'BAD_DEBT', idempotencyKey: 'replay-write-off' } });
    expect(reused.data!.writeOff.userErrors.map((e: { code: string }) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect((await run(ConcBalanceDocument, { id: patientId })).patient!.balance.version).toBe(before.version);

    const rows = await openRows(dbFile);
    try {
      expect((await checkPatient(run, rows.sql, patientId)).problems).toEqual([]);
      expect(Number((await rows.sql('SELECT COUNT(*) AS n FROM write_offs WHERE patient_id = ?', [patientId]))[0].n)).toBe(1);
      expect(Number((await rows.sql('SELECT COUNT(*) AS n FROM payments WHERE patient_id = ?', [patientId]))[0].n)).toBe(1);
      expect(Number((await rows.sql('SELECT COUNT(*) AS n FROM refunds WHERE patient_id = ?', [patientId]))[0].n)).toBe(1);
      expect(Number((await rows.sql('SELECT COUNT(*) AS n FROM write_off_reversals WHERE patient_id = ?', [patientId]))[0].n)).toBe(1);
    } finally {
      await rows.close();
    }
  });
});
