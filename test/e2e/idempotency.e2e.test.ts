/**
 * docs/design.md §3 idempotency over real HTTP: a retry with the same key and input returns the same objects (as they are
 * now) and changes nothing; the same key with another input is IDEMPOTENCY_KEY_REUSED; keys belong to a practice;
 * refusals are not stored; concurrent retries apply once.
 */
import {
  BalanceDocument,
  CancelPrDocument,
  CreateChargeDocument,
  PatientChargesDocument,
  PatientPaymentsDocument,
  PaymentDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  ResponsibilityDocument,
  WriteOffDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller } from '../harness';
import { newCharge, newPatient } from '../fixtures';

let server: TestServer;
let manager: Caller;
let otherManager: Caller;

beforeAll(async () => {
  server = await startTestServer();
  manager = await server.caller('BILLING_MANAGER');
  otherManager = await server.caller('BILLING_MANAGER', `${server.practice}-b`);
});
afterAll(() => server.stop());

let keyCounter = 0;
const newKey = (label: string) => `${label}-${Date.now()}-${++keyCounter}`;

async function balance(patientId: string, caller: Caller = manager) {
  return (await server.ok(caller, BalanceDocument, { id: patientId })).patient!.balance;
}
async function line(id: string, caller: Caller = manager) {
  return (await server.ok(caller, ResponsibilityDocument, { id })).responsibility!;
}
async function payment(id: string) {
  return (await server.ok(manager, PaymentDocument, { id })).payment!;
}
async function chargeIds(patientId: string) {
  return (await server.ok(manager, PatientChargesDocument, { id: patientId, first: 100 })).patient!.charges.edges.map((e) => e.node.id);
}
async function paymentIds(patientId: string) {
  return (await server.ok(manager, PatientPaymentsDocument, { id: patientId, first: 100 })).patient!.payments.edges.map((e) => e.node.id);
}

const KEY_REUSED = { code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] };

describe('a retry with the same key and input returns the same objects and changes nothing', () => {
  test('createCharge', async () => {
    const patientId = await newPatient(server, manager);
    const idempotencyKey = newKey('charge');
    const input = { patientId, serviceDate: '2026-10-05', procedureCode: '99213', billedCents: 20_000, responsibilities: [{ kind: 'COPAY' as const, amountCents: 2500 }], idempotencyKey };
    const first = (await server.ok(manager, CreateChargeDocument, { input })).createCharge;
    expect(first.userErrors).toEqual([]);
    expect(first.balance!.version).toBe(1);
    const after = await balance(patientId);

    const retry = (await server.ok(manager, CreateChargeDocument, { input })).createCharge;
    expect(retry.userErrors).toEqual([]);
    expect(retry.charge!.id).toBe(first.charge!.id);
    expect(retry.charge!.responsibilities.map((r) => r.id)).toEqual(first.charge!.responsibilities.map((r) => r.id));
    expect(retry.balance).toEqual(after);
    expect(await balance(patientId)).toEqual(after);
    expect(await chargeIds(patientId)).toEqual([first.charge!.id]);

    const different = (await server.ok(manager, CreateChargeDocument, { input: { ...input, billedCents: 20_001 } })).createCharge;
    expect(different.userErrors).toEqual([expect.objectContaining(KEY_REUSED)]);
    expect(different.charge).toBeNull();
    expect(await balance(patientId)).toEqual(after);
    expect(await chargeIds(patientId)).toHaveLength(1);
  });

  test('recordRemittance (a replay is not a duplicate remittance)', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, patientId, [], 50_000);
    const idempotencyKey = newKey('era');
    const input = { chargeId, remittanceId: 'ERA-IDEM-1', adjustments: [{ groupCode: 'PR', reasonCode: '1', amountCents: 7000 }, { groupCode: 'CO', reasonCode: '45', amountCents: 9000 }], idempotencyKey };
    const first = (await server.ok(manager, RecordRemittanceDocument, { input })).recordRemittance;
    expect(first.userErrors).toEqual([]);
    const after = await balance(patientId);
    expect(after.outstandingCents).toBe(7000);

    const retry = (await server.ok(manager, RecordRemittanceDocument, { input })).recordRemittance;
    expect(retry.userErrors).toEqual([]);
    expect(retry.charge!.id).toBe(chargeId);
    expect(retry.charge!.responsibilities.map((r) => r.id)).toEqual(first.charge!.responsibilities.map((r) => r.id));
    expect(retry.charge!.responsibilities).toHaveLength(1);
    expect(retry.balance).toEqual(after);
    expect(await balance(patientId)).toEqual(after);

    const different = (await server.ok(manager, RecordRemittanceDocument, { input: { ...input, remittanceId: 'ERA-IDEM-2' } })).recordRemittance;
    expect(different.userErrors).toEqual([expect.objectContaining(KEY_REUSED)]);
    expect(await balance(patientId)).toEqual(after);
  });

  test('recordPayment (purpose BALANCE given or defaulted is the same input)', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [6000]);
    const idempotencyKey = newKey('pay');
    const input = { patientId, amountCents: 5000, method: 'CARD' as const, allocations: [{ responsibilityId: lineIds[0], amountCents: 4000 }], idempotencyKey };
    const first = (await server.ok(manager, RecordPaymentDocument, { input })).recordPayment;
    expect(first.userErrors).toEqual([]);
    const after = await balance(patientId);
    expect(after).toMatchObject({ outstandingCents: 2000, creditCents: 1000 });

    for (const again of [input, { ...input, purpose: 'BALANCE' as const }]) {
      const retry = (await server.ok(manager, RecordPaymentDocument, { input: again })).recordPayment;
      expect(retry.userErrors).toEqual([]);
      expect(retry.payment!.id).toBe(first.payment!.id);
      expect(retry.balance).toEqual(after);
    }
    expect(await balance(patientId)).toEqual(after);
    expect(await paymentIds(patientId)).toEqual([first.payment!.id]);

    const different = (await server.ok(manager, RecordPaymentDocument, { input: { ...input, method: 'CASH' } })).recordPayment;
    expect(different.userErrors).toEqual([expect.objectContaining(KEY_REUSED)]);
    expect(await paymentIds(patientId)).toHaveLength(1);
    expect(await balance(patientId)).toEqual(after);
  });

  test('refundPayment', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [6000]);
    const paid = (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 6000, method: 'CARD', allocations: [{ responsibilityId: lineIds[0], amountCents: 6000 }] } })).recordPayment.payment!;
    const idempotencyKey = newKey('refund');
    const input = { paymentId: paid.id, amountCents: 2000, method: 'ORIGINAL_CARD' as const, reason: 'Overcharged', idempotencyKey };
    const first = (await server.ok(manager, RefundPaymentDocument, { input })).refundPayment;
    expect(first.userErrors).toEqual([]);
    const after = await balance(patientId);
    expect(after.outstandingCents).toBe(2000);

    const retry = (await server.ok(manager, RefundPaymentDocument, { input })).refundPayment;
    expect(retry.userErrors).toEqual([]);
    expect(retry.refund!.id).toBe(first.refund!.id);
    expect(retry.payment).toEqual(first.payment);
    expect(retry.balance).toEqual(after);
    expect(await balance(patientId)).toEqual(after);
    const now = await payment(paid.id);
    expect(now.refundedCents).toBe(2000);
    expect(now.refunds.map((r) => r.id)).toEqual([first.refund!.id]);

    const different = (await server.ok(manager, RefundPaymentDocument, { input: { ...input, reason: 'Another reason' } })).refundPayment;
    expect(different.userErrors).toEqual([expect.objectContaining(KEY_REUSED)]);
    expect((await payment(paid.id)).refunds).toHaveLength(1);
    expect(await balance(patientId)).toEqual(after);
  });

  test('writeOff (a replay answers with the write-off as it is now)', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [8000]);
    const idempotencyKey = newKey('wo');
    const input = { responsibilityId: lineIds[0], amountCents: 3000, reason: 'OTHER' as const, customReason: 'Goodwill', note: 'Long wait', idempotencyKey };
    const first = (await server.ok(manager, WriteOffDocument, { input })).writeOff;
    expect(first.userErrors).toEqual([]);
    const after = await balance(patientId);

    const retry = (await server.ok(manager, WriteOffDocument, { input })).writeOff;
    expect(retry.userErrors).toEqual([]);
    expect(retry.writeOff!.id).toBe(first.writeOff!.id);
    expect(retry.responsibility).toEqual(first.responsibility);
    expect(retry.balance).toEqual(after);
    expect((await line(lineIds[0])).writeOffs).toHaveLength(1);

    for (const changed of [{ amountCents: 3001 }, { reason: 'BAD_DEBT' as const, customReason: null }, { customReason: 'Other words' }, { note: null }]) {
      const different = (await server.ok(manager, WriteOffDocument, { input: { ...input, ...changed } })).writeOff;
      expect(different.userErrors).toEqual([expect.objectContaining(KEY_REUSED)]);
    }
    expect(await balance(patientId)).toEqual(after);

    // Removed since: the replay shows the write-off as it is now, still without changing anything.
    const removed = (await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: first.writeOff!.id, reason: 'Patient can pay' } })).removeWriteOff;
    expect(removed.userErrors).toEqual([]);
    const afterRemoval = await balance(patientId);
    const late = (await server.ok(manager, WriteOffDocument, { input })).writeOff;
    expect(late.userErrors).toEqual([]);
    expect(late.writeOff).toMatchObject({ id: first.writeOff!.id, amountCents: 3000, activeCents: 0 });
    expect(late.balance).toEqual(afterRemoval);
    expect(await balance(patientId)).toEqual(afterRemoval);
    expect((await line(lineIds[0])).writeOffs).toHaveLength(1);
  });

  test('removeWriteOff (amount omitted and null are the same input)', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [8000]);
    const wo = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 5000, reason: 'SMALL_BALANCE' } })).writeOff.writeOff!;
    const partKey = newKey('rm-part');
    const part = { writeOffId: wo.id, amountCents: 1000, reason: 'Partly collectable', idempotencyKey: partKey };
    const first = (await server.ok(manager, RemoveWriteOffDocument, { input: part })).removeWriteOff;
    expect(first.userErrors).toEqual([]);
    expect(first.writeOff!.activeCents).toBe(4000);
    const afterPart = await balance(patientId);
    const retry = (await server.ok(manager, RemoveWriteOffDocument, { input: part })).removeWriteOff;
    expect(retry.userErrors).toEqual([]);
    expect(retry.writeOff).toEqual(first.writeOff);
    expect(retry.balance).toEqual(afterPart);
    expect(await balance(patientId)).toEqual(afterPart);
    // A partial removal retried does not remove twice.
    expect((await line(lineIds[0])).writtenOffCents).toBe(4000);
    const different = (await server.ok(manager, RemoveWriteOffDocument, { input: { ...part, amountCents: 500 } })).removeWriteOff;
    expect(different.userErrors).toEqual([expect.objectContaining(KEY_REUSED)]);

    const restKey = newKey('rm-rest');
    const rest = (await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: wo.id, reason: 'All collectable', idempotencyKey: restKey } })).removeWriteOff;
    expect(rest.userErrors).toEqual([]);
    const afterRest = await balance(patientId);
    const restRetry = (await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: wo.id, amountCents: null, reason: 'All collectable', idempotencyKey: restKey } })).removeWriteOff;
    // Not NOTHING_TO_REMOVE: it is the same request, answered again.
    expect(restRetry.userErrors).toEqual([]);
    expect(restRetry.writeOff).toMatchObject({ id: wo.id, activeCents: 0 });
    expect(await balance(patientId)).toEqual(afterRest);
  });

  test('cancelPR (a replay is not PR_CANCELLED)', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [4000]);
    await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 1500, method: 'CASH', allocations: [{ responsibilityId: lineIds[0], amountCents: 1500 }] } });
    const idempotencyKey = newKey('cancel');
    const input = { responsibilityId: lineIds[0], reason: 'Entered twice', idempotencyKey };
    const first = (await server.ok(manager, CancelPrDocument, { input })).cancelPR;
    expect(first.userErrors).toEqual([]);
    const after = await balance(patientId);
    expect(after).toMatchObject({ outstandingCents: 0, creditCents: 1500 });

    const retry = (await server.ok(manager, CancelPrDocument, { input })).cancelPR;
    expect(retry.userErrors).toEqual([]);
    expect(retry.responsibility).toEqual(first.responsibility);
    expect(retry.balance).toEqual(after);
    expect(await balance(patientId)).toEqual(after);

    const different = (await server.ok(manager, CancelPrDocument, { input: { ...input, reason: 'Entered three times' } })).cancelPR;
    expect(different.userErrors).toEqual([expect.objectContaining(KEY_REUSED)]);
    expect(await balance(patientId)).toEqual(after);
  });
});

describe('keys, practices and refusals', () => {
  test('keys are scoped per practice: practice B may use practice A key freely', async () => {
    const idempotencyKey = newKey('shared');
    const patientA = await newPatient(server, manager);
    const lineA = (await newCharge(server, manager, patientA, [5000])).lineIds[0];
    const patientB = await newPatient(server, otherManager);
    const lineB = (await newCharge(server, otherManager, patientB, [5000])).lineIds[0];

    const a = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineA, amountCents: 1000, reason: 'SMALL_BALANCE', idempotencyKey } })).writeOff;
    expect(a.userErrors).toEqual([]);
    const b = (await server.ok(otherManager, WriteOffDocument, { input: { responsibilityId: lineB, amountCents: 2000, reason: 'BAD_DEBT', idempotencyKey } })).writeOff;
    expect(b.userErrors).toEqual([]);
    expect(b.writeOff!.id).not.toBe(a.writeOff!.id);
    expect(b.balance).toMatchObject({ patientId: patientB, writtenOffCents: 2000, version: 2 });
    // B may even use the key for another kind of operation.
    const otherKey = newKey('shared-op');
    expect((await server.ok(manager, CancelPrDocument, { input: { responsibilityId: (await newCharge(server, manager, patientA, [100])).lineIds[0], reason: 'x', idempotencyKey: otherKey } })).cancelPR.userErrors).toEqual([]);
    const bCharge = (await server.ok(otherManager, CreateChargeDocument, {
      input: { patientId: patientB, serviceDate: '2026-10-06', procedureCode: '99213', billedCents: 1000, responsibilities: [], idempotencyKey: otherKey },
    })).createCharge;
    expect(bCharge.userErrors).toEqual([]);

    // Each practice's retry replays its own write-off.
    expect((await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineA, amountCents: 1000, reason: 'SMALL_BALANCE', idempotencyKey } })).writeOff.writeOff!.id).toBe(a.writeOff!.id);
    expect((await server.ok(otherManager, WriteOffDocument, { input: { responsibilityId: lineB, amountCents: 2000, reason: 'BAD_DEBT', idempotencyKey } })).writeOff.writeOff!.id).toBe(b.writeOff!.id);
    expect((await line(lineA)).writtenOffCents).toBe(1000);
    expect((await line(lineB, otherManager)).writtenOffCents).toBe(2000);
  });

  test('a refused request is not stored: its retry after fixing the state is judged afresh', async () => {
    const patientId = await newPatient(server, manager);
    const lineId = (await newCharge(server, manager, patientId, [10_000])).lineIds[0];
    const earlier = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineId, amountCents: 7000, reason: 'SMALL_BALANCE' } })).writeOff.writeOff!;
    const idempotencyKey = newKey('refused');
    const input = { responsibilityId: lineId, amountCents: 5000, reason: 'BAD_DEBT' as const, idempotencyKey };

    const refused = (await server.ok(manager, WriteOffDocument, { input })).writeOff;
    expect(refused.userErrors.map((e) => e.code)).toEqual(['WRITE_OFF_EXCEEDS_OPEN']);
    // Retried unchanged, it is refused again (judged, not replayed from a stored refusal).
    const before = await balance(patientId);
    expect((await server.ok(manager, WriteOffDocument, { input })).writeOff.userErrors.map((e) => e.code)).toEqual(['WRITE_OFF_EXCEEDS_OPEN']);
    expect(await balance(patientId)).toEqual(before);

    // Fix the state, retry with the same key and input: accepted.
    expect((await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: earlier.id, reason: 'Wrong amount' } })).removeWriteOff.userErrors).toEqual([]);
    const fixed = await balance(patientId);
    const accepted = (await server.ok(manager, WriteOffDocument, { input })).writeOff;
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.balance!.version).toBe(fixed.version + 1);
    expect(accepted.responsibility).toMatchObject({ writtenOffCents: 5000, openCents: 5000 });
    // And now the key is stored: a replay returns it and changes nothing.
    const replay = (await server.ok(manager, WriteOffDocument, { input })).writeOff;
    expect(replay.writeOff!.id).toBe(accepted.writeOff!.id);
    expect(replay.balance).toEqual(accepted.balance);

    // A refused request with a key does not reserve that key for its input either.
    const freeKey = newKey('refused-free');
    const notFound = (await server.ok(manager, CancelPrDocument, { input: { responsibilityId: '00000000-0000-4000-8000-000000000001', reason: 'x', idempotencyKey: freeKey } })).cancelPR;
    expect(notFound.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    const other = (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 100, method: 'CASH', idempotencyKey: freeKey } })).recordPayment;
    expect(other.userErrors).toEqual([]);
  });

  test('20 concurrent retries of one write-off with one key: exactly one write-off, version +1', async () => {
    const patientId = await newPatient(server, manager);
    const lineId = (await newCharge(server, manager, patientId, [10_000])).lineIds[0];
    const before = await balance(patientId);
    const idempotencyKey = newKey('concurrent');
    const input = { responsibilityId: lineId, amountCents: 1500, reason: 'PROMPT_PAY_DISCOUNT' as const, idempotencyKey };

    const results = await Promise.all(Array.from({ length: 20 }, () => server.gql(manager, WriteOffDocument, { input })));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data!.writeOff.userErrors).toEqual([]);
    }
    const ids = new Set(results.map((r) => r.data!.writeOff.writeOff!.id));
    expect(ids.size).toBe(1);
    const seen = await line(lineId);
    expect(seen.writeOffs).toHaveLength(1);
    expect(seen).toMatchObject({ writtenOffCents: 1500, openCents: 8500 });
    const after = await balance(patientId);
    expect(after.version).toBe(before.version + 1);
    expect(after.outstandingCents).toBe(8500);
    // Every answer carries the one accepted balance.
    for (const r of results) expect(r.data!.writeOff.balance!.version).toBe(before.version + 1);
  });

  test('10 concurrent retries of one payment with one key: one payment', async () => {
    const patientId = await newPatient(server, manager);
    const before = await balance(patientId);
    const input = { patientId, amountCents: 2500, method: 'CASH' as const, idempotencyKey: newKey('concurrent-pay') };
    const results = await Promise.all(Array.from({ length: 10 }, () => server.gql(manager, RecordPaymentDocument, { input })));
    expect(new Set(results.map((r) => r.data!.recordPayment.payment!.id)).size).toBe(1);
    expect(await paymentIds(patientId)).toHaveLength(1);
    const after = await balance(patientId);
    expect(after).toMatchObject({ version: before.version + 1, creditCents: 2500 });
  });
});
