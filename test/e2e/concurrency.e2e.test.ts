/**
 * Concurrency over real HTTP (docs/design.md §2.1, §2.2, §2.6, §6): many requests at once against shared PR lines must
 * behave as if they ran one after another. Runs on SQLite (the writer queue) and, with TEST_DB=postgres, on
 * PostgreSQL (patient row locks and retries).
 *
 * The servers run with the ledger verifier (LEDGER_VERIFY=1, docs/operations.md §1): every mutation rebuilds the
 * patient's ledger from its rows and refuses to commit, failing with an internal error, when the in-memory state it
 * changed incrementally differs. So any internal error here fails the test, and one variant keeps only two patients'
 * ledgers in memory (LEDGER_CACHE_PATIENTS=2) while the mix touches many, so ledgers are evicted and reloaded throughout.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  BalanceFieldsFragment,
  ConcBalanceDocument,
  ConcCancelDocument,
  ConcLedgerDocument,
  ConcRecordPaymentDocument,
  ConcRefundDocument,
  ConcRemoveWriteOffDocument,
  ConcWriteOffDocument,
  ConcLineDocument,
  RefundMethod,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, GraphQLResponse, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient, remittanceLine } from '../fixtures';
import { Run, Sql, balanceProblems, checkPatient, lineProblems, pool, totalsOf } from './ledger-check';
import { mulberry32, pick, randomInt } from '../seeded-random';

let server: TestServer;
let manager: Caller;
let run: Run;
let sql: Sql;

/** The load here is deliberate (the per-caller limits are tested on their own), and every mutation is verified. */
const VERIFIED = { ...NO_CALLER_LIMITS, LEDGER_VERIFY: '1' };

beforeAll(async () => {
  server = await startTestServer({ env: VERIFIED });
  // The verifier must really be on: without it an incremental-state bug would pass unseen.
  expect(server.instances.map((i) => i.config.ledger?.verify)).toEqual(server.instances.map(() => true));
  manager = await server.caller('BILLING_MANAGER');
  run = (document, variables) => server.ok(manager, document, variables);
  sql = (text, params) => server.instances[0].services.db.query(text, params);
});
afterAll(() => server.stop());

const version = async (patientId: string) => (await server.ok(manager, ConcBalanceDocument, { id: patientId })).patient!.balance.version;

type Kind = 'payment' | 'selfPay' | 'foreignPayment' | 'writeOff' | 'removal' | 'creditRefund' | 'cashRefund' | 'cancel';

/** The refusals each kind of request may legitimately meet when others race it (docs/design.md §2.2–§2.5). */
const EXPECTED_REFUSALS: Record<Kind, string[]> = {
  payment: ['ALLOCATION_EXCEEDS_OPEN', 'ALLOCATIONS_EXCEED_PAYMENT'],
  selfPay: ['PR_EXCEEDS_CHARGE'],
  foreignPayment: ['NOT_FOUND'],
  writeOff: ['PR_CANCELLED', 'PR_ALREADY_PAID', 'PR_ALREADY_WRITTEN_OFF', 'NOTHING_TO_WRITE_OFF', 'WRITE_OFF_EXCEEDS_OPEN'],
  removal: ['NOTHING_TO_REMOVE', 'REMOVAL_EXCEEDS_ACTIVE'],
  creditRefund: ['NOTHING_TO_REFUND', 'REFUND_EXCEEDS_REFUNDABLE'],
  cashRefund: ['NOTHING_TO_REFUND', 'REFUND_EXCEEDS_REFUNDABLE'],
  cancel: ['PR_FROM_REMITTANCE', 'PR_HAS_WRITE_OFFS', 'PR_CANCELLED'],
};

interface Sent {
  kind: Kind;
  patientId: string;
  input: Record<string, unknown>;
  key: string | null;
  response: GraphQLResponse<Record<string, unknown>>;
  /** The id of the created (or, for removals and cancels, the changed) object when accepted. */
  id: string | null;
  codes: string[];
  balance: BalanceFieldsFragment | null;
}

/**
 * Every way a response can be wrong in shape: an error, a 5xx, objects with userErrors or none without. An internal
 * error is named as such, with the input and what the server logged at error level: under LEDGER_VERIFY=1 it is most
 * likely the verifier's "the incremental ledger differs from its rows".
 */
function shapeProblems(sent: Sent, objectField: string, logs: string[]): string[] {
  const { response } = sent;
  const p: string[] = [];
  if (response.status !== 200) p.push(`${sent.kind}: HTTP ${response.status}`);
  if (response.errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR')) {
    const logged = logs.filter((line) => line.includes('"level":"error"')).slice(-3);
    p.push(`${sent.kind}: INTERNAL_SERVER_ERROR for input ${JSON.stringify(sent.input)}; the server logged: ${logged.join(' | ') || 'nothing at error level'}`);
  } else if (response.errors?.length) p.push(`${sent.kind}: GraphQL errors ${JSON.stringify(response.errors)}`);
  const payload = response.data ? (Object.values(response.data)[0] as Record<string, unknown>) : null;
  if (!payload) return [...p, `${sent.kind}: no data`];
  const errors = payload.userErrors as unknown[];
  const object = payload[objectField];
  if (errors.length > 0 && (object !== null || payload.balance !== null)) p.push(`${sent.kind}: userErrors with objects ${JSON.stringify(payload)}`);
  if (errors.length === 0 && (!object || !payload.balance)) p.push(`${sent.kind}: accepted without objects ${JSON.stringify(payload)}`);
  if (errors.length > 1) p.push(`${sent.kind}: several userErrors ${JSON.stringify(errors)}`);
  return p;
}

/** Records every balance seen with its version; two sightings of one version must be the same balance. */
class VersionBook {
  private readonly seen = new Map<string, string>();
  readonly problems: string[] = [];
  note(balance: BalanceFieldsFragment | null | undefined, where: string) {
    if (!balance) return;
    const key = `${balance.patientId}@${balance.version}`;
    const value = JSON.stringify({ ...totalsOf(balance), updatedAt: balance.updatedAt });
    const earlier = this.seen.get(key);
    if (earlier === undefined) this.seen.set(key, value);
    else if (earlier !== value) this.problems.push(`${where}: version ${key} seen as ${earlier} and as ${value}`);
    this.problems.push(...balanceProblems(totalsOf(balance), `${where} ${key}`));
  }
  versions(patientId: string): number[] {
    return [...this.seen.keys()].filter((k) => k.startsWith(`${patientId}@`)).map((k) => Number(k.split('@')[1]));
  }
}

/**
 * 40 concurrent $5 write-offs, each its own HTTP request, against one $100 line: exactly 20 fit. Requests go round
 * robin over the server's instances (TEST_INSTANCES=2 runs two on one database).
 */
async function fortyWriteOffs(target: TestServer, caller: Caller) {
  const ok: Run = (document, variables) => target.ok(caller, document, variables);
  const patientId = await newPatient(target, caller);
  const { lineId } = await remittanceLine(target, caller, patientId, 10_000);
  const versionOf = async () => (await target.ok(caller, ConcBalanceDocument, { id: patientId })).patient!.balance.version;
  const before = await versionOf();

  const responses = await Promise.all(
    Array.from({ length: 40 }, (_, i) => target.gql(caller, ConcWriteOffDocument, { input: { responsibilityId: lineId, amountCents: 500, reason: 'SMALL_BALANCE' } }, i)),
  );

  expect(responses.filter((r) => r.status !== 200 || r.errors?.length).map((r) => ({ status: r.status, errors: r.errors }))).toEqual([]);
  const accepted = responses.filter((r) => r.data!.writeOff.userErrors.length === 0);
  const refused = responses.filter((r) => r.data!.writeOff.userErrors.length > 0);
  expect(accepted).toHaveLength(20);
  expect(refused).toHaveLength(20);
  for (const r of accepted) expect(r.data!.writeOff.writeOff?.id).toEqual(expect.any(String));
  expect(new Set(accepted.map((r) => r.data!.writeOff.writeOff!.id)).size).toBe(20);
  for (const r of refused) {
    expect(r.data!.writeOff.writeOff).toBeNull();
    expect(r.data!.writeOff.balance).toBeNull();
    expect(['WRITE_OFF_EXCEEDS_OPEN', 'NOTHING_TO_WRITE_OFF', 'PR_ALREADY_WRITTEN_OFF']).toContain(r.data!.writeOff.userErrors[0].code);
  }
  // Each accepted write-off answered with a version after its own commit: within before+1 … before+20.
  expect(accepted.map((r) => r.data!.writeOff.balance!.version).every((v) => v > before && v <= before + 20)).toBe(true);

  const line = (await target.ok(caller, ConcLineDocument, { id: lineId })).responsibility!;
  expect(line).toMatchObject({ amountCents: 10_000, writtenOffCents: 10_000, paidCents: 0, openCents: 0 });
  expect(line.writeOffs).toHaveLength(20);
  expect(await versionOf()).toBe(before + 20);
  const { problems } = await checkPatient(ok, (text, params) => target.instances[0].services.db.query(text, params), patientId);
  expect(problems).toEqual([]);
}

test('40 concurrent $5 write-offs on one $100 line: exactly 20 accepted, the line ends fully written off', async () => {
  await fortyWriteOffs(server, manager);
});

test('the same with two server instances on one database: no SQLITE_BUSY, still exactly 20', async () => {
  // Two writer connections to one SQLite file: a deferred BEGIN fails at once with SQLITE_BUSY when the other wrote
  // in between (docs/operations.md §1); the writer must open with BEGIN IMMEDIATE and wait its turn.
  const pair = await startTestServer({ env: VERIFIED, instances: 2 });
  try {
    await fortyWriteOffs(pair, await pair.caller('BILLING_MANAGER'));
  } finally {
    await pair.stop();
  }
});

/**
 * A seeded random mix of payments, refunds, write-offs, removals and cancels over `patients` patients, `concurrency`
 * requests in flight, some sent twice at once under one idempotency key; then every answer, version and ledger is checked.
 */
async function randomMix(target: TestServer, caller: Caller, { seed, patients: PATIENTS, operations: OPERATIONS, concurrency: CONCURRENCY }: { seed: number; patients: number; operations: number; concurrency: number }) {
  const rand = mulberry32(seed);
  const book = new VersionBook();
  const run: Run = (document, variables) => target.ok(caller, document, variables);
  const sql: Sql = (text, params) => target.instances[0].services.db.query(text, params);
  const version = async (patientId: string) => (await target.ok(caller, ConcBalanceDocument, { id: patientId })).patient!.balance.version;

  interface PatientState {
    id: string;
    chargeId: string;
    lines: string[];
    payments: string[];
    /** Payments made by card: only those can go back to the original card (REFUND_METHOD_NOT_ALLOWED, docs/design.md §2.2). */
    cardPayments: Set<string>;
    writeOffs: string[];
    accepted: number;
  }
  const patients: PatientState[] = [];
  for (let i = 0; i < PATIENTS; i++) {
    const id = await newPatient(target, caller);
    const staff = await newCharge(target, caller, id, [randomInt(rand, 5_000, 30_000), randomInt(rand, 5_000, 30_000), randomInt(rand, 5_000, 30_000)], 10_000_000);
    const remit1 = await remittanceLine(target, caller, id, randomInt(rand, 5_000, 30_000));
    const remit2 = await remittanceLine(target, caller, id, randomInt(rand, 5_000, 30_000));
    // createCharge, then createCharge + recordRemittance twice.
    patients.push({ id, chargeId: staff.chargeId, lines: [...staff.lineIds, remit1.lineId, remit2.lineId], payments: [], cardPayments: new Set(), writeOffs: [], accepted: 5 });
  }
  for (const p of patients) expect(await version(p.id)).toBe(p.accepted);

  /** One planned request; its concrete input is chosen when the first copy starts, from what exists by then. */
  interface Planned {
    patient: PatientState;
    kind: Kind;
    draws: number[];
    key: string | null;
    resolved?: { kind: Kind; document: TypedDocumentNode<any, any>; input: Record<string, unknown>; objectField: string };
  }
  const KINDS: [Kind, number][] = [
    ['payment', 28],
    ['writeOff', 25],
    ['removal', 13],
    ['creditRefund', 8],
    ['cashRefund', 9],
    ['cancel', 7],
    ['selfPay', 6],
    ['foreignPayment', 4],
  ];
  const totalWeight = KINDS.reduce((s, [, w]) => s + w, 0);
  const drawKind = (): Kind => {
    let x = rand() * totalWeight;
    for (const [kind, w] of KINDS) if ((x -= w) < 0) return kind;
    return 'payment';
  };
  const plan: Planned[] = [];
  for (let i = 0; i < OPERATIONS; i++) {
    const draws = Array.from({ length: 8 }, () => rand());
    const keyed = rand() < 0.12;
    plan.push({ patient: pick(rand, patients), kind: drawKind(), draws, key: keyed ? `mix-${i}` : null });
  }

  const resolve = (op: Planned): NonNullable<Planned['resolved']> => {
    if (op.resolved) return op.resolved;
    const [d0, d1, d2, d3, d4, d5, d6] = op.draws;
    const p = op.patient;
    const at = <T>(list: T[], u: number) => list[Math.floor(u * list.length)];
    const cents = (u: number, min: number, max: number) => min + Math.floor(u * (max - min + 1));
    const key = op.key ? { idempotencyKey: op.key } : {};
    let kind = op.kind;
    if ((kind === 'creditRefund' || kind === 'cashRefund') && p.payments.length === 0) kind = 'payment';
    if (kind === 'removal' && p.writeOffs.length === 0) kind = 'writeOff';
    let resolved: NonNullable<Planned['resolved']>;
    switch (kind) {
      case 'payment': {
        const allocations = d1 < 0.15 ? [] : [{ responsibilityId: at(p.lines, d2), amountCents: cents(d3, 100, 4_000) }];
        if (d4 < 0.4) allocations.push({ responsibilityId: at(p.lines, d5), amountCents: cents(d6, 100, 3_000) });
        resolved = { kind, document: ConcRecordPaymentDocument, objectField: 'payment', input: { patientId: p.id, amountCents: cents(d0, 500, 8_000), method: 'CARD', allocations, ...key } };
        break;
      }
      case 'foreignPayment': {
        const other = patients[(patients.indexOf(p) + 1) % patients.length];
        resolved = {
          kind,
          document: ConcRecordPaymentDocument,
          objectField: 'payment',
          input: { patientId: p.id, amountCents: cents(d0, 500, 8_000), method: 'CASH', allocations: [{ responsibilityId: at(other.lines, d1), amountCents: 100 }], ...key },
        };
        break;
      }
      case 'selfPay':
        resolved = { kind, document: ConcRecordPaymentDocument, objectField: 'payment', input: { patientId: p.id, amountCents: cents(d0, 500, 6_000), method: 'CASH', purpose: d1 < 0.5 ? 'SELF_PAY' : 'COPAY', chargeId: p.chargeId, ...key } };
        break;
      case 'writeOff':
        resolved = { kind, document: ConcWriteOffDocument, objectField: 'writeOff', input: { responsibilityId: at(p.lines, d0), amountCents: cents(d1, 100, 5_000), reason: 'SMALL_BALANCE', ...key } };
        break;
      case 'removal':
        resolved = {
          kind,
          document: ConcRemoveWriteOffDocument,
          objectField: 'writeOff',
          input: { writeOffId: at(p.writeOffs, d0), ...(d1 < 0.5 ? {} : { amountCents: cents(d2, 100, 2_500) }), reason: 'Patient can pay', ...key },
        };
        break;
      case 'creditRefund':
      case 'cashRefund': {
        const paymentId = at(p.payments, d0);
        const cash = pick(() => d3, ['ORIGINAL_CARD', 'EXTERNAL_CASH_OR_CARD', 'EXTERNAL_CHECK'] as const);
        const method: RefundMethod = kind === 'creditRefund' ? 'ACCOUNT_CREDIT' : cash === 'ORIGINAL_CARD' && !p.cardPayments.has(paymentId) ? 'EXTERNAL_CASH_OR_CARD' : cash;
        resolved = {
          kind,
          document: ConcRefundDocument,
          objectField: 'refund',
          input: { paymentId, ...(d1 < 0.4 ? {} : { amountCents: cents(d2, 100, 3_000) }), method, reason: 'Overpaid', ...key },
        };
        break;
      }
      case 'cancel':
        resolved = { kind, document: ConcCancelDocument, objectField: 'responsibility', input: { responsibilityId: at(p.lines, d0), reason: 'Entered in error', ...key } };
        break;
    }
    op.resolved = resolved;
    return resolved;
  };

  const sent: Sent[] = [];
  let sentCount = 0;
  const send = async (op: Planned): Promise<void> => {
    const r = resolve(op);
    const response = (await target.gql(caller, r.document, { input: r.input }, sentCount++)) as GraphQLResponse<Record<string, unknown>>;
    const payload = (response.data ? Object.values(response.data)[0] : null) as Record<string, any> | null;
    const accepted = !!payload && payload.userErrors?.length === 0 && !!payload[r.objectField];
    const id = accepted ? (r.kind === 'removal' ? payload!.writeOff.id : payload![r.objectField].id) : null;
    const entry: Sent = { kind: r.kind, patientId: op.patient.id, input: r.input, key: op.key, response, id, codes: (payload?.userErrors ?? []).map((e: { code: string }) => e.code), balance: payload?.balance ?? null };
    sent.push(entry);
    book.note(entry.balance, r.kind);
    if (!accepted) return;
    const p = op.patient;
    if (r.kind === 'payment' || r.kind === 'selfPay') {
      if (!p.payments.includes(id!)) p.payments.push(id!);
      if (r.input.method === 'CARD') p.cardPayments.add(id!);
    }
    if (r.kind === 'writeOff' && !p.writeOffs.includes(id!)) p.writeOffs.push(id!);
  };

  // A keyed request is sent twice, at once: the copy must replay the original or, if the original was refused, be judged afresh.
  const tasks: (() => Promise<void>)[] = [];
  for (const op of plan) {
    tasks.push(() => send(op));
    if (op.key) tasks.push(() => send(op));
  }
  const started = Date.now();
  await pool(CONCURRENCY, tasks);
  const elapsed = Date.now() - started;

  const problems: string[] = [];
  for (const s of sent) {
    const objectField = { payment: 'payment', selfPay: 'payment', foreignPayment: 'payment', writeOff: 'writeOff', removal: 'writeOff', creditRefund: 'refund', cashRefund: 'refund', cancel: 'responsibility' }[s.kind];
    problems.push(...shapeProblems(s, objectField, target.logs));
    for (const code of s.codes) if (!EXPECTED_REFUSALS[s.kind].includes(code)) problems.push(`${s.kind}: unexpected refusal ${code}`);
  }
  expect(problems).toEqual([]);

  // Accepted mutations per patient: one per unkeyed acceptance, one per key that was accepted at all.
  const byKey = new Map<string, Set<string>>();
  for (const s of sent) {
    if (!s.id) continue;
    if (s.key) byKey.set(s.key, (byKey.get(s.key) ?? new Set()).add(s.id));
    else patients.find((p) => p.id === s.patientId)!.accepted++;
  }
  for (const [key, ids] of byKey) {
    expect({ key, ids: ids.size }).toEqual({ key, ids: 1 });
    const op = plan.find((o) => o.key === key)!;
    op.patient.accepted++;
  }

  const counts: Record<string, { accepted: number; refused: number }> = {};
  for (const s of sent) {
    counts[s.kind] ??= { accepted: 0, refused: 0 };
    counts[s.kind][s.id ? 'accepted' : 'refused']++;
  }
  for (const kind of ['payment', 'writeOff', 'removal', 'creditRefund', 'cashRefund', 'cancel', 'selfPay'] as Kind[]) expect({ kind, accepted: counts[kind]?.accepted > 0 }).toEqual({ kind, accepted: true });
  expect(counts.foreignPayment?.accepted ?? 0).toBe(0);

  for (const p of patients) {
    const { problems: patientProblems, snapshot } = await checkPatient(run, sql, p.id);
    expect(patientProblems).toEqual([]);
    expect({ patient: p.id, version: snapshot.balance.version }).toEqual({ patient: p.id, version: p.accepted });
    book.note(snapshot.balance, 'final read');
    // Every payload's version lies between the start and the end, and the final read is the newest.
    expect(Math.max(...book.versions(p.id))).toBe(p.accepted);
  }
  expect(book.problems).toEqual([]);
  // eslint-disable-next-line no-console
  if (process.env.VERBOSE_E2E) console.log(`${tasks.length} requests in ${elapsed} ms`, counts);
}

test('a seeded random concurrent mix of payments, refunds, write-offs, removals and cancels keeps every invariant', async () => {
  await randomMix(server, manager, { seed: 20261127, patients: 3, operations: 300, concurrency: 16 });
});

test('the same mix over 12 patients with only 2 ledgers kept in memory: evicted ledgers reload from the rows and still verify', async () => {
  const small = await startTestServer({ env: { ...VERIFIED, LEDGER_CACHE_PATIENTS: '2' } });
  try {
    expect(small.instances.map((i) => i.config.ledger ?? null)).toEqual(small.instances.map(() => ({ verify: true, cachePatients: 2 })));
    await randomMix(small, await small.caller('BILLING_MANAGER'), { seed: 20261128, patients: 12, operations: 360, concurrency: 24 });
  } finally {
    await small.stop();
  }
});

test('isolation: readers during a burst never see a broken or torn balance, and a reader never sees a version go back', async () => {
  const rand = mulberry32(7);
  const book = new VersionBook();
  const patientId = await newPatient(server, manager);
  const { lineIds } = await newCharge(server, manager, patientId, [20_000, 15_000, 10_000, 5_000], 100_000);
  const initial = await version(patientId);
  const payments: string[] = [];
  const writeOffs: string[] = [];

  const BURST = 120;
  let burstDone = false;
  const readerProblems: string[] = [];
  let reads = 0;
  let straddled = 0;
  const readerVersions: number[][] = [];
  const reader = async (index: number, firstRead: () => void) => {
    const seen: number[] = [];
    readerVersions[index] = seen;
    let last = -1;
    for (let finalRead = false; ; ) {
      finalRead = burstDone;
      const data = await server.ok(manager, ConcLedgerDocument, { id: patientId, after: null }, index + seen.length);
      reads++;
      const balance = data.patient!.balance;
      book.note(balance, `reader ${index}`);
      if (balance.version < last) readerProblems.push(`reader ${index}: version ${last} then ${balance.version}`);
      last = balance.version;
      seen.push(balance.version);
      const lines = data.patient!.charges.edges.flatMap((edge) => edge.node.responsibilities);
      for (const line of lines) readerProblems.push(...lineProblems(line));
      // Not asserted: the balance and the lines come from different statements, so one response may straddle a commit.
      const active = lines.filter((l) => l.status === 'ACTIVE');
      if (active.reduce((sum, l) => sum + l.openCents, 0) !== balance.outstandingCents) straddled++;
      if (seen.length === 1) firstRead();
      if (finalRead) return;
    }
  };
  const balanceReader = async (firstRead: () => void) => {
    let last = -1;
    for (let finalRead = false, n = 0; ; n++) {
      finalRead = burstDone;
      const balance = (await server.ok(manager, ConcBalanceDocument, { id: patientId }, n)).patient!.balance;
      reads++;
      book.note(balance, 'balance reader');
      if (balance.version < last) readerProblems.push(`balance reader: version ${last} then ${balance.version}`);
      last = balance.version;
      if (n === 0) firstRead();
      if (finalRead) return;
    }
  };

  let accepted = 0;
  let mutations = 0;
  const mutate = async () => {
    const instance = mutations++;
    const x = rand();
    const u = [rand(), rand(), rand()];
    let response: GraphQLResponse<Record<string, any>>;
    let field: string;
    if (x < 0.35 || (x >= 0.6 && payments.length === 0 && writeOffs.length === 0)) {
      field = 'recordPayment';
      response = await server.gql(manager, ConcRecordPaymentDocument, {
        input: { patientId, amountCents: 500 + Math.floor(u[0] * 3_000), method: 'CARD', allocations: [{ responsibilityId: pick(() => u[1], lineIds), amountCents: 100 + Math.floor(u[2] * 2_000) }] },
      }, instance);
    } else if (x < 0.6) {
      field = 'writeOff';
      response = await server.gql(manager, ConcWriteOffDocument, { input: { responsibilityId: pick(() => u[0], lineIds), amountCents: 100 + Math.floor(u[1] * 2_500), reason: 'BAD_DEBT' } }, instance);
    } else if (x < 0.8 && payments.length > 0) {
      field = 'refundPayment';
      response = await server.gql(manager, ConcRefundDocument, {
        input: { paymentId: pick(() => u[0], payments), amountCents: 100 + Math.floor(u[1] * 1_500), method: u[2] < 0.5 ? 'ACCOUNT_CREDIT' : 'ORIGINAL_CARD', reason: 'Overpaid' },
      }, instance);
    } else if (writeOffs.length > 0) {
      field = 'removeWriteOff';
      response = await server.gql(manager, ConcRemoveWriteOffDocument, { input: { writeOffId: pick(() => u[0], writeOffs), amountCents: 100 + Math.floor(u[1] * 1_000), reason: 'Patient can pay' } }, instance);
    } else {
      field = 'refundPayment';
      response = await server.gql(manager, ConcRefundDocument, { input: { paymentId: pick(() => u[0], payments), method: 'ACCOUNT_CREDIT', reason: 'Overpaid' } }, instance);
    }
    expect({ status: response.status, errors: response.errors }).toEqual({ status: 200, errors: undefined });
    const payload = response.data![field];
    book.note(payload.balance, field);
    if (payload.userErrors.length > 0) return;
    accepted++;
    if (field === 'recordPayment') payments.push(payload.payment.id);
    if (field === 'writeOff') writeOffs.push(payload.writeOff.id);
  };

  // The burst starts once every reader has read once, so readers see the state before, during and after it.
  let waiting = 4;
  let release!: () => void;
  const allRead = new Promise<void>((resolve) => (release = resolve));
  const firstRead = () => {
    if (--waiting === 0) release();
  };
  const readers = [reader(0, firstRead), reader(1, firstRead), reader(2, firstRead), balanceReader(firstRead)];
  await allRead;
  await pool(8, Array.from({ length: BURST }, () => mutate));
  burstDone = true;
  await Promise.all(readers);

  expect(readerProblems).toEqual([]);
  expect(book.problems).toEqual([]);
  const final = initial + accepted;
  expect(await version(patientId)).toBe(final);
  for (const seen of readerVersions) {
    expect(seen[0]).toBe(initial);
    expect(seen[seen.length - 1]).toBe(final);
  }
  const observed = book.versions(patientId);
  expect(Math.min(...observed)).toBe(initial);
  expect(Math.max(...observed)).toBe(final);
  const { problems } = await checkPatient(run, sql, patientId);
  expect(problems).toEqual([]);
  // eslint-disable-next-line no-console
  if (process.env.VERBOSE_E2E) console.log(`isolation: ${reads} reads (${straddled} ledger reads whose lines and balance straddled a commit), ${accepted} accepted of ${BURST}, ${observed.length} distinct versions seen`);
});
