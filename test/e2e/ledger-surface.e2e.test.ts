/**
 * Small gaps in the ledger's surface, over real HTTP and a real database: createPatient takes an idempotency key; an
 * MRN is unique within a practice (in the database too, races included); ORIGINAL_CARD refunds only card payments;
 * createCharge needs no PR lines; the root types are described; a write-off lists its removals (bounded, batched); the
 * timeline shows a refund's method and a write-off's note.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource, Logger } from 'typeorm';
import {
  BalanceDocument,
  CreateChargeDocument,
  CreatePatientDocument,
  PatientsDocument,
  PaymentDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  SurfacePatientRemovalsDocument,
  SurfaceRootTypesDocument,
  SurfaceTimelineDocument,
  SurfaceWriteOffRemovalsDocument,
  WriteOffDocument,
  type CreatePatientInput,
  type PaymentMethod,
} from '../__generated__/graphql';
import { Caller, NO_CALLER_LIMITS, startTestServer, TestServer } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { createScratchDatabase } from '../scratch-postgres';
import { dataSourceOptions, statementCount } from '../../src/db/data-source';
import { MIGRATIONS } from '../../src/db/migrations';
import { MAX_REMOVALS_PER_WRITE_OFF } from '../../src/ledger';

let server: TestServer;
let manager: Caller;
let otherPractice: Caller;

beforeAll(async () => {
  // Counts every SQL statement of the in-process servers, for the batching test; read when the data sources open.
  process.env.DATABASE_COUNT_QUERIES = 'true';
  try {
    server = await startTestServer({ env: NO_CALLER_LIMITS });
  } finally {
    delete process.env.DATABASE_COUNT_QUERIES;
  }
  manager = await server.caller('BILLING_MANAGER');
  otherPractice = await server.caller('BILLING_MANAGER', `${server.practice}-b`);
});
afterAll(() => server.stop());

let counter = 0;
const unique = (label: string) => `${label}${Date.now().toString(36)}${++counter}`;
/** The last instance: with TEST_INSTANCES=2, concurrent requests are spread over both. */
const lastInstance = () => server.instances.length - 1;

async function createPatient(input: CreatePatientInput, caller = manager, instance?: number) {
  const response = await server.gql(caller, CreatePatientDocument, { input }, instance);
  expect(response.errors).toBeUndefined();
  return response.data!.createPatient;
}
async function patientsNamed(lastName: string, caller = manager) {
  return (await server.ok(caller, PatientsDocument, { search: lastName, first: 20 })).patients.edges.map((e) => e.node.id);
}
async function balance(patientId: string) {
  return (await server.ok(manager, BalanceDocument, { id: patientId })).patient!.balance;
}

describe('createPatient with an idempotency key', () => {
  test('a retry with the same key and input returns the same patient and changes nothing', async () => {
    const lastName = unique('Retry');
    const input = { firstName: 'Rosa', lastName, mrn: unique('MRN-'), idempotencyKey: unique('patient-') };
    const first = await createPatient(input);
    expect(first.userErrors).toEqual([]);
    const retry = await createPatient(input, manager, lastInstance());
    expect(retry.userErrors).toEqual([]);
    expect(retry.patient).toEqual(first.patient);
    expect(retry.patient!.balance.version).toBe(0);
    expect(await patientsNamed(lastName)).toEqual([first.patient!.id]);
  });

  test('the same key with other input is IDEMPOTENCY_KEY_REUSED, and creates nobody', async () => {
    const lastName = unique('Reused');
    const idempotencyKey = unique('patient-');
    const first = await createPatient({ firstName: 'Ann', lastName, idempotencyKey });
    const other = await createPatient({ firstName: 'Anne', lastName, idempotencyKey });
    expect(other.patient).toBeNull();
    expect(other.userErrors).toEqual([
      {
        code: 'IDEMPOTENCY_KEY_REUSED',
        message: 'This idempotency key was already used for a different request. Use a new key for a new request.',
        field: ['input', 'idempotencyKey'],
      },
    ]);
    expect(await patientsNamed(lastName)).toEqual([first.patient!.id]);
  });

  test("a money mutation's key is not a patient's, and keys belong to a practice", async () => {
    const patientId = await newPatient(server, manager);
    const idempotencyKey = unique('shared-');
    await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 100, method: 'CASH', idempotencyKey } });
    const lastName = unique('Keyed');
    expect((await createPatient({ firstName: 'Kay', lastName, idempotencyKey })).userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const elsewhere = await createPatient({ firstName: 'Kay', lastName, idempotencyKey }, otherPractice);
    expect(elsewhere.userErrors).toEqual([]);
    expect(await patientsNamed(lastName)).toEqual([]);
    expect(await patientsNamed(lastName, otherPractice)).toEqual([elsewhere.patient!.id]);
  });

  test('a refusal is not stored: the same key is judged afresh once the input is fixed', async () => {
    const idempotencyKey = unique('patient-');
    const lastName = unique('Fixed');
    expect((await createPatient({ firstName: '  ', lastName, idempotencyKey })).userErrors.map((e) => e.code)).toEqual(['INVALID_TEXT']);
    const fixed = await createPatient({ firstName: 'Fay', lastName, idempotencyKey });
    expect(fixed.userErrors).toEqual([]);
    expect((await createPatient({ firstName: 'Fay', lastName, idempotencyKey })).patient!.id).toBe(fixed.patient!.id);
  });

  test('10 concurrent retries with one key create one patient', async () => {
    const lastName = unique('Burst');
    const input = { firstName: 'Bo', lastName, mrn: unique('MRN-'), idempotencyKey: unique('patient-') };
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => createPatient(input, manager, i)));
    for (const r of results) expect(r.userErrors).toEqual([]);
    const ids = new Set(results.map((r) => r.patient!.id));
    expect(ids.size).toBe(1);
    expect(await patientsNamed(lastName)).toEqual([...ids]);
  });
});

describe('an MRN is unique within a practice', () => {
  const DUPLICATE = {
    code: 'DUPLICATE_MRN',
    message: 'A patient with this MRN already exists in your practice. Search by the MRN to open that patient, or check the number.',
    field: ['input', 'mrn'],
  };

  test('a second patient with the same MRN (after trimming) is refused; another practice may use it', async () => {
    const mrn = unique('MRN-');
    const first = await createPatient({ firstName: 'Mia', lastName: unique('Mrn'), mrn });
    expect(first.userErrors).toEqual([]);
    const lastName = unique('Twin');
    const second = await createPatient({ firstName: 'Mia', lastName, mrn: `  ${mrn} ` });
    expect(second).toEqual({ patient: null, userErrors: [DUPLICATE] });
    expect(await patientsNamed(lastName)).toEqual([]);
    expect(await patientsNamed(mrn)).toEqual([first.patient!.id]);

    const elsewhere = await createPatient({ firstName: 'Mia', lastName, mrn }, otherPractice);
    expect(elsewhere.userErrors).toEqual([]);
    expect(elsewhere.patient!.mrn).toBe(mrn);
  });

  test('patients without an MRN are never duplicates of each other', async () => {
    const lastName = unique('NoMrn');
    for (const mrn of [null, undefined, '', '   ']) expect((await createPatient({ firstName: 'Noa', lastName, mrn })).userErrors).toEqual([]);
    expect(await patientsNamed(lastName)).toHaveLength(4);
  });

  test('two concurrent creates with one MRN: one accepted, one DUPLICATE_MRN', async () => {
    for (let round = 0; round < 5; round++) {
      const mrn = unique('RACE-');
      const [a, b] = await Promise.all([
        createPatient({ firstName: 'Ray', lastName: unique('RaceA'), mrn }, manager, 0),
        createPatient({ firstName: 'Ray', lastName: unique('RaceB'), mrn }, manager, lastInstance()),
      ]);
      const outcomes = [a, b].map((r) => (r.patient ? 'accepted' : r.userErrors[0].code)).sort();
      expect(outcomes).toEqual(['DUPLICATE_MRN', 'accepted']);
      expect([a, b].find((r) => !r.patient)!.userErrors).toEqual([DUPLICATE]);
      expect(await patientsNamed(mrn)).toHaveLength(1);
    }
  });

  test('the database refuses a duplicate too, and the migration that adds the rule stops on existing duplicates', async () => {
    const postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase('ledger_mrn') : null;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-mrn-'));
    const database = postgres ? ({ kind: 'postgres', url: postgres.url } as const) : ({ kind: 'sqlite', path: path.join(dir, 'mrn.sqlite') } as const);
    // The refused migration is the expected outcome here, not news for the test output.
    const QUIET: Logger = { logQuery() {}, logQueryError() {}, logQuerySlow() {}, logSchemaBuild() {}, logMigration() {}, log() {} };
    const all = MIGRATIONS[database.kind];
    const before = all.slice(0, all.findIndex((m) => m.name.startsWith('UniqueMrnPerPractice')));
    const open = async (migrations: typeof all) => {
      const dataSource = new DataSource({ ...dataSourceOptions(database), migrations, logger: QUIET });
      await dataSource.initialize();
      return dataSource;
    };
    const insertPatient = (dataSource: DataSource, id: string, practiceId: string, mrn: string) =>
      dataSource.query(
        `INSERT INTO patients (id, practice_id, first_name, last_name, date_of_birth, mrn, version, responsibility_cents, paid_cents, written_off_cents,
           outstanding_cents, credit_cents, balance_updated_at, created_at, created_by)
         VALUES (${postgres ? '$1, $2' : '?, ?'}, 'Old', 'Row', NULL, ${postgres ? '$3' : '?'}, 0, 0, 0, 0, 0, 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'migration-test')`,
        [id, practiceId, mrn],
      );
    const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'];
    try {
      const old = await open(before);
      await old.runMigrations();
      await insertPatient(old, ids[0], 'p1', 'SAME');
      await insertPatient(old, ids[1], 'p1', 'SAME');
      await insertPatient(old, ids[2], 'p2', 'SAME');
      await old.destroy();

      const current = await open(all);
      await expect(current.runMigrations({ transaction: 'each' })).rejects.toThrow(
        /1 MRN\(s\) are each held by more than one patient of the same practice, so MRNs cannot be made unique\. Give each of those patients its own MRN \(or none\), then migrate again\./,
      );
      await current.query(`UPDATE patients SET mrn = NULL WHERE id = ${postgres ? '$1' : '?'}`, [ids[1]]);
      await current.runMigrations({ transaction: 'each' });
      expect(await current.showMigrations()).toBe(false);
      await expect(insertPatient(current, '00000000-0000-4000-8000-00000000000d', 'p1', 'SAME')).rejects.toThrow(/unique|UNIQUE/);
      await insertPatient(current, '00000000-0000-4000-8000-00000000000e', 'p1', 'OTHER');
      await current.destroy();
    } finally {
      await postgres?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ORIGINAL_CARD refunds only card payments', () => {
  async function paidWith(method: PaymentMethod) {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [4000]);
    const paid = (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 5000, method, allocations: [{ responsibilityId: lineIds[0], amountCents: 4000 }] } })).recordPayment;
    return { patientId, paymentId: paid.payment!.id };
  }
  const refund = (paymentId: string, method: 'ORIGINAL_CARD' | 'EXTERNAL_CASH_OR_CARD' | 'EXTERNAL_CHECK') =>
    server.ok(manager, RefundPaymentDocument, { input: { paymentId, amountCents: 1500, method, reason: 'Overpaid' } }).then((d) => d.refundPayment);

  test.each(['CASH', 'CHECK', 'OTHER'] as const)('a %s payment: ORIGINAL_CARD is refused and changes nothing; the external methods are not', async (method) => {
    const { patientId, paymentId } = await paidWith(method);
    const balanceBefore = await balance(patientId);
    const paymentBefore = (await server.ok(manager, PaymentDocument, { id: paymentId })).payment;
    const refused = await refund(paymentId, 'ORIGINAL_CARD');
    expect(refused).toMatchObject({ refund: null, payment: null, balance: null });
    expect(refused.userErrors).toEqual([
      {
        code: 'REFUND_METHOD_NOT_ALLOWED',
        message: 'Only a card payment can be refunded to the original card. Use EXTERNAL_CASH_OR_CARD or EXTERNAL_CHECK.',
        field: ['input', 'method'],
      },
    ]);
    expect(await balance(patientId)).toEqual(balanceBefore);
    expect((await server.ok(manager, PaymentDocument, { id: paymentId })).payment).toEqual(paymentBefore);

    for (const external of ['EXTERNAL_CASH_OR_CARD', 'EXTERNAL_CHECK'] as const) {
      const accepted = await refund(paymentId, external);
      expect(accepted.userErrors).toEqual([]);
      expect(accepted.refund).toMatchObject({ amountCents: 1500, method: external });
    }
  });

  test('a card payment can be refunded to the original card', async () => {
    const { paymentId } = await paidWith('CARD');
    const accepted = await refund(paymentId, 'ORIGINAL_CARD');
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.payment).toMatchObject({ refundedCents: 1500 });
  });
});

describe('createCharge without PR lines: a charge awaiting its remittance', () => {
  test.each([
    ['omitted', {}],
    ['null', { responsibilities: null }],
  ])('responsibilities %s: accepted with no lines, and the remittance brings them', async (_how, lines) => {
    const patientId = await newPatient(server, manager);
    const created = (await server.ok(manager, CreateChargeDocument, { input: { patientId, serviceDate: '2026-10-03', procedureCode: '99214', billedCents: 25_000, ...lines } })).createCharge;
    expect(created.userErrors).toEqual([]);
    expect(created.charge).toMatchObject({ billedCents: 25_000, openCents: 0, responsibilities: [] });
    expect(created.balance).toMatchObject({ version: 1, outstandingCents: 0 });

    const remitted = (await server.ok(manager, RecordRemittanceDocument, {
      input: { chargeId: created.charge!.id, remittanceId: unique('ERA-'), adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 5000 }] },
    })).recordRemittance;
    expect(remitted.charge!.responsibilities).toMatchObject([{ kind: 'COINSURANCE', origin: 'REMITTANCE', amountCents: 5000 }]);
    expect(remitted.balance).toMatchObject({ outstandingCents: 5000 });
  });

  test('omitted and empty are the same request for its idempotency key', async () => {
    const patientId = await newPatient(server, manager);
    const input = { patientId, serviceDate: '2026-10-04', procedureCode: '99213', billedCents: 12_000, idempotencyKey: unique('charge-') };
    const first = (await server.ok(manager, CreateChargeDocument, { input })).createCharge;
    const retry = (await server.ok(manager, CreateChargeDocument, { input: { ...input, responsibilities: [] } })).createCharge;
    expect(retry.userErrors).toEqual([]);
    expect(retry.charge!.id).toBe(first.charge!.id);
    expect(retry.balance!.version).toBe(1);
  });
});

test('Query, Mutation and Subscription are described', async () => {
  const { __schema } = await server.ok(manager, SurfaceRootTypesDocument, {});
  expect(__schema.queryType.description).toMatch(/^Reads of your practice's ledger/);
  expect(__schema.mutationType!.description).toMatch(/^Changes to the ledger\..*`idempotencyKey`/);
  expect(__schema.subscriptionType!.description).toMatch(/^Live balances over WebSocket/);
});

describe('WriteOff.reversals: the removals of a write-off, oldest first', () => {
  async function writtenOff(amountCents: number, open = 10_000) {
    const patientId = await newPatient(server, manager);
    const { chargeId, lineIds } = await newCharge(server, manager, patientId, [open]);
    const writeOff = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents, reason: 'SMALL_BALANCE' } })).writeOff;
    return { patientId, chargeId, lineId: lineIds[0], writeOffId: writeOff.writeOff!.id };
  }
  const remove = (writeOffId: string, amountCents: number | null, reason = 'Patient agreed to pay') =>
    server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId, amountCents, reason } }).then((d) => d.removeWriteOff);
  const writeOffsOf = async (lineId: string) => (await server.ok(manager, SurfaceWriteOffRemovalsDocument, { id: lineId })).responsibility!.writeOffs;

  test('each removal with its amount, reason, author and time', async () => {
    const { lineId, writeOffId } = await writtenOff(5000);
    expect((await writeOffsOf(lineId))[0].reversals).toEqual([]);
    const startedAt = new Date().toISOString();
    expect((await remove(writeOffId, 1000, 'Patient agreed to pay part')).userErrors).toEqual([]);
    expect((await remove(writeOffId, 500, 'Billing error')).userErrors).toEqual([]);
    const [writeOff] = await writeOffsOf(lineId);
    expect(writeOff.activeCents).toBe(3500);
    expect(writeOff.reversals).toEqual([
      { id: expect.any(String), amountCents: 1000, reason: 'Patient agreed to pay part', createdBy: manager.sub, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) },
      { id: expect.any(String), amountCents: 500, reason: 'Billing error', createdBy: manager.sub, createdAt: expect.any(String) },
    ]);
    expect(writeOff.reversals[0].createdAt >= startedAt).toBe(true);
    expect(writeOff.reversals[1].createdAt >= writeOff.reversals[0].createdAt).toBe(true);
  });

  test('a remittance superseding the line lists its removal too', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, patientId, [], 20_000);
    const copay = (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 3000, method: 'CARD', purpose: 'COPAY', chargeId } })).recordPayment.payment!;
    const estimateId = copay.allocations[0].responsibility.id;
    await server.ok(manager, RefundPaymentDocument, { input: { paymentId: copay.id, amountCents: 1000, method: 'ACCOUNT_CREDIT', reason: 'Copay was lower' } });
    const writeOff = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: estimateId, amountCents: 600, reason: 'SMALL_BALANCE' } })).writeOff;
    expect(writeOff.userErrors).toEqual([]);
    await server.ok(manager, RecordRemittanceDocument, { input: { chargeId, remittanceId: unique('ERA-'), adjustments: [{ groupCode: 'PR', reasonCode: '3', amountCents: 2000 }] } });
    const [superseded] = await writeOffsOf(estimateId);
    expect(superseded.activeCents).toBe(0);
    expect(superseded.reversals).toEqual([{ id: expect.any(String), amountCents: 600, reason: 'superseded by remittance', createdBy: manager.sub, createdAt: expect.any(String) }]);
  });

  test(`at most ${MAX_REMOVALS_PER_WRITE_OFF}: the last one must remove all that is still written off`, async () => {
    const { patientId, lineId, writeOffId } = await writtenOff(5000);
    for (let i = 1; i < MAX_REMOVALS_PER_WRITE_OFF; i++) expect((await remove(writeOffId, 100)).userErrors).toEqual([]);
    const before = await balance(patientId);
    const partial = await remove(writeOffId, 100);
    expect(partial.userErrors).toEqual([
      {
        code: 'TOO_MANY_ITEMS',
        message: 'This write-off already has 19 removals; the last one it can hold must remove all that is still written off ($31.00). Leave the amount empty to remove all of it.',
        field: ['input', 'amountCents'],
      },
    ]);
    expect(await balance(patientId)).toEqual(before);
    let [writeOff] = await writeOffsOf(lineId);
    // Removing all of it is still offered, and accepted.
    expect(writeOff.canRemove).toEqual({ allowed: true, code: null, message: null });
    expect((await remove(writeOffId, null)).userErrors).toEqual([]);
    [writeOff] = await writeOffsOf(lineId);
    expect(writeOff.activeCents).toBe(0);
    expect(writeOff.reversals).toHaveLength(MAX_REMOVALS_PER_WRITE_OFF);
    expect(writeOff.reversals.map((r) => r.amountCents)).toEqual([...Array(MAX_REMOVALS_PER_WRITE_OFF - 1).fill(100), 3100]);
    expect(writeOff.canRemove.code).toBe('NOTHING_TO_REMOVE');
  });

  test('batched: a patient with many removals costs the same statements as one with a single removal', async () => {
    const one = await writtenOff(1000);
    await remove(one.writeOffId, 100);
    const many = await newPatient(server, manager);
    for (let c = 0; c < 4; c++) {
      const { lineIds } = await newCharge(server, manager, many, [3000, 3000]);
      for (const lineId of lineIds) {
        const writeOffId = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineId, amountCents: 1000, reason: 'BAD_DEBT' } })).writeOff.writeOff!.id;
        await remove(writeOffId, 100);
        await remove(writeOffId, 100);
      }
    }
    const audit = server.instances[0].services.audit;
    const statements = async (patientId: string) => {
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        await audit.flush();
        const start = statementCount.value;
        const data = await server.ok(manager, SurfacePatientRemovalsDocument, { id: patientId });
        await audit.flush();
        counts.push(statementCount.value - start);
        expect(data.patient).not.toBeNull();
      }
      return Math.min(...counts);
    };
    const removalsOfMany = (await server.ok(manager, SurfacePatientRemovalsDocument, { id: many })).patient!.charges.edges.flatMap((e) =>
      e.node.responsibilities.flatMap((l) => l.writeOffs.flatMap((w) => w.reversals)),
    );
    expect(removalsOfMany).toHaveLength(16);
    expect(await statements(many)).toBe(await statements(one.patientId));
  });
});

test("the timeline shows a refund's method and a write-off's note", async () => {
  const patientId = await newPatient(server, manager);
  const { chargeId, lineIds } = await newCharge(server, manager, patientId, [4000]);
  const paymentId = (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 4000, method: 'CARD', allocations: [{ responsibilityId: lineIds[0], amountCents: 4000 }] } })).recordPayment.payment!.id;
  await server.ok(manager, RefundPaymentDocument, { input: { paymentId, amountCents: 1500, method: 'ORIGINAL_CARD', reason: 'Charged twice' } });
  await server.ok(manager, RefundPaymentDocument, { input: { paymentId, amountCents: 1000, method: 'ACCOUNT_CREDIT', reason: 'Keep as credit' } });
  await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 2000, reason: 'FINANCIAL_HARDSHIP', note: 'Hardship form on file.\nSigned.' } });
  await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 500, reason: 'SMALL_BALANCE' } });

  const timeline = (await server.ok(manager, SurfaceTimelineDocument, { id: chargeId })).charge!.timeline.map(({ kind, amountCents, reason, refundMethod, note }) => ({ kind, amountCents, reason, refundMethod, note }));
  expect(timeline).toEqual([
    { kind: 'CHARGE_CREATED', amountCents: 100_000, reason: null, refundMethod: null, note: null },
    { kind: 'PR_ADDED', amountCents: 4000, reason: 'STAFF', refundMethod: null, note: null },
    { kind: 'PAYMENT', amountCents: 4000, reason: 'CARD', refundMethod: null, note: null },
    { kind: 'REFUND', amountCents: 1500, reason: 'Charged twice', refundMethod: 'ORIGINAL_CARD', note: null },
    { kind: 'MOVED_TO_CREDIT', amountCents: 1000, reason: 'Keep as credit', refundMethod: 'ACCOUNT_CREDIT', note: null },
    { kind: 'WRITE_OFF', amountCents: 2000, reason: 'FINANCIAL_HARDSHIP', refundMethod: null, note: 'Hardship form on file.\nSigned.' },
    { kind: 'WRITE_OFF', amountCents: 500, reason: 'SMALL_BALANCE', refundMethod: null, note: null },
  ]);
});
