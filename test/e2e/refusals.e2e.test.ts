/**
 * docs/design.md §2.5 over real HTTP: every row of the tooltip table (the `can*` field says no, with the exact words, and the
 * action attempted anyway comes back with the same code and changes nothing), the role refusals of §4, and every
 * other refusal code with the input field it blames.
 */
import {
  AuditTrailDocument,
  BalanceDocument,
  BalanceFieldsFragment,
  CancelPrDocument,
  CreateChargeDocument,
  CreatePatientDocument,
  PaymentDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  ResponsibilityDocument,
  UserErrorFieldsFragment,
  WriteOffDocument,
  WriteOffReason,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient, remittanceLine } from '../fixtures';

let server: TestServer;
let manager: Caller;
let viewer: Caller;
let frontDesk: Caller;
let billing: Caller;
let otherManager: Caller;

beforeAll(async () => {
  // Hundreds of checks by one user in a few seconds: deliberate load, so the per-caller limits are off here.
  server = await startTestServer({ env: NO_CALLER_LIMITS });
  manager = await server.caller('BILLING_MANAGER');
  viewer = await server.caller('VIEWER');
  frontDesk = await server.caller('FRONT_DESK');
  billing = await server.caller('BILLING');
  otherManager = await server.caller('BILLING_MANAGER', `${server.practice}-other`);
});
afterAll(() => server.stop());

// The tooltip texts of docs/design.md §2.5, word for word (typed here, not imported, so the test checks the server's words).
const TOOLTIP = {
  FORBIDDEN: "You don't have permission to do this.",
  WRITE_OFF_PR_CANCELLED: 'This PR was cancelled, so there is nothing to write off.',
  PR_ALREADY_PAID: 'This PR has already been paid. Refund the payment before writing it off.',
  PR_ALREADY_WRITTEN_OFF: 'This PR has already been fully written off. Remove the write-off to change it.',
  PR_FROM_REMITTANCE: "PR from an insurance remittance can't be cancelled. Write it off, or post a corrected remittance.",
  PR_HAS_WRITE_OFFS: 'Remove the write-off before cancelling this PR.',
  CANCEL_PR_CANCELLED: 'This PR is already cancelled.',
  NOTHING_TO_REMOVE: 'This write-off has already been fully removed.',
  NOTHING_TO_REFUND: 'This payment has already been fully refunded.',
};

// ---- small helpers -------------------------------------------------------------------------------------------

async function balance(patientId: string, caller: Caller = manager): Promise<BalanceFieldsFragment> {
  const data = await server.ok(caller, BalanceDocument, { id: patientId });
  return data.patient!.balance;
}

async function line(id: string, caller: Caller = manager) {
  const data = await server.ok(caller, ResponsibilityDocument, { id });
  return data.responsibility!;
}

async function payment(id: string, caller: Caller = manager) {
  const data = await server.ok(caller, PaymentDocument, { id });
  return data.payment!;
}

async function pay(patientId: string, amountCents: number, allocations: { responsibilityId: string; amountCents: number }[] = []) {
  const data = await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents, method: 'CARD', allocations } });
  expect(data.recordPayment.userErrors).toEqual([]);
  return data.recordPayment.payment!;
}

async function writeOff(responsibilityId: string, amountCents: number, reason: WriteOffReason = 'SMALL_BALANCE') {
  const data = await server.ok(manager, WriteOffDocument, { input: { responsibilityId, amountCents, reason } });
  expect(data.writeOff.userErrors).toEqual([]);
  return data.writeOff.writeOff!;
}

async function removeWriteOff(writeOffId: string, amountCents?: number) {
  const data = await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId, amountCents, reason: 'Patient can pay after all' } });
  expect(data.removeWriteOff.userErrors).toEqual([]);
  return data.removeWriteOff.writeOff!;
}

async function cancel(responsibilityId: string) {
  const data = await server.ok(manager, CancelPrDocument, { input: { responsibilityId, reason: 'Entered by mistake' } });
  expect(data.cancelPR.userErrors).toEqual([]);
}

/** A patient with one STAFF line of `amountCents` on a charge billed at ten times that. */
async function staffLine(amountCents: number) {
  const patientId = await newPatient(server, manager);
  const { chargeId, lineIds } = await newCharge(server, manager, patientId, [amountCents], amountCents * 10);
  return { patientId, chargeId, lineId: lineIds[0] };
}

interface Refused {
  userErrors: UserErrorFieldsFragment[];
  balance: unknown;
}

/**
 * Runs a refused attempt: exactly one userError with this code (and message/field when given), no balance in the
 * payload, and the patient's balance (version, amounts, updatedAt) and the given state identical before and after.
 */
async function expectRefusal(
  patientId: string,
  attempt: () => Promise<Refused>,
  expected: { code: string; message?: string | RegExp; field?: string[] | null },
  state: () => Promise<unknown> = async () => null,
  caller: Caller = manager,
): Promise<UserErrorFieldsFragment> {
  const [balanceBefore, stateBefore] = [await balance(patientId, caller), await state()];
  const result = await attempt();
  expect(result.userErrors).toHaveLength(1);
  const [error] = result.userErrors;
  expect(error.code).toBe(expected.code);
  if (typeof expected.message === 'string') expect(error.message).toBe(expected.message);
  else if (expected.message) expect(error.message).toMatch(expected.message);
  else expect(error.message.length).toBeGreaterThan(10);
  if (expected.field !== undefined) expect(error.field).toEqual(expected.field);
  expect(result.balance).toBeNull();
  expect(await balance(patientId, caller)).toEqual(balanceBefore);
  expect(await state()).toEqual(stateBefore);
  return error;
}

function expectForbiddenError(result: { errors?: { message: string; extensions?: { code?: string } }[]; data: unknown }) {
  expect(result.errors).toBeDefined();
  expect(result.errors![0].extensions?.code).toBe('FORBIDDEN');
  expect(result.errors![0].message).toBe(TOOLTIP.FORBIDDEN);
  expect(result.data ?? null).toBeNull();
}

const attemptWriteOff = (responsibilityId: string, amountCents: number, extra: { reason?: WriteOffReason; customReason?: string; note?: string } = {}) => async () =>
  (await server.ok(manager, WriteOffDocument, { input: { responsibilityId, amountCents, reason: extra.reason ?? 'SMALL_BALANCE', customReason: extra.customReason, note: extra.note } })).writeOff;
const attemptCancel = (responsibilityId: string, reason = 'Should never have existed') => async () =>
  (await server.ok(manager, CancelPrDocument, { input: { responsibilityId, reason } })).cancelPR;
const attemptRemove = (writeOffId: string, amountCents?: number, reason = 'Reverse it') => async () =>
  (await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId, amountCents, reason } })).removeWriteOff;
const attemptRefund = (paymentId: string, amountCents?: number, method: 'ORIGINAL_CARD' | 'ACCOUNT_CREDIT' = 'ORIGINAL_CARD') => async () =>
  (await server.ok(manager, RefundPaymentDocument, { input: { paymentId, amountCents, method, reason: 'Patient asked' } })).refundPayment;

// ---- the tooltip table -------------------------------------------------------------------------------------

describe('docs/design.md §2.5 tooltip table: can* says why, and the action attempted anyway is refused with the same code', () => {
  test('FORBIDDEN: a VIEWER sees FORBIDDEN on every can* field; other roles see what their role allows', async () => {
    const { patientId, chargeId } = await staffLine(10_000);
    const charge = await server.ok(manager, CreateChargeDocument, {
      input: { patientId, serviceDate: '2026-09-01', procedureCode: '99214', billedCents: 50_000, responsibilities: [{ kind: 'COPAY', amountCents: 4000 }] },
    });
    const withWriteOff = charge.createCharge.charge!.responsibilities[0].id;
    const wo = await writeOff(withWriteOff, 1000);
    const clean = (await server.ok(manager, CreateChargeDocument, {
      input: { patientId, serviceDate: '2026-09-02', procedureCode: '99215', billedCents: 50_000, responsibilities: [{ kind: 'CUSTOM', amountCents: 2500 }] },
    })).createCharge.charge!.responsibilities[0].id;
    const paid = await pay(patientId, 5000);
    expect(chargeId).toBeTruthy();

    const forbidden = { allowed: false, code: 'FORBIDDEN', message: TOOLTIP.FORBIDDEN };
    const allowed = { allowed: true, code: null, message: null };

    // VIEWER: read-only, so every action says FORBIDDEN.
    const asViewer = await line(clean, viewer);
    expect(asViewer.canWriteOff).toEqual(forbidden);
    expect(asViewer.canCancel).toEqual(forbidden);
    const viewerWithWriteOff = await line(withWriteOff, viewer);
    expect(viewerWithWriteOff.writeOffs[0].canRemove).toEqual(forbidden);
    expect((await payment(paid.id, viewer)).canRefund).toEqual(forbidden);

    // The same objects, seen by a manager, are actionable: FORBIDDEN above came from the role, not the state.
    const asManager = await line(clean);
    expect(asManager.canWriteOff).toEqual(allowed);
    expect(asManager.canCancel).toEqual(allowed);
    expect((await line(withWriteOff)).writeOffs[0].canRemove).toEqual(allowed);
    expect((await payment(paid.id)).canRefund).toEqual(allowed);

    // FRONT_DESK and BILLING may post but not refund.
    for (const who of [frontDesk, billing]) {
      const seen = await line(clean, who);
      expect(seen.canWriteOff).toEqual(allowed);
      expect(seen.canCancel).toEqual(allowed);
      expect((await line(withWriteOff, who)).writeOffs[0].canRemove).toEqual(allowed);
      expect((await payment(paid.id, who)).canRefund).toEqual(forbidden);
    }
    expect((await payment(paid.id, await server.caller('ADMIN'))).canRefund).toEqual(allowed);

    // FORBIDDEN is evaluated first: a VIEWER looking at a cancelled line still sees FORBIDDEN.
    await cancel(clean);
    const cancelledAsViewer = await line(clean, viewer);
    expect(cancelledAsViewer.canWriteOff).toEqual(forbidden);
    expect(cancelledAsViewer.canCancel).toEqual(forbidden);

    // Attempted anyway: a GraphQL error with extensions.code FORBIDDEN, and nothing changes.
    const before = await balance(patientId);
    expectForbiddenError(await server.gql(viewer, WriteOffDocument, { input: { responsibilityId: withWriteOff, amountCents: 100, reason: 'SMALL_BALANCE' } }));
    expectForbiddenError(await server.gql(viewer, RemoveWriteOffDocument, { input: { writeOffId: wo.id, reason: 'x' } }));
    expectForbiddenError(await server.gql(viewer, CancelPrDocument, { input: { responsibilityId: withWriteOff, reason: 'x' } }));
    expectForbiddenError(await server.gql(viewer, RecordPaymentDocument, { input: { patientId, amountCents: 100, method: 'CASH' } }));
    expectForbiddenError(await server.gql(viewer, RefundPaymentDocument, { input: { paymentId: paid.id, method: 'ORIGINAL_CARD', reason: 'x' } }));
    expectForbiddenError(await server.gql(viewer, CreateChargeDocument, { input: { patientId, serviceDate: '2026-09-03', procedureCode: '99213', billedCents: 100, responsibilities: [] } }));
    expectForbiddenError(await server.gql(viewer, CreatePatientDocument, { input: { firstName: 'No', lastName: 'Access' } }));
    expectForbiddenError(await server.gql(viewer, RecordRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-V', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }] } }));
    // FRONT_DESK may not record remittances or refund; BILLING may not refund.
    expectForbiddenError(await server.gql(frontDesk, RecordRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-F', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }] } }));
    expectForbiddenError(await server.gql(frontDesk, RefundPaymentDocument, { input: { paymentId: paid.id, amountCents: 100, method: 'ORIGINAL_CARD', reason: 'x' } }));
    expectForbiddenError(await server.gql(billing, RefundPaymentDocument, { input: { paymentId: paid.id, amountCents: 100, method: 'ACCOUNT_CREDIT', reason: 'x' } }));
    // Only BILLING_MANAGER and ADMIN read the audit trail.
    for (const who of [viewer, frontDesk, billing]) expectForbiddenError(await server.gql(who, AuditTrailDocument, { first: 5 }));
    expect(await balance(patientId)).toEqual(before);
    expect((await payment(paid.id)).refundedCents).toBe(0);
    expect((await line(withWriteOff)).writtenOffCents).toBe(1000);

    // Positive controls: what those roles may do, they can.
    const audit = await server.ok(manager, AuditTrailDocument, { first: 5 });
    expect(audit.auditTrail.edges.length).toBeGreaterThan(0);
    const admin = await server.caller('ADMIN');
    expect((await server.ok(admin, AuditTrailDocument, { first: 1 })).auditTrail.edges).toHaveLength(1);
    const byFrontDesk = await server.ok(frontDesk, WriteOffDocument, { input: { responsibilityId: withWriteOff, amountCents: 100, reason: 'SMALL_BALANCE' } });
    expect(byFrontDesk.writeOff.userErrors).toEqual([]);
    expect(byFrontDesk.writeOff.balance!.version).toBe(before.version + 1);
    const byBilling = await server.ok(billing, RecordRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-B', adjustments: [{ groupCode: 'CO', reasonCode: '45', amountCents: 100 }] } });
    expect(byBilling.recordRemittance.userErrors).toEqual([]);
  });

  test('write off, PR_CANCELLED: a cancelled line has nothing to write off', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    await cancel(lineId);
    expect((await line(lineId)).canWriteOff).toEqual({ allowed: false, code: 'PR_CANCELLED', message: TOOLTIP.WRITE_OFF_PR_CANCELLED });
    await expectRefusal(patientId, attemptWriteOff(lineId, 100), { code: 'PR_CANCELLED', message: TOOLTIP.WRITE_OFF_PR_CANCELLED }, () => line(lineId));
  });

  test('write off, PR_ALREADY_PAID: a fully paid line must be refunded first', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    await pay(patientId, 9_999, [{ responsibilityId: lineId, amountCents: 9_999 }]);
    // One cent still open: allowed.
    expect((await line(lineId)).canWriteOff).toEqual({ allowed: true, code: null, message: null });
    await pay(patientId, 1, [{ responsibilityId: lineId, amountCents: 1 }]);
    expect((await line(lineId)).canWriteOff).toEqual({ allowed: false, code: 'PR_ALREADY_PAID', message: TOOLTIP.PR_ALREADY_PAID });
    await expectRefusal(patientId, attemptWriteOff(lineId, 100), { code: 'PR_ALREADY_PAID', message: TOOLTIP.PR_ALREADY_PAID }, () => line(lineId));
  });

  test('write off, PR_ALREADY_WRITTEN_OFF: a fully written-off line (two partial write-offs) takes no more', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    await writeOff(lineId, 6000);
    await writeOff(lineId, 4000, 'BAD_DEBT');
    const seen = await line(lineId);
    expect(seen).toMatchObject({ writtenOffCents: 10_000, openCents: 0, paidCents: 0 });
    expect(seen.canWriteOff).toEqual({ allowed: false, code: 'PR_ALREADY_WRITTEN_OFF', message: TOOLTIP.PR_ALREADY_WRITTEN_OFF });
    await expectRefusal(patientId, attemptWriteOff(lineId, 1), { code: 'PR_ALREADY_WRITTEN_OFF', message: TOOLTIP.PR_ALREADY_WRITTEN_OFF }, () => line(lineId));
  });

  test('write off, NOTHING_TO_WRITE_OFF: the message names what was paid and written off, formatted as dollars', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    await pay(patientId, 3000, [{ responsibilityId: lineId, amountCents: 3000 }]);
    await writeOff(lineId, 7000);
    const message = 'Nothing is left to write off: $30.00 paid and $70.00 written off.';
    expect((await line(lineId)).canWriteOff).toEqual({ allowed: false, code: 'NOTHING_TO_WRITE_OFF', message });
    await expectRefusal(patientId, attemptWriteOff(lineId, 1), { code: 'NOTHING_TO_WRITE_OFF', message, field: null }, () => line(lineId));

    // Thousands separators and odd cents.
    const big = await staffLine(250_000);
    await pay(big.patientId, 123_456, [{ responsibilityId: big.lineId, amountCents: 123_456 }]);
    await writeOff(big.lineId, 126_544, 'FINANCIAL_HARDSHIP');
    const bigMessage = 'Nothing is left to write off: $1,234.56 paid and $1,265.44 written off.';
    expect((await line(big.lineId)).canWriteOff).toEqual({ allowed: false, code: 'NOTHING_TO_WRITE_OFF', message: bigMessage });
    await expectRefusal(big.patientId, attemptWriteOff(big.lineId, 500), { code: 'NOTHING_TO_WRITE_OFF', message: bigMessage }, () => line(big.lineId));
  });

  test('cancel, PR_FROM_REMITTANCE: remittance PR cannot be cancelled (checked before write-offs)', async () => {
    const patientId = await newPatient(server, manager);
    const { lineId } = await remittanceLine(server, manager, patientId, 8000);
    const expected = { allowed: false, code: 'PR_FROM_REMITTANCE', message: TOOLTIP.PR_FROM_REMITTANCE };
    expect((await line(lineId)).canCancel).toEqual(expected);
    // Remittance PR can be written off, though (any kind and origin).
    expect((await line(lineId)).canWriteOff.allowed).toBe(true);
    await expectRefusal(patientId, attemptCancel(lineId), { code: 'PR_FROM_REMITTANCE', message: TOOLTIP.PR_FROM_REMITTANCE }, () => line(lineId));
    await writeOff(lineId, 500);
    // First failure wins: it is from a remittance, whatever its write-offs.
    expect((await line(lineId)).canCancel).toEqual(expected);
    await expectRefusal(patientId, attemptCancel(lineId), { code: 'PR_FROM_REMITTANCE' }, () => line(lineId));
  });

  test('cancel, PR_HAS_WRITE_OFFS: the write-off must be removed first; once removed, cancelling is allowed', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const wo = await writeOff(lineId, 2500);
    expect((await line(lineId)).canCancel).toEqual({ allowed: false, code: 'PR_HAS_WRITE_OFFS', message: TOOLTIP.PR_HAS_WRITE_OFFS });
    await expectRefusal(patientId, attemptCancel(lineId), { code: 'PR_HAS_WRITE_OFFS', message: TOOLTIP.PR_HAS_WRITE_OFFS }, () => line(lineId));
    // A partial removal still leaves a write-off.
    await removeWriteOff(wo.id, 1000);
    expect((await line(lineId)).canCancel.code).toBe('PR_HAS_WRITE_OFFS');
    await removeWriteOff(wo.id);
    expect((await line(lineId)).canCancel).toEqual({ allowed: true, code: null, message: null });
  });

  test('cancel, PR_CANCELLED: a cancelled line cannot be cancelled again', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    await cancel(lineId);
    expect((await line(lineId)).canCancel).toEqual({ allowed: false, code: 'PR_CANCELLED', message: TOOLTIP.CANCEL_PR_CANCELLED });
    await expectRefusal(patientId, attemptCancel(lineId), { code: 'PR_CANCELLED', message: TOOLTIP.CANCEL_PR_CANCELLED }, () => line(lineId));
  });

  test('remove write-off, NOTHING_TO_REMOVE: a fully removed write-off (removed in two parts)', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const wo = await writeOff(lineId, 4000);
    await removeWriteOff(wo.id, 1500);
    const partly = await removeWriteOff(wo.id);
    expect(partly).toMatchObject({ amountCents: 4000, activeCents: 0 });
    expect(partly.canRemove).toEqual({ allowed: false, code: 'NOTHING_TO_REMOVE', message: TOOLTIP.NOTHING_TO_REMOVE });
    expect((await line(lineId)).writeOffs[0].canRemove).toEqual({ allowed: false, code: 'NOTHING_TO_REMOVE', message: TOOLTIP.NOTHING_TO_REMOVE });
    await expectRefusal(patientId, attemptRemove(wo.id), { code: 'NOTHING_TO_REMOVE', message: TOOLTIP.NOTHING_TO_REMOVE }, () => line(lineId));
    await expectRefusal(patientId, attemptRemove(wo.id, 100), { code: 'NOTHING_TO_REMOVE', message: TOOLTIP.NOTHING_TO_REMOVE }, () => line(lineId));
  });

  test('refund, NOTHING_TO_REFUND: a fully refunded payment (refunded in two parts)', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const paid = await pay(patientId, 6000, [{ responsibilityId: lineId, amountCents: 4000 }]);
    await attemptRefund(paid.id, 2500)();
    const second = await attemptRefund(paid.id)();
    expect(second.userErrors).toEqual([]);
    expect(second.payment).toMatchObject({ refundedCents: 6000, allocatedCents: 0, unallocatedCents: 0 });
    const expected = { allowed: false, code: 'NOTHING_TO_REFUND', message: TOOLTIP.NOTHING_TO_REFUND };
    expect(second.payment!.canRefund).toEqual(expected);
    expect((await payment(paid.id)).canRefund).toEqual(expected);
    await expectRefusal(patientId, attemptRefund(paid.id), { code: 'NOTHING_TO_REFUND', message: TOOLTIP.NOTHING_TO_REFUND }, () => payment(paid.id));
    await expectRefusal(patientId, attemptRefund(paid.id, 100), { code: 'NOTHING_TO_REFUND' }, () => payment(paid.id));
    await expectRefusal(patientId, attemptRefund(paid.id, undefined, 'ACCOUNT_CREDIT'), { code: 'NOTHING_TO_REFUND' }, () => payment(paid.id));
  });
});

// ---- the other refusal codes -------------------------------------------------------------------------------

describe('docs/design.md §2.5 other refusals: a userError with a code and the field at fault, and nothing changes', () => {
  test('NOT_FOUND: unknown ids and another practice ids answer exactly alike, for every mutation', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId, lineIds } = await newCharge(server, manager, patientId, [5000]);
    // Practice B has a full set of rows.
    const theirPatient = await newPatient(server, otherManager);
    const theirs = await newCharge(server, otherManager, theirPatient, [5000]);
    const theirPayment = (await server.ok(otherManager, RecordPaymentDocument, {
      input: { patientId: theirPatient, amountCents: 1000, method: 'CASH', allocations: [{ responsibilityId: theirs.lineIds[0], amountCents: 1000 }] },
    })).recordPayment.payment!.id;
    const theirWriteOff = (await server.ok(otherManager, WriteOffDocument, { input: { responsibilityId: theirs.lineIds[0], amountCents: 500, reason: 'SMALL_BALANCE' } })).writeOff.writeOff!.id;
    const theirBalance = await balance(theirPatient, otherManager);
    const unknown = '00000000-0000-4000-8000-000000000000';

    type Attempt = (id: string) => Promise<Refused>;
    const cases: { name: string; theirId: string; field: string[]; attempt: Attempt }[] = [
      {
        name: 'createCharge.patientId',
        theirId: theirPatient,
        field: ['input', 'patientId'],
        attempt: async (id) => (await server.ok(manager, CreateChargeDocument, { input: { patientId: id, serviceDate: '2026-10-02', procedureCode: '99213', billedCents: 1000, responsibilities: [] } })).createCharge,
      },
      {
        name: 'recordRemittance.chargeId',
        theirId: theirs.chargeId,
        field: ['input', 'chargeId'],
        attempt: async (id) => (await server.ok(manager, RecordRemittanceDocument, { input: { chargeId: id, remittanceId: 'ERA-NF', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }] } })).recordRemittance,
      },
      {
        name: 'recordPayment.patientId',
        theirId: theirPatient,
        field: ['input', 'patientId'],
        attempt: async (id) => (await server.ok(manager, RecordPaymentDocument, { input: { patientId: id, amountCents: 100, method: 'CASH' } })).recordPayment,
      },
      {
        name: 'recordPayment.allocations.responsibilityId',
        theirId: theirs.lineIds[0],
        field: ['input', 'allocations', '0', 'responsibilityId'],
        attempt: async (id) => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 100, method: 'CASH', allocations: [{ responsibilityId: id, amountCents: 100 }] } })).recordPayment,
      },
      {
        name: 'recordPayment.chargeId',
        theirId: theirs.chargeId,
        field: ['input', 'chargeId'],
        attempt: async (id) => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 100, method: 'CASH', purpose: 'COPAY', chargeId: id } })).recordPayment,
      },
      {
        name: 'refundPayment.paymentId',
        theirId: theirPayment,
        field: ['input', 'paymentId'],
        attempt: async (id) => (await server.ok(manager, RefundPaymentDocument, { input: { paymentId: id, method: 'ORIGINAL_CARD', reason: 'x' } })).refundPayment,
      },
      {
        name: 'writeOff.responsibilityId',
        theirId: theirs.lineIds[0],
        field: ['input', 'responsibilityId'],
        attempt: async (id) => (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: id, amountCents: 100, reason: 'SMALL_BALANCE' } })).writeOff,
      },
      {
        name: 'removeWriteOff.writeOffId',
        theirId: theirWriteOff,
        field: ['input', 'writeOffId'],
        attempt: async (id) => (await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: id, reason: 'x' } })).removeWriteOff,
      },
      {
        name: 'cancelPR.responsibilityId',
        theirId: theirs.lineIds[0],
        field: ['input', 'responsibilityId'],
        attempt: async (id) => (await server.ok(manager, CancelPrDocument, { input: { responsibilityId: id, reason: 'x' } })).cancelPR,
      },
    ];
    for (const c of cases) {
      const forUnknown = await expectRefusal(patientId, () => c.attempt(unknown), { code: 'NOT_FOUND', field: c.field });
      const forTheirs = await expectRefusal(patientId, () => c.attempt(c.theirId), { code: 'NOT_FOUND', field: c.field });
      expect({ case: c.name, error: forTheirs }).toEqual({ case: c.name, error: forUnknown });
    }
    // Another patient's line or charge in the same practice cannot be paid through this patient either.
    const neighbour = await newPatient(server, manager);
    const neighbours = await newCharge(server, manager, neighbour, [3000]);
    const neighbourBalance = await balance(neighbour);
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 100, method: 'CASH', allocations: [{ responsibilityId: neighbours.lineIds[0], amountCents: 100 }] } })).recordPayment,
      { code: 'NOT_FOUND', field: ['input', 'allocations', '0', 'responsibilityId'] },
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 100, method: 'CASH', purpose: 'SELF_PAY', chargeId: neighbours.chargeId } })).recordPayment,
      { code: 'NOT_FOUND', field: ['input', 'chargeId'] },
    );
    expect(await balance(neighbour)).toEqual(neighbourBalance);
    // Practice B's rows were not touched by any of it.
    expect(await balance(theirPatient, otherManager)).toEqual(theirBalance);
    expect((await line(theirs.lineIds[0], otherManager)).writtenOffCents).toBe(500);
    // And practice A's own rows were not touched either.
    expect((await line(lineIds[0])).openCents).toBe(5000);
    expect(chargeId).toBeTruthy();
  });

  test('INVALID_AMOUNT: zero or negative amounts, each naming its field', async () => {
    const { patientId, chargeId, lineId } = await staffLine(10_000);
    const wo = await writeOff(lineId, 1000);
    const paid = await pay(patientId, 2000, [{ responsibilityId: lineId, amountCents: 1000 }]);
    const state = () => line(lineId);
    await expectRefusal(patientId, attemptWriteOff(lineId, 0), { code: 'INVALID_AMOUNT', field: ['input', 'amountCents'] }, state);
    await expectRefusal(patientId, attemptWriteOff(lineId, -500), { code: 'INVALID_AMOUNT', field: ['input', 'amountCents'] }, state);
    await expectRefusal(patientId, attemptRemove(wo.id, 0), { code: 'INVALID_AMOUNT', field: ['input', 'amountCents'] }, state);
    await expectRefusal(patientId, attemptRefund(paid.id, -1), { code: 'INVALID_AMOUNT', field: ['input', 'amountCents'] }, () => payment(paid.id));
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 0, method: 'CASH' } })).recordPayment,
      { code: 'INVALID_AMOUNT', field: ['input', 'amountCents'] },
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 500, method: 'CASH', allocations: [{ responsibilityId: lineId, amountCents: 0 }] } })).recordPayment,
      { code: 'INVALID_AMOUNT', field: ['input', 'allocations', '0', 'amountCents'] },
      state,
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, CreateChargeDocument, { input: { patientId, serviceDate: '2026-10-02', procedureCode: '99213', billedCents: -100, responsibilities: [] } })).createCharge,
      { code: 'INVALID_AMOUNT', field: ['input', 'billedCents'] },
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, CreateChargeDocument, { input: { patientId, serviceDate: '2026-10-02', procedureCode: '99213', billedCents: 1000, responsibilities: [{ kind: 'COPAY', amountCents: 0 }] } })).createCharge,
      { code: 'INVALID_AMOUNT', field: ['input', 'responsibilities', '0', 'amountCents'] },
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-0', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 0 }] } })).recordRemittance,
      { code: 'INVALID_AMOUNT', field: ['input', 'adjustments', '0', 'amountCents'] },
    );
  });

  test('WRITE_OFF_EXCEEDS_OPEN: at most what is open; exactly what is open is fine', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    await pay(patientId, 3000, [{ responsibilityId: lineId, amountCents: 3000 }]);
    await writeOff(lineId, 2000);
    await expectRefusal(patientId, attemptWriteOff(lineId, 5001), { code: 'WRITE_OFF_EXCEEDS_OPEN', message: /\$50\.00/, field: ['input', 'amountCents'] }, () => line(lineId));
    const exact = await attemptWriteOff(lineId, 5000)();
    expect(exact.userErrors).toEqual([]);
    expect(exact.responsibility).toMatchObject({ openCents: 0, writtenOffCents: 7000 });
  });

  test('REMOVAL_EXCEEDS_ACTIVE: at most what is still written off', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const wo = await writeOff(lineId, 5000);
    await removeWriteOff(wo.id, 2000);
    await expectRefusal(patientId, attemptRemove(wo.id, 3001), { code: 'REMOVAL_EXCEEDS_ACTIVE', message: /\$30\.00/, field: ['input', 'amountCents'] }, () => line(lineId));
  });

  test('ALLOCATION_EXCEEDS_OPEN and ALLOCATIONS_EXCEED_PAYMENT', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const other = (await newCharge(server, manager, patientId, [2000])).lineIds[0];
    await writeOff(lineId, 4000);
    const state = async () => [await line(lineId), await line(other)];
    const record = (amountCents: number, allocations: { responsibilityId: string; amountCents: number }[]) => async () =>
      (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents, method: 'CHECK', allocations } })).recordPayment;
    await expectRefusal(patientId, record(9000, [{ responsibilityId: lineId, amountCents: 6001 }]), { code: 'ALLOCATION_EXCEEDS_OPEN', field: ['input', 'allocations', '0', 'amountCents'] }, state);
    // Two allocations to one line count together.
    await expectRefusal(
      patientId,
      record(9000, [
        { responsibilityId: other, amountCents: 500 },
        { responsibilityId: lineId, amountCents: 3000 },
        { responsibilityId: lineId, amountCents: 3001 },
      ]),
      { code: 'ALLOCATION_EXCEEDS_OPEN', field: ['input', 'allocations', '2', 'amountCents'] },
      state,
    );
    await expectRefusal(
      patientId,
      record(5000, [
        { responsibilityId: lineId, amountCents: 4000 },
        { responsibilityId: other, amountCents: 1001 },
      ]),
      { code: 'ALLOCATIONS_EXCEED_PAYMENT', message: /\$50\.01.*\$50\.00/, field: ['input', 'allocations'] },
      state,
    );
  });

  test('REFUND_EXCEEDS_REFUNDABLE: money back is limited to amount − refunded; ACCOUNT_CREDIT to what is allocated', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const paid = await pay(patientId, 5000, [{ responsibilityId: lineId, amountCents: 2000 }]);
    await attemptRefund(paid.id, 1000)();
    const state = () => payment(paid.id);
    await expectRefusal(patientId, attemptRefund(paid.id, 4001), { code: 'REFUND_EXCEEDS_REFUNDABLE', message: /\$40\.00/, field: ['input', 'amountCents'] }, state);
    await expectRefusal(patientId, attemptRefund(paid.id, 2001, 'ACCOUNT_CREDIT'), { code: 'REFUND_EXCEEDS_REFUNDABLE', message: /\$20\.00/, field: ['input', 'amountCents'] }, state);
  });

  test('PR_EXCEEDS_CHARGE: active PR never adds up to more than the billed amount', async () => {
    const { patientId, chargeId, lineId } = await staffLine(1000); // billed $100.00, one line of $10.00
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, CreateChargeDocument, {
        input: { patientId, serviceDate: '2026-10-03', procedureCode: '99213', billedCents: 1000, responsibilities: [{ kind: 'COPAY', amountCents: 600 }, { kind: 'CUSTOM', amountCents: 401 }] },
      })).createCharge,
      { code: 'PR_EXCEEDS_CHARGE', message: /\$10\.00/, field: ['input', 'responsibilities'] },
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-BIG', adjustments: [{ groupCode: 'PR', reasonCode: '1', amountCents: 9001 }] } })).recordRemittance,
      { code: 'PR_EXCEEDS_CHARGE', message: /\$100\.00/, field: ['input', 'adjustments'] },
      () => server.ok(manager, ResponsibilityDocument, { id: lineId }),
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 9001, method: 'CASH', purpose: 'SELF_PAY', chargeId } })).recordPayment,
      { code: 'PR_EXCEEDS_CHARGE', field: ['input', 'amountCents'] },
    );
  });

  test('CHARGE_REQUIRED: up-front and self-pay payments need the charge', async () => {
    const patientId = await newPatient(server, manager);
    for (const purpose of ['COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'SELF_PAY'] as const) {
      await expectRefusal(
        patientId,
        async () => (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 2500, method: 'CARD', purpose } })).recordPayment,
        { code: 'CHARGE_REQUIRED', field: ['input', 'chargeId'] },
      );
    }
  });

  test('CUSTOM_REASON_REQUIRED and CUSTOM_REASON_NOT_ALLOWED', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const state = () => line(lineId);
    await expectRefusal(patientId, attemptWriteOff(lineId, 100, { reason: 'OTHER' }), { code: 'CUSTOM_REASON_REQUIRED', field: ['input', 'customReason'] }, state);
    await expectRefusal(patientId, attemptWriteOff(lineId, 100, { reason: 'OTHER', customReason: '   ' }), { code: 'CUSTOM_REASON_REQUIRED', field: ['input', 'customReason'] }, state);
    await expectRefusal(patientId, attemptWriteOff(lineId, 100, { reason: 'BAD_DEBT', customReason: 'Because' }), { code: 'CUSTOM_REASON_NOT_ALLOWED', field: ['input', 'customReason'] }, state);
    const accepted = await attemptWriteOff(lineId, 100, { reason: 'OTHER', customReason: '  Goodwill after a long wait  ' })();
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.writeOff).toMatchObject({ reason: 'OTHER', customReason: 'Goodwill after a long wait' });
  });

  test('INVALID_TEXT: blank, control characters, too long', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const wo = await writeOff(lineId, 1000);
    const cancellable = (await newCharge(server, manager, patientId, [700])).lineIds[0];
    const paid = await pay(patientId, 500);
    const state = async () => [await line(lineId), await line(cancellable), await payment(paid.id)];
    await expectRefusal(patientId, attemptCancel(cancellable, '   '), { code: 'INVALID_TEXT', field: ['input', 'reason'] }, state);
    await expectRefusal(patientId, attemptCancel(cancellable, 'tab\tinside'), { code: 'INVALID_TEXT', field: ['input', 'reason'] }, state);
    await expectRefusal(patientId, attemptRemove(wo.id, undefined, 'bad\u0007bell'), { code: 'INVALID_TEXT', field: ['input', 'reason'] }, state);
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RefundPaymentDocument, { input: { paymentId: paid.id, method: 'ORIGINAL_CARD', reason: 'r'.repeat(256) } })).refundPayment,
      { code: 'INVALID_TEXT', field: ['input', 'reason'] },
      state,
    );
    await expectRefusal(patientId, attemptWriteOff(lineId, 100, { note: 'n'.repeat(1001) }), { code: 'INVALID_TEXT', field: ['input', 'note'] }, state);
    await expectRefusal(patientId, attemptWriteOff(lineId, 100, { reason: 'OTHER', customReason: 'c'.repeat(256) }), { code: 'INVALID_TEXT', field: ['input', 'customReason'] }, state);
    const created = await server.ok(manager, CreatePatientDocument, { input: { firstName: '\u0000', lastName: 'Nul' } });
    expect(created.createPatient.patient).toBeNull();
    expect(created.createPatient.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_TEXT', field: ['input', 'firstName'] })]);
  });

  test('DUPLICATE_REMITTANCE: a remittance id is recorded once per charge', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, patientId, [], 50_000);
    const first = await server.ok(manager, RecordRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-DUP-1', adjustments: [{ groupCode: 'PR', reasonCode: '3', amountCents: 2000 }] } });
    expect(first.recordRemittance.userErrors).toEqual([]);
    const chargeState = () => server.ok(manager, ResponsibilityDocument, { id: first.recordRemittance.charge!.responsibilities[0].id });
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-DUP-1', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 1000 }] } })).recordRemittance,
      { code: 'DUPLICATE_REMITTANCE', message: /ERA-DUP-1/, field: ['input', 'remittanceId'] },
      chargeState,
    );
    // Surrounding whitespace does not make it a different remittance.
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, RecordRemittanceDocument, { input: { chargeId, remittanceId: '  ERA-DUP-1 ', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 1000 }] } })).recordRemittance,
      { code: 'DUPLICATE_REMITTANCE', field: ['input', 'remittanceId'] },
    );
  });

  test('IDEMPOTENCY_KEY_REUSED: the same key with a different input or operation', async () => {
    const { patientId, lineId } = await staffLine(10_000);
    const first = await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineId, amountCents: 1000, reason: 'SMALL_BALANCE', idempotencyKey: 'key-reused-1' } });
    expect(first.writeOff.userErrors).toEqual([]);
    const state = () => line(lineId);
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineId, amountCents: 1001, reason: 'SMALL_BALANCE', idempotencyKey: 'key-reused-1' } })).writeOff,
      { code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] },
      state,
    );
    await expectRefusal(
      patientId,
      async () => (await server.ok(manager, CancelPrDocument, { input: { responsibilityId: lineId, reason: 'x', idempotencyKey: 'key-reused-1' } })).cancelPR,
      { code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] },
      state,
    );
  });
});
