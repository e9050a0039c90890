/**
 * Durability on SQLite (docs/operations.md §2): the writer runs WAL + synchronous=FULL with a busy timeout, and
 * an acknowledged mutation survives the process being killed with SIGKILL mid-load. This file always uses SQLite
 * (DATABASE_URL is given explicitly), whatever TEST_DB says: the PostgreSQL path has its durability from PostgreSQL.
 *
 * The crash test runs the built server (`dist/src/main.js`) as a child process, so `kill -9` hits a real process with
 * requests in flight, then restarts it on the same file and checks every acknowledged mutation is there, exactly
 * once, with every invariant and balance intact. With two dozen callers in flight the SQLite writer commits units in
 * groups (docs/operations.md §1), so a kill can land with a group half-answered: the test also checks, before any
 * retry, that every unit that committed is there whole, that none that did not left a row, and that each patient's
 * version counts exactly its committed units.
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
  ModelRecordPaymentDocument,
  RecordRemittanceDocument,
} from '../__generated__/graphql';
import { startTestServer, NO_CALLER_LIMITS, TEST_SECRET } from '../harness';
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
      // The load and the checks are deliberate: the per-caller limits are tested on their own.
      ...NO_CALLER_LIMITS,
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

type Kind = 'writeOff' | 'payment' | 'upFront' | 'refund' | 'removal' | 'cancel';

interface Attempt {
  kind: Kind;
  patientId: string;
  key: string;
  document: TypedDocumentNode<any, any>;
  input: Record<string, unknown>;
  /** ack: HTTP 200, no errors, no userErrors. unknown: no answer (the process died). */
  outcome: 'ack' | 'refused' | 'unknown';
  /** What it created (payment, refund, write-off) or changed (the write-off of a removal, the line of a cancel). */
  id: string | null;
  /** For refunds: the payment; for write-offs: the line; for removals: the write-off. */
  parentId: string | null;
  amountCents: number | null;
  /** For up-front payments: the line it created, from the answer. */
  lineId: string | null;
  cycle: number;
}

const FIELD: Record<Kind, string> = { writeOff: 'writeOff', payment: 'recordPayment', upFront: 'recordPayment', refund: 'refundPayment', removal: 'removeWriteOff', cancel: 'cancelPR' };

function judge(attempt: Attempt, reply: Reply): void {
  if (reply.status !== 200 || reply.errors?.length || !reply.data) throw new Error(`${attempt.kind} ${attempt.key}: ${reply.status} ${JSON.stringify(reply.errors)}`);
  const payload = reply.data[FIELD[attempt.kind]];
  if (payload.userErrors.length > 0) {
    attempt.outcome = 'refused';
    return;
  }
  attempt.outcome = 'ack';
  attempt.id =
    attempt.kind === 'refund' ? payload.refund.id : attempt.kind === 'payment' || attempt.kind === 'upFront' ? payload.payment.id : attempt.kind === 'cancel' ? payload.responsibility.id : payload.writeOff.id;
  // A replay shows the payment as it is now: once its line is cancelled, with no allocation left.
  if (attempt.kind === 'upFront') attempt.lineId ??= payload.payment.allocations[0]?.responsibility.id ?? null;
}

interface Patient {
  id: string;
  /** STAFF and REMITTANCE lines: what payments are allocated to and write-offs taken off; never cancelled. */
  lines: string[];
  /** The charge this cycle's up-front payments create their lines on (a fresh one each cycle: a charge holds 20 lines). */
  upFrontCharge: string;
  /** Accepted mutations outside the load (charges, remittances): part of the version. */
  setupVersions: number;
}

const PATIENTS = 6;

async function setUp(run: Run, rand: () => number): Promise<Patient[]> {
  const patients: Patient[] = [];
  for (let i = 0; i < PATIENTS; i++) {
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
      upFrontCharge: '',
      setupVersions: 3,
    });
  }
  return patients;
}

/** The allocations a balance payment asked for, added up per line, as the rows must hold them (docs/design.md §2.2). */
function askedAllocations(input: Record<string, unknown>): Map<string, number> {
  const perLine = new Map<string, number>();
  for (const a of input.allocations as { responsibilityId: string; amountCents: number }[]) perLine.set(a.responsibilityId, (perLine.get(a.responsibilityId) ?? 0) + a.amountCents);
  return perLine;
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

  /**
   * What committed of the attempts the crash left without an answer, before anything retries them: the key of a
   * money mutation is stored in the same transaction as its rows (docs/design.md §3), so a key names a committed unit
   * and its ids. Returns each such attempt with its id filled in.
   */
  async function committedWithoutAnswer(attempts: Attempt[]): Promise<Attempt[]> {
    const rows = await openRows(dbFile);
    try {
      const committed: Attempt[] = [];
      for (const a of attempts.filter((x) => x.outcome === 'unknown')) {
        const [stored] = await rows.sql('SELECT result FROM idempotency_keys WHERE practice_id = ? AND key = ?', [PRACTICE, a.key]);
        if (!stored) continue;
        const result = JSON.parse(String(stored.result)) as Record<string, string>;
        const id = a.kind === 'refund' ? result.refundId : a.kind === 'payment' || a.kind === 'upFront' ? result.paymentId : a.kind === 'cancel' ? result.responsibilityId : result.writeOffId;
        committed.push({ ...a, id });
      }
      return committed;
    } finally {
      await rows.close();
    }
  }

  /**
   * Checks the restarted server and its file against the mutations that committed: `committed` (acknowledged ones,
   * and, before the retries, those that committed without an answer). Every committed unit is there whole, nothing
   * else is (no partial unit, no unit twice), every invariant holds, each patient's version counts its units, and the
   * balance counts every committed amount. Returns the problems.
   */
  async function verify(run: Run, patients: Patient[], committed: Attempt[], lastCycle: number, when: string): Promise<string[]> {
    const problems: string[] = [];
    const problem = (text: string) => problems.push(`${when}: ${text}`);
    const rows = await openRows(dbFile);
    try {
      const integrity = await rows.sql('PRAGMA integrity_check');
      if (integrity.length !== 1 || Object.values(integrity[0])[0] !== 'ok') problem(`integrity_check: ${JSON.stringify(integrity)}`);
      const mode = await rows.sql('PRAGMA journal_mode');
      if (Object.values(mode[0])[0] !== 'wal') problem(`journal_mode: ${JSON.stringify(mode)}`);
      for (const p of patients) {
        const mine = committed.filter((a) => a.patientId === p.id);
        const of = (kind: Kind) => mine.filter((a) => a.kind === kind);
        const same = (label: string, actual: Iterable<string>, expected: Iterable<string>) => {
          const a = [...actual].sort();
          const e = [...expected].sort();
          if (JSON.stringify(a) !== JSON.stringify(e)) problem(`patient ${p.id}: ${label}: rows hold ${a.length} [${a.filter((x) => !e.includes(x)).join(', ')} not committed], committed ${e.length} [${e.filter((x) => !a.includes(x)).join(', ')} missing]`);
        };

        // Invariants, and the API equal to a recomputation from the rows (docs/design.md §2.1, §2.2, §2.6).
        let checked: Awaited<ReturnType<typeof checkPatient>>;
        try {
          checked = await checkPatient(run, rows.sql, p.id);
        } catch (error) {
          problem(`patient ${p.id}: the rows do not fold into a ledger: ${String(error)}`);
          continue;
        }
        problems.push(...checked.problems.map((x) => `${when}: patient ${p.id}: ${x}`));
        const { balance } = checked.snapshot;

        // Versions: exactly one per committed unit (docs/design.md §2.6), so none is missing, doubled or half-counted.
        if (balance.version !== p.setupVersions + mine.length) problem(`patient ${p.id}: version ${balance.version}, expected ${p.setupVersions} set-up + ${mine.length} committed`);
        const keys = Number((await rows.sql('SELECT COUNT(*) AS n FROM idempotency_keys WHERE patient_id = ?', [p.id]))[0].n);
        if (keys !== mine.length) problem(`patient ${p.id}: ${keys} idempotency keys for ${mine.length} committed mutations`);

        // Each unit whole or not at all: the rows of every table are exactly those of the committed units.
        const ids = async (sql: string) => (await rows.sql(sql, [p.id])).map((r) => String(r.id));
        same('payments', await ids('SELECT id FROM payments WHERE patient_id = ?'), [...of('payment'), ...of('upFront')].map((a) => a.id!));
        same('refunds', await ids('SELECT id FROM refunds WHERE patient_id = ?'), of('refund').map((a) => a.id!));
        same('write-offs', await ids('SELECT id FROM write_offs WHERE patient_id = ?'), of('writeOff').map((a) => a.id!));
        same('cancelled lines', await ids("SELECT id FROM responsibilities WHERE patient_id = ? AND status = 'CANCELLED'"), of('cancel').map((a) => a.id!));

        // A balance payment's allocations, and an up-front payment's line and allocation, belong to it whole.
        const allocations = await rows.sql("SELECT payment_id, responsibility_id, amount_cents FROM allocations WHERE patient_id = ? AND source = 'PAYMENT'", [p.id]);
        const byPayment = new Map<string, Map<string, number>>();
        for (const r of allocations) {
          const lines = byPayment.get(String(r.payment_id)) ?? new Map<string, number>();
          lines.set(String(r.responsibility_id), (lines.get(String(r.responsibility_id)) ?? 0) + Number(r.amount_cents));
          byPayment.set(String(r.payment_id), lines);
        }
        const paymentIds = new Set([...of('payment'), ...of('upFront')].map((a) => a.id!));
        for (const orphan of [...byPayment.keys()].filter((id) => !paymentIds.has(id))) problem(`patient ${p.id}: allocation rows of payment ${orphan}, which never committed`);
        for (const a of of('payment')) {
          const held = JSON.stringify([...(byPayment.get(a.id!) ?? new Map())].sort());
          const asked = JSON.stringify([...askedAllocations(a.input)].sort());
          if (held !== asked) problem(`payment ${a.id} (${a.key}): allocation rows ${held}, asked for ${asked}`);
        }
        const createdLines = await rows.sql("SELECT id, amount_cents FROM responsibilities WHERE patient_id = ? AND origin IN ('ESTIMATED', 'SELF_PAY')", [p.id]);
        const upFrontLines = new Map<string, string>();
        for (const a of of('upFront')) {
          const lines = [...(byPayment.get(a.id!) ?? new Map<string, number>())];
          const line = createdLines.find((r) => lines.length === 1 && String(r.id) === lines[0][0]);
          if (!line || lines[0][1] !== a.amountCents || Number(line.amount_cents) !== a.amountCents) problem(`up-front payment ${a.id} (${a.key}) of ${a.amountCents}: allocation rows ${JSON.stringify(lines)}, its line ${JSON.stringify(line ?? null)}`);
          else upFrontLines.set(String(line.id), a.id!);
          if (a.lineId && lines[0]?.[0] !== a.lineId) problem(`up-front payment ${a.id}: answered with line ${a.lineId}, the rows put it on ${lines[0]?.[0]}`);
        }
        for (const r of createdLines) if (!upFrontLines.has(String(r.id))) problem(`patient ${p.id}: line ${String(r.id)} of no committed up-front payment`);

        // A refund and what it took off lines: ACCOUNT_CREDIT moves exactly its amount off lines, the others return it.
        const refundRows = new Map((await rows.sql('SELECT id, returned_cents FROM refunds WHERE patient_id = ?', [p.id])).map((r) => [String(r.id), Number(r.returned_cents)]));
        const takenBy = new Map((await rows.sql('SELECT refund_id, SUM(amount_cents) AS cents FROM allocation_reductions WHERE patient_id = ? AND refund_id IS NOT NULL GROUP BY refund_id', [p.id])).map((r) => [String(r.refund_id), Number(r.cents)]));
        for (const orphan of [...takenBy.keys()].filter((id) => !refundRows.has(id))) problem(`patient ${p.id}: reductions of refund ${orphan}, which never committed`);
        for (const a of of('refund')) {
          const credit = a.input.method === 'ACCOUNT_CREDIT';
          const returned = refundRows.get(a.id!);
          const taken = takenBy.get(a.id!) ?? 0;
          if (returned !== (credit ? 0 : a.amountCents)) problem(`refund ${a.id} (${a.key}, ${String(a.input.method)} ${a.amountCents}): returned_cents ${returned}`);
          if (credit ? taken !== a.amountCents : taken > a.amountCents!) problem(`refund ${a.id} (${a.key}, ${String(a.input.method)} ${a.amountCents}): took ${taken} off lines`);
        }

        // A removal is one reversal row of its amount on its write-off.
        const reversals = await rows.sql('SELECT write_off_id, COUNT(*) AS n, SUM(amount_cents) AS cents FROM write_off_reversals WHERE patient_id = ? GROUP BY write_off_id', [p.id]);
        const removed = new Map<string, { n: number; cents: number }>();
        for (const a of of('removal')) {
          const r = removed.get(a.parentId!) ?? { n: 0, cents: 0 };
          removed.set(a.parentId!, { n: r.n + 1, cents: r.cents + a.amountCents! });
        }
        same('write-off removals', reversals.map((r) => `${String(r.write_off_id)}: ${Number(r.n)} for ${Number(r.cents)}`), [...removed].map(([id, r]) => `${id}: ${r.n} for ${r.cents}`));

        // Every committed amount counts in the balance: all money paid is on active lines, credit or given back, and
        // what is written off is the write-offs less their removals (these write-offs are on lines never cancelled).
        const sum = (xs: Attempt[]) => xs.reduce((s, a) => s + a.amountCents!, 0);
        const paid = sum([...of('payment'), ...of('upFront')]);
        const returned = sum(of('refund').filter((a) => a.input.method !== 'ACCOUNT_CREDIT'));
        if (balance.paidCents + balance.creditCents + returned !== paid) problem(`patient ${p.id}: paid ${balance.paidCents} + credit ${balance.creditCents} + refunded ${returned} != ${paid} received in committed payments`);
        if (balance.writtenOffCents !== sum(of('writeOff')) - sum(of('removal'))) problem(`patient ${p.id}: written off ${balance.writtenOffCents} != ${sum(of('writeOff'))} written off - ${sum(of('removal'))} removed`);

        // The acknowledged objects of the cycle just killed, one by one through the API.
        for (const a of mine.filter((x) => x.outcome === 'ack' && x.cycle === lastCycle)) {
          if (a.kind === 'payment' || a.kind === 'upFront') {
            const payment = (await run(ConcPaymentDocument, { id: a.id! })).payment;
            if (!payment || payment.amountCents !== a.amountCents) problem(`acknowledged payment ${a.id} lost: ${JSON.stringify(payment)}`);
          } else if (a.kind === 'refund') {
            const payment = (await run(ConcPaymentDocument, { id: a.parentId! })).payment;
            if (!payment?.refunds.some((r) => r.id === a.id && r.amountCents === a.amountCents)) problem(`acknowledged refund ${a.id} lost`);
          } else if (a.kind === 'writeOff') {
            const line = (await run(ConcLineDocument, { id: a.parentId! })).responsibility;
            const w = line?.writeOffs.find((x) => x.id === a.id);
            if (!w || w.amountCents !== a.amountCents) problem(`acknowledged write-off ${a.id} lost`);
          } else if (a.kind === 'cancel') {
            const line = (await run(ConcLineDocument, { id: a.id! })).responsibility;
            if (line?.status !== 'CANCELLED' || line.paidCents !== 0) problem(`acknowledged cancel of ${a.id} lost: ${JSON.stringify(line)}`);
          }
        }
      }
    } finally {
      await rows.close();
    }
    return problems;
  }

  test('every acknowledged mutation survives five kill -9 / restart cycles under 24 concurrent callers: no unit lost, partial or doubled', async () => {
    const rand = mulberry32(424242);
    // Kill points come from their own generator, so they do not depend on how many requests the timing let through.
    const killRand = mulberry32(99);
    child = await startChild(dbFile, dir);
    let run = runner(child.url, token);
    const patients = await setUp(run, rand);
    const attempts: Attempt[] = [];
    const CYCLES = 5;
    // Enough callers that the SQLite writer always has units waiting while a commit is in flight (docs/operations.md §1).
    const WORKERS = 24;
    const stats: string[] = [];
    const acked = () => attempts.filter((a) => a.outcome === 'ack');

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      for (const p of patients) {
        const charge = await run(CreateChargeDocument, { input: { patientId: p.id, serviceDate: '2026-10-03', procedureCode: '99215', billedCents: 500_000, responsibilities: [] } });
        p.upFrontCharge = charge.createCharge.charge!.id;
        p.setupVersions++;
      }
      const target = randomInt(killRand, 40, 140);
      let ackedThisCycle = 0;
      let killed: Promise<void> | null = null;
      let inFlightAtKill = 0;
      let inFlight = 0;
      let serial = 0;
      const live = child!;

      const next = (): Attempt => {
        const p = pick(rand, patients);
        const key = `cycle${cycle}-${serial++}`;
        const x = rand();
        const mine = acked().filter((a) => a.patientId === p.id);
        const payments = mine.filter((a) => a.kind === 'payment' || a.kind === 'upFront');
        const writeOffs = mine.filter((a) => a.kind === 'writeOff');
        const created = mine.filter((a) => a.kind === 'upFront');
        const base = { patientId: p.id, key, outcome: 'unknown' as const, id: null, lineId: null, cycle };
        if (x < 0.15 && payments.length > 0) {
          const payment = pick(rand, payments);
          const amountCents = randomInt(rand, 100, 1_500);
          const method = pick(rand, ['ACCOUNT_CREDIT', 'ORIGINAL_CARD', 'EXTERNAL_CHECK'] as const);
          return { ...base, kind: 'refund', document: ConcRefundDocument, parentId: payment.id, amountCents, input: { paymentId: payment.id, amountCents, method, reason: 'Overpaid', idempotencyKey: key } };
        }
        if (x < 0.25 && writeOffs.length > 0) {
          const writeOff = pick(rand, writeOffs);
          const amountCents = randomInt(rand, 50, 300);
          return { ...base, kind: 'removal', document: ConcRemoveWriteOffDocument, parentId: writeOff.id, amountCents, input: { writeOffId: writeOff.id, amountCents, reason: 'Patient can pay', idempotencyKey: key } };
        }
        if (x < 0.3 && created.length > 0) {
          const line = pick(rand, created).lineId!;
          return { ...base, kind: 'cancel', document: ConcCancelDocument, parentId: null, amountCents: null, input: { responsibilityId: line, reason: 'Entered in error', idempotencyKey: key } };
        }
        if (x < 0.4) {
          // Creates a line, a payment and an allocation in one unit (docs/design.md §2.2).
          const amountCents = randomInt(rand, 500, 3_000);
          const purpose = pick(rand, ['COPAY', 'COINSURANCE', 'SELF_PAY'] as const);
          return { ...base, kind: 'upFront', document: ModelRecordPaymentDocument, parentId: null, amountCents, input: { patientId: p.id, amountCents, method: 'CARD', purpose, chargeId: p.upFrontCharge, idempotencyKey: key } };
        }
        if (x < 0.7) {
          const amountCents = randomInt(rand, 2_000, 8_000);
          // Up to three allocations (one line may be named twice): a unit of several rows.
          const allocations = Array.from({ length: randomInt(rand, 0, 3) }, () => ({ responsibilityId: pick(rand, p.lines), amountCents: randomInt(rand, 100, 2_000) }));
          return { ...base, kind: 'payment', document: ModelRecordPaymentDocument, parentId: null, amountCents, input: { patientId: p.id, amountCents, method: 'CARD', allocations, idempotencyKey: key } };
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
          if (attempt.outcome === 'ack' && ++ackedThisCycle >= target && !killed) {
            inFlightAtKill = inFlight;
            killed = kill9(live);
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      if (failure) throw failure;
      await killed;
      expect(inFlightAtKill).toBeGreaterThan(0);

      // Restart on the same file. Before anything is retried: what committed is whole, and nothing else is there.
      const restartAt = Date.now();
      child = await startChild(dbFile, dir);
      const restartMs = Date.now() - restartAt;
      run = runner(child.url, token);
      const lost = attempts.filter((a) => a.outcome === 'unknown');
      const committedUnanswered = await committedWithoutAnswer(attempts);
      const verifyAt = Date.now();
      expect(await verify(run, patients, [...acked(), ...committedUnanswered], cycle, `cycle ${cycle}, before retries`)).toEqual([]);

      // Retry every request whose answer was lost, with its idempotency key: one that had committed answers with
      // what it did then; one that had not is judged afresh.
      for (const attempt of lost) judge(attempt, await send(child.url, token, attempt.document, { input: attempt.input }));
      expect(committedUnanswered.map((a) => ({ key: a.key, id: a.id }))).toEqual(committedUnanswered.map((a) => ({ key: a.key, id: attempts.find((x) => x.key === a.key)!.id })));
      expect(await verify(run, patients, acked(), cycle, `cycle ${cycle}, after retries`)).toEqual([]);
      stats.push(
        `cycle ${cycle}: ${ackedThisCycle} acknowledged, ${inFlightAtKill} in flight at the kill, ${lost.length} unanswered of which ${committedUnanswered.length} had committed; restart ${restartMs} ms, verify ${Date.now() - verifyAt} ms`,
      );
    }
    const kinds = new Set(acked().map((a) => a.kind));
    expect([...kinds].sort()).toEqual(['cancel', 'payment', 'refund', 'removal', 'upFront', 'writeOff']);

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
    expect(await verify(run, patients, acked(), -1, 'after the replays')).toEqual([]);
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
      const attempt: Attempt = { kind, patientId, key: String(input.idempotencyKey), document, input, outcome: 'unknown', id: null, parentId: null, amountCents: null, lineId: null, cycle: -1 };
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
        const a: Attempt = { ...s, patientId, key: '', outcome: 'unknown', id: null, parentId: null, amountCents: null, lineId: null, cycle: -1 };
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
