/**
 * Ledger flows of docs/design.md §2 over real HTTP: payments, allocations and credit; refunds of both kinds; up-front and
 * self-pay lines; cancellation; remittances superseding estimates; pagination and search; practice isolation.
 */
import {
  BalanceDocument,
  BalanceFieldsFragment,
  CancelPrDocument,
  ChargeDocument,
  CreateChargeDocument,
  CreatePatientDocument,
  PatientChargesDocument,
  PatientDocument,
  PatientsDocument,
  PaymentDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  ResponsibilityDocument,
  WriteOffDocument,
  WriteOffReasonsDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller } from '../harness';
import { newCharge, newPatient, remittanceLine } from '../fixtures';

let server: TestServer;
let manager: Caller;

beforeAll(async () => {
  server = await startTestServer();
  manager = await server.caller('BILLING_MANAGER');
});
afterAll(() => server.stop());

/** §2.6: outstanding is Σ open; credit is beside it, never netted in. */
function expectConsistent(b: BalanceFieldsFragment) {
  expect(b.outstandingCents).toBe(b.responsibilityCents - b.paidCents - b.writtenOffCents);
  expect(b.outstandingCents).toBeGreaterThanOrEqual(0);
  expect(b.creditCents).toBeGreaterThanOrEqual(0);
}

async function balance(patientId: string, caller: Caller = manager) {
  const b = (await server.ok(caller, BalanceDocument, { id: patientId })).patient!.balance;
  expectConsistent(b);
  return b;
}
async function line(id: string, caller: Caller = manager) {
  return (await server.ok(caller, ResponsibilityDocument, { id })).responsibility!;
}
async function payment(id: string, caller: Caller = manager) {
  return (await server.ok(caller, PaymentDocument, { id })).payment!;
}
async function charge(id: string, caller: Caller = manager) {
  return (await server.ok(caller, ChargeDocument, { id })).charge!;
}
async function pay(input: Parameters<typeof recordPayment>[0]) {
  const result = await recordPayment(input);
  expect(result.userErrors).toEqual([]);
  expectConsistent(result.balance!);
  return result;
}
async function recordPayment(input: {
  patientId: string;
  amountCents: number;
  method?: 'CASH' | 'CARD' | 'CHECK' | 'OTHER';
  purpose?: 'BALANCE' | 'COPAY' | 'COINSURANCE' | 'DEDUCTIBLE' | 'SELF_PAY';
  chargeId?: string;
  allocations?: { responsibilityId: string; amountCents: number }[];
}) {
  return (await server.ok(manager, RecordPaymentDocument, { input: { method: 'CARD', ...input } })).recordPayment;
}
async function refund(paymentId: string, method: 'ACCOUNT_CREDIT' | 'ORIGINAL_CARD' | 'EXTERNAL_CASH_OR_CARD' | 'EXTERNAL_CHECK', amountCents?: number) {
  const result = (await server.ok(manager, RefundPaymentDocument, { input: { paymentId, method, amountCents, reason: 'Patient request' } })).refundPayment;
  expect(result.userErrors).toEqual([]);
  expectConsistent(result.balance!);
  return result;
}
const allocationsOf = (p: { allocations: { amountCents: number; responsibility: { id: string } }[] }) =>
  Object.fromEntries(p.allocations.map((a) => [a.responsibility.id, a.amountCents]));

describe('payments, allocations and credit (§2.2)', () => {
  test('unallocated money is credit, reported beside outstanding and never netted into it', async () => {
    const patientId = await newPatient(server, manager);
    const a = (await newCharge(server, manager, patientId, [10_000])).lineIds[0];
    const b = (await newCharge(server, manager, patientId, [5000])).lineIds[0];

    const first = await pay({ patientId, amountCents: 20_000, allocations: [{ responsibilityId: a, amountCents: 6000 }, { responsibilityId: b, amountCents: 5000 }] });
    expect(first.payment).toMatchObject({ amountCents: 20_000, allocatedCents: 11_000, unallocatedCents: 9000, refundedCents: 0, purpose: 'BALANCE' });
    expect(allocationsOf(first.payment!)).toEqual({ [a]: 6000, [b]: 5000 });
    expect(first.balance).toMatchObject({ responsibilityCents: 15_000, paidCents: 11_000, writtenOffCents: 0, outstandingCents: 4000, creditCents: 9000, version: 3 });
    expect(await line(a)).toMatchObject({ paidCents: 6000, openCents: 4000 });
    expect((await line(b)).canWriteOff.code).toBe('PR_ALREADY_PAID');

    // A payment with no allocations is all credit: outstanding does not move.
    const second = await pay({ patientId, amountCents: 2500, method: 'CASH' });
    expect(second.payment).toMatchObject({ allocatedCents: 0, unallocatedCents: 2500 });
    expect(second.balance).toMatchObject({ outstandingCents: 4000, creditCents: 11_500, version: 4 });

    // Writing off does not touch credit.
    const wo = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: a, amountCents: 1000, reason: 'SMALL_BALANCE' } })).writeOff;
    expect(wo.balance).toMatchObject({ outstandingCents: 3000, writtenOffCents: 1000, creditCents: 11_500, version: 5 });

    // Several allocations to one line add up.
    const third = await pay({ patientId, amountCents: 3000, allocations: [{ responsibilityId: a, amountCents: 1000 }, { responsibilityId: a, amountCents: 2000 }] });
    expect(third.payment).toMatchObject({ allocatedCents: 3000, unallocatedCents: 0 });
    expect(await line(a)).toMatchObject({ paidCents: 9000, writtenOffCents: 1000, openCents: 0 });
    expect(await balance(patientId)).toMatchObject({ outstandingCents: 0, creditCents: 11_500 });
  });

  test('ACCOUNT_CREDIT refund moves money off lines newest first into credit; refundedCents unchanged', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [4000, 6000]);
    const [older, newer] = lineIds;
    const paid = await pay({ patientId, amountCents: 8000, allocations: [{ responsibilityId: older, amountCents: 3000 }, { responsibilityId: newer, amountCents: 5000 }] });
    expect(paid.balance).toMatchObject({ outstandingCents: 2000, creditCents: 0 });

    const moved = await refund(paid.payment!.id, 'ACCOUNT_CREDIT', 6000);
    expect(moved.refund).toMatchObject({ amountCents: 6000, method: 'ACCOUNT_CREDIT' });
    // $50 off the newest allocation first, then $10 off the older one.
    expect(moved.payment).toMatchObject({ amountCents: 8000, refundedCents: 0, allocatedCents: 2000, unallocatedCents: 6000 });
    expect(allocationsOf(moved.payment!)).toEqual({ [older]: 2000 });
    expect(await line(newer)).toMatchObject({ paidCents: 0, openCents: 6000 });
    expect(await line(older)).toMatchObject({ paidCents: 2000, openCents: 2000 });
    expect(moved.balance).toMatchObject({ outstandingCents: 8000, creditCents: 6000, paidCents: 2000 });
    expect(moved.payment!.canRefund.allowed).toBe(true);

    // What is left on lines can still move; more cannot.
    const tooMuch = (await server.ok(manager, RefundPaymentDocument, { input: { paymentId: paid.payment!.id, method: 'ACCOUNT_CREDIT', amountCents: 2001, reason: 'x' } })).refundPayment;
    expect(tooMuch.userErrors.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_REFUNDABLE']);

    // Then a money-returning refund of everything: the credit first, then the rest off the line.
    const back = await refund(paid.payment!.id, 'EXTERNAL_CHECK');
    expect(back.refund).toMatchObject({ amountCents: 8000, method: 'EXTERNAL_CHECK' });
    expect(back.payment).toMatchObject({ refundedCents: 8000, allocatedCents: 0, unallocatedCents: 0 });
    expect(back.payment!.canRefund.code).toBe('NOTHING_TO_REFUND');
    expect(back.balance).toMatchObject({ outstandingCents: 10_000, creditCents: 0, paidCents: 0 });
    expect((await payment(paid.payment!.id)).refunds.map((r) => [r.method, r.amountCents])).toEqual([
      ['ACCOUNT_CREDIT', 6000],
      ['EXTERNAL_CHECK', 8000],
    ]);
  });

  test('money-returning refunds take unallocated money first, then allocations; refundedCents grows', async () => {
    const patientId = await newPatient(server, manager);
    const lineId = (await newCharge(server, manager, patientId, [10_000])).lineIds[0];
    const paid = await pay({ patientId, amountCents: 10_000, allocations: [{ responsibilityId: lineId, amountCents: 7000 }] });
    expect(paid.balance).toMatchObject({ outstandingCents: 3000, creditCents: 3000 });

    const fromCredit = await refund(paid.payment!.id, 'ORIGINAL_CARD', 2000);
    expect(fromCredit.payment).toMatchObject({ refundedCents: 2000, allocatedCents: 7000, unallocatedCents: 1000 });
    expect(fromCredit.balance).toMatchObject({ outstandingCents: 3000, creditCents: 1000 });
    expect((await line(lineId)).paidCents).toBe(7000);

    const spills = await refund(paid.payment!.id, 'EXTERNAL_CASH_OR_CARD', 3000);
    expect(spills.payment).toMatchObject({ refundedCents: 5000, allocatedCents: 5000, unallocatedCents: 0 });
    // A refund never removes PR: the line reopens by what was taken off it.
    expect(await line(lineId)).toMatchObject({ amountCents: 10_000, paidCents: 5000, openCents: 5000, status: 'ACTIVE' });
    expect(spills.balance).toMatchObject({ responsibilityCents: 10_000, outstandingCents: 5000, creditCents: 0 });

    const over = (await server.ok(manager, RefundPaymentDocument, { input: { paymentId: paid.payment!.id, method: 'ORIGINAL_CARD', amountCents: 5001, reason: 'x' } })).refundPayment;
    expect(over.userErrors.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_REFUNDABLE']);
  });
});

describe('lines created by payments, and cancellation (§2.2, §2.4)', () => {
  test('an up-front COPAY creates an ESTIMATED line fully paid by it; outstanding unchanged', async () => {
    const patientId = await newPatient(server, manager);
    await newCharge(server, manager, patientId, [1200]);
    const { chargeId } = await newCharge(server, manager, patientId, [], 30_000);
    const before = await balance(patientId);

    const copay = await pay({ patientId, amountCents: 2500, purpose: 'COPAY', chargeId, method: 'CASH' });
    const lineId = copay.payment!.allocations[0].responsibility.id;
    expect(copay.payment).toMatchObject({ amountCents: 2500, purpose: 'COPAY', allocatedCents: 2500, unallocatedCents: 0 });
    expect(await line(lineId)).toMatchObject({ kind: 'COPAY', origin: 'ESTIMATED', status: 'ACTIVE', amountCents: 2500, paidCents: 2500, openCents: 0 });
    expect((await line(lineId)).canCancel.allowed).toBe(true);
    expect(copay.balance).toMatchObject({
      outstandingCents: before.outstandingCents,
      responsibilityCents: before.responsibilityCents + 2500,
      paidCents: before.paidCents + 2500,
      creditCents: 0,
      version: before.version + 1,
    });
    expect((await charge(chargeId)).responsibilities.map((r) => r.id)).toEqual([lineId]);

    for (const purpose of ['COINSURANCE', 'DEDUCTIBLE', 'SELF_PAY'] as const) {
      const made = await pay({ patientId, amountCents: 1000, purpose, chargeId });
      const created = await line(made.payment!.allocations[0].responsibility.id);
      expect(created).toMatchObject({ kind: purpose, origin: purpose === 'SELF_PAY' ? 'SELF_PAY' : 'ESTIMATED', amountCents: 1000, paidCents: 1000, openCents: 0 });
      expect(made.balance!.outstandingCents).toBe(before.outstandingCents);
    }
    expect((await charge(chargeId)).openCents).toBe(0);
  });

  test('cancelling a line releases its payments to credit; the payment itself is untouched', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId, lineIds } = await newCharge(server, manager, patientId, [8000, 2000], 10_000);
    // The charge is full: no more PR fits on it.
    expect((await recordPayment({ patientId, amountCents: 1, purpose: 'SELF_PAY', chargeId })).userErrors.map((e) => e.code)).toEqual(['PR_EXCEEDS_CHARGE']);
    const paid = await pay({ patientId, amountCents: 6000, allocations: [{ responsibilityId: lineIds[0], amountCents: 5000 }, { responsibilityId: lineIds[1], amountCents: 1000 }] });
    expect(paid.balance).toMatchObject({ outstandingCents: 4000, creditCents: 0 });

    const cancelled = (await server.ok(manager, CancelPrDocument, { input: { responsibilityId: lineIds[0], reason: '  Duplicate entry  ' } })).cancelPR;
    expect(cancelled.userErrors).toEqual([]);
    expect(cancelled.responsibility).toMatchObject({ status: 'CANCELLED', cancelReason: 'Duplicate entry', paidCents: 0, writtenOffCents: 0, openCents: 0 });
    expect(cancelled.responsibility!.canWriteOff.code).toBe('PR_CANCELLED');
    expect(cancelled.balance).toMatchObject({ responsibilityCents: 2000, paidCents: 1000, outstandingCents: 1000, creditCents: 5000, version: paid.balance!.version + 1 });
    const after = await payment(paid.payment!.id);
    expect(after).toMatchObject({ amountCents: 6000, refundedCents: 0, allocatedCents: 1000, unallocatedCents: 5000 });
    expect(allocationsOf(after)).toEqual({ [lineIds[1]]: 1000 });
    expect(after.refunds).toEqual([]);
    // The charge keeps the cancelled line but counts only the active one.
    const c = await charge(chargeId);
    expect(c.responsibilities.map((r) => r.status)).toEqual(['CANCELLED', 'ACTIVE']);
    expect(c.openCents).toBe(1000);
    // A cancelled line accepts nothing more.
    const onCancelled = await recordPayment({ patientId, amountCents: 100, allocations: [{ responsibilityId: lineIds[0], amountCents: 100 }] });
    expect(onCancelled.userErrors.map((e) => e.code)).toEqual(['ALLOCATION_EXCEEDS_OPEN']);
    // Its room on the charge is free again: new PR up to the billed amount fits, not a cent more.
    expect((await recordPayment({ patientId, amountCents: 8001, purpose: 'SELF_PAY', chargeId })).userErrors.map((e) => e.code)).toEqual(['PR_EXCEEDS_CHARGE']);
    const selfPay = await pay({ patientId, amountCents: 8000, purpose: 'SELF_PAY', chargeId });
    expect(selfPay.balance).toMatchObject({ responsibilityCents: 10_000, outstandingCents: 1000, creditCents: 5000 });
  });
});

describe('remittances (§2.8)', () => {
  test('a remittance supersedes ESTIMATED lines: same kind first, then any line of the charge, the rest becomes credit', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId, lineIds } = await newCharge(server, manager, patientId, [500], 50_000);
    const staff = lineIds[0];
    const copay = await pay({ patientId, amountCents: 3000, purpose: 'COPAY', chargeId });
    const coins = await pay({ patientId, amountCents: 4000, purpose: 'COINSURANCE', chargeId });
    const estCopay = copay.payment!.allocations[0].responsibility.id;
    const estCoins = coins.payment!.allocations[0].responsibility.id;
    const before = await balance(patientId);
    expect(before).toMatchObject({ responsibilityCents: 7500, paidCents: 7000, outstandingCents: 500, creditCents: 0 });

    const result = (await server.ok(manager, RecordRemittanceDocument, {
      input: {
        chargeId,
        remittanceId: 'ERA-SUPERSEDE',
        adjustments: [
          { groupCode: 'PR', reasonCode: '2', amountCents: 2500 },
          { groupCode: 'PR', reasonCode: '3', amountCents: 2000 },
          { groupCode: 'CO', reasonCode: '45', amountCents: 10_000 },
        ],
      },
    })).recordRemittance;
    expect(result.userErrors).toEqual([]);
    const lines = result.charge!.responsibilities;
    // Oldest first: the staff line, the two estimates (now cancelled), then one REMITTANCE line per PR adjustment.
    expect(lines.map((l) => [l.origin, l.kind, l.status])).toEqual([
      ['STAFF', 'CUSTOM', 'ACTIVE'],
      ['ESTIMATED', 'COPAY', 'CANCELLED'],
      ['ESTIMATED', 'COINSURANCE', 'CANCELLED'],
      ['REMITTANCE', 'COINSURANCE', 'ACTIVE'],
      ['REMITTANCE', 'COPAY', 'ACTIVE'],
    ]);
    for (const est of [estCopay, estCoins]) {
      expect(await line(est)).toMatchObject({ status: 'CANCELLED', cancelReason: 'superseded by remittance', paidCents: 0, openCents: 0 });
    }
    const remitCoins = lines[3];
    const remitCopay = lines[4];
    expect(remitCoins).toMatchObject({ amountCents: 2500, reasonCode: '2' });
    expect(remitCopay).toMatchObject({ amountCents: 2000, reasonCode: '3' });
    expect(remitCopay.canCancel.code).toBe('PR_FROM_REMITTANCE');

    // The copay payment ($30) goes to the COPAY line first ($20), then $10 to the coinsurance line.
    // The coinsurance payment ($40) fills the coinsurance line ($15), then the staff line ($5); $20 is left as credit.
    expect(allocationsOf(await payment(copay.payment!.id))).toEqual({ [remitCopay.id]: 2000, [remitCoins.id]: 1000 });
    const coinsNow = await payment(coins.payment!.id);
    expect(allocationsOf(coinsNow)).toEqual({ [remitCoins.id]: 1500, [staff]: 500 });
    expect(coinsNow).toMatchObject({ amountCents: 4000, allocatedCents: 2000, unallocatedCents: 2000, refundedCents: 0 });
    expect(await line(remitCopay.id)).toMatchObject({ paidCents: 2000, openCents: 0 });
    expect(await line(remitCoins.id)).toMatchObject({ paidCents: 2500, openCents: 0 });
    expect(await line(staff)).toMatchObject({ paidCents: 500, openCents: 0 });
    expect(result.balance).toMatchObject({ responsibilityCents: 5000, paidCents: 5000, outstandingCents: 0, creditCents: 2000, version: before.version + 1 });
  });

  test('a smaller remittance: what does not fit the new line becomes credit', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, patientId, [], 20_000);
    const copay = await pay({ patientId, amountCents: 3000, purpose: 'COPAY', chargeId });
    const result = (await server.ok(manager, RecordRemittanceDocument, {
      input: { chargeId, remittanceId: 'ERA-SMALL', adjustments: [{ groupCode: 'PR', reasonCode: '3', amountCents: 2000 }] },
    })).recordRemittance;
    expect(result.userErrors).toEqual([]);
    const remit = result.charge!.responsibilities.find((l) => l.origin === 'REMITTANCE')!;
    expect(remit).toMatchObject({ kind: 'COPAY', amountCents: 2000, paidCents: 2000 });
    expect(await payment(copay.payment!.id)).toMatchObject({ allocatedCents: 2000, unallocatedCents: 1000 });
    expect(result.balance).toMatchObject({ responsibilityCents: 2000, outstandingCents: 0, creditCents: 1000 });
  });

  test('a superseded estimate with a write-off: the write-off is reversed, its payment moves, its credit stays credit', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, patientId, [], 20_000);
    const copay = await pay({ patientId, amountCents: 3000, purpose: 'COPAY', chargeId });
    const estimate = copay.payment!.allocations[0].responsibility.id;
    // Move $10 of it to credit; the estimate reopens by $10, which is then written off.
    await refund(copay.payment!.id, 'ACCOUNT_CREDIT', 1000);
    const wo = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: estimate, amountCents: 1000, reason: 'PROMPT_PAY_DISCOUNT' } })).writeOff;
    expect(wo.responsibility).toMatchObject({ paidCents: 2000, writtenOffCents: 1000, openCents: 0 });
    expect(wo.balance).toMatchObject({ outstandingCents: 0, creditCents: 1000 });

    const result = (await server.ok(manager, RecordRemittanceDocument, {
      input: { chargeId, remittanceId: 'ERA-WO', adjustments: [{ groupCode: 'PR', reasonCode: '3', amountCents: 2500 }] },
    })).recordRemittance;
    expect(result.userErrors).toEqual([]);
    const est = await line(estimate);
    expect(est).toMatchObject({ status: 'CANCELLED', cancelReason: 'superseded by remittance', paidCents: 0, writtenOffCents: 0 });
    expect(est.writeOffs[0]).toMatchObject({ amountCents: 1000, activeCents: 0 });
    expect(est.writeOffs[0].canRemove.code).toBe('NOTHING_TO_REMOVE');
    const remit = result.charge!.responsibilities.find((l) => l.origin === 'REMITTANCE')!;
    expect(await line(remit.id)).toMatchObject({ kind: 'COPAY', amountCents: 2500, paidCents: 2000, writtenOffCents: 0, openCents: 500 });
    expect(await payment(copay.payment!.id)).toMatchObject({ amountCents: 3000, allocatedCents: 2000, unallocatedCents: 1000, refundedCents: 0 });
    expect(result.balance).toMatchObject({ responsibilityCents: 2500, paidCents: 2000, writtenOffCents: 0, outstandingCents: 500, creditCents: 1000 });
  });

  test('non-PR groups (CO, OA, PI) create no PR; reason codes map to kinds', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, patientId, [], 50_000);
    const before = await balance(patientId);
    const none = (await server.ok(manager, RecordRemittanceDocument, {
      input: {
        chargeId,
        remittanceId: 'ERA-CO',
        adjustments: [
          { groupCode: 'CO', reasonCode: '45', amountCents: 10_000 },
          { groupCode: 'OA', reasonCode: '23', amountCents: 5000 },
          { groupCode: 'PI', reasonCode: '1', amountCents: 1000 },
        ],
      },
    })).recordRemittance;
    expect(none.userErrors).toEqual([]);
    expect(none.charge!.responsibilities).toEqual([]);
    expect(none.balance).toMatchObject({ responsibilityCents: before.responsibilityCents, outstandingCents: before.outstandingCents });

    const { chargeId: other } = await newCharge(server, manager, patientId, [], 50_000);
    const kinds = (await server.ok(manager, RecordRemittanceDocument, {
      input: {
        chargeId: other,
        remittanceId: 'ERA-KINDS',
        adjustments: ['1', '2', '3', '96', '204', '45'].map((reasonCode) => ({ groupCode: 'PR', reasonCode, amountCents: 100 })),
      },
    })).recordRemittance;
    expect(kinds.userErrors).toEqual([]);
    expect(kinds.charge!.responsibilities.map((l) => [l.reasonCode, l.kind, l.origin])).toEqual([
      ['1', 'DEDUCTIBLE', 'REMITTANCE'],
      ['2', 'COINSURANCE', 'REMITTANCE'],
      ['3', 'COPAY', 'REMITTANCE'],
      ['96', 'NON_COVERED', 'REMITTANCE'],
      ['204', 'NON_COVERED', 'REMITTANCE'],
      ['45', 'OTHER', 'REMITTANCE'],
    ]);
    expect(kinds.balance!.outstandingCents).toBe(before.outstandingCents + 600);
  });

  test('balance totals beyond 32 bits are exact', async () => {
    const patientId = await newPatient(server, manager);
    const max = 2_147_483_647;
    await pay({ patientId, amountCents: max, method: 'CHECK' });
    const second = await pay({ patientId, amountCents: max, method: 'CHECK' });
    expect(second.balance!.creditCents).toBe(2 * max);
    const { lineIds } = await newCharge(server, manager, patientId, [max], max);
    const { lineIds: more } = await newCharge(server, manager, patientId, [max], max);
    expect((await balance(patientId))).toMatchObject({ responsibilityCents: 2 * max, outstandingCents: 2 * max, creditCents: 2 * max });
    expect(lineIds.length + more.length).toBe(2);
  });
});

describe('lists, reasons and practice isolation (§3, §4)', () => {
  test('patients: first/after pagination, hasNextPage, search by name fragment and exact MRN', async () => {
    const own = await server.caller('BILLING_MANAGER', `${server.practice}-list`);
    const people = [
      { firstName: 'Zoe', lastName: 'Zephyr' },
      { firstName: 'Zed', lastName: 'Adams' },
      { firstName: 'Mia', lastName: 'Miller', mrn: 'MRN-7001' },
      { firstName: 'Ben', lastName: 'Baker', mrn: 'MRN-4242' },
      { firstName: 'Amy', lastName: 'Adams' },
    ];
    const ids: Record<string, string> = {};
    for (const p of people) {
      const created = (await server.ok(own, CreatePatientDocument, { input: p })).createPatient;
      expect(created.userErrors).toEqual([]);
      ids[`${p.firstName} ${p.lastName}`] = created.patient!.id;
    }
    const names = (edges: { node: { firstName: string; lastName: string } }[]) => edges.map((e) => `${e.node.firstName} ${e.node.lastName}`);

    const page1 = (await server.ok(own, PatientsDocument, { first: 2 })).patients;
    expect(names(page1.edges)).toEqual(['Amy Adams', 'Zed Adams']);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: page1.edges[0].cursor, endCursor: page1.edges[1].cursor });
    const page2 = (await server.ok(own, PatientsDocument, { first: 2, after: page1.pageInfo.endCursor })).patients;
    expect(names(page2.edges)).toEqual(['Ben Baker', 'Mia Miller']);
    expect(page2.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const page3 = (await server.ok(own, PatientsDocument, { first: 2, after: page2.pageInfo.endCursor })).patients;
    expect(names(page3.edges)).toEqual(['Zoe Zephyr']);
    expect(page3.pageInfo.hasNextPage).toBe(false);
    // A cursor from the middle of a page continues right after that item.
    const fromMiddle = (await server.ok(own, PatientsDocument, { first: 10, after: page1.edges[0].cursor })).patients;
    expect(names(fromMiddle.edges)).toEqual(['Zed Adams', 'Ben Baker', 'Mia Miller', 'Zoe Zephyr']);
    const all = (await server.ok(own, PatientsDocument, { first: 5 })).patients;
    expect(all.edges).toHaveLength(5);
    expect(all.pageInfo.hasNextPage).toBe(false);
    expect(all.edges[0].node.balance).toMatchObject({ version: 0, outstandingCents: 0, creditCents: 0 });

    const search = async (term: string, first = 20) => names((await server.ok(own, PatientsDocument, { first, search: term })).patients.edges);
    expect(await search('ill')).toEqual(['Mia Miller']);
    expect(await search('ADAMS')).toEqual(['Amy Adams', 'Zed Adams']);
    expect(await search('amy ad')).toEqual(['Amy Adams']);
    expect(await search('Adams, Z')).toEqual(['Zed Adams']);
    expect(await search('MRN-4242')).toEqual(['Ben Baker']);
    expect(await search('MRN-42')).toEqual([]);
    expect(await search('%')).toEqual([]);
    expect(await search('_')).toEqual([]);
    const searchPage = (await server.ok(own, PatientsDocument, { first: 1, search: 'adams' })).patients;
    expect(names(searchPage.edges)).toEqual(['Amy Adams']);
    expect(searchPage.pageInfo.hasNextPage).toBe(true);
    const searchNext = (await server.ok(own, PatientsDocument, { first: 1, search: 'adams', after: searchPage.pageInfo.endCursor })).patients;
    expect(names(searchNext.edges)).toEqual(['Zed Adams']);
    expect(searchNext.pageInfo.hasNextPage).toBe(false);

    // Out-of-range page sizes and foreign cursors are refused as bad input.
    for (const bad of [{ first: 0 }, { first: 101 }, { first: 2, after: 'not-a-cursor' }]) {
      const r = await server.gql(own, PatientsDocument, bad);
      expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    // The default practice sees none of these patients.
    expect((await server.ok(manager, PatientsDocument, { first: 100, search: 'Zephyr' })).patients.edges).toEqual([]);
    expect(Object.keys(ids)).toHaveLength(5);
  });

  test('charges: newest date of service first, paginated', async () => {
    const patientId = await newPatient(server, manager);
    const dates = ['2026-01-03', '2026-01-01', '2026-01-05', '2026-01-02', '2026-01-04'];
    for (const serviceDate of dates) {
      const r = (await server.ok(manager, CreateChargeDocument, { input: { patientId, serviceDate, procedureCode: '99213', billedCents: 1000, responsibilities: [] } })).createCharge;
      expect(r.userErrors).toEqual([]);
    }
    const page = async (after?: string | null) => (await server.ok(manager, PatientChargesDocument, { id: patientId, first: 2, after })).patient!.charges;
    const p1 = await page();
    expect(p1.edges.map((e) => e.node.serviceDate)).toEqual(['2026-01-05', '2026-01-04']);
    expect(p1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const p2 = await page(p1.pageInfo.endCursor);
    expect(p2.edges.map((e) => e.node.serviceDate)).toEqual(['2026-01-03', '2026-01-02']);
    expect(p2.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const p3 = await page(p2.pageInfo.endCursor);
    expect(p3.edges.map((e) => e.node.serviceDate)).toEqual(['2026-01-01']);
    expect(p3.pageInfo.hasNextPage).toBe(false);
    const ids = [...p1.edges, ...p2.edges, ...p3.edges].map((e) => e.node.id);
    expect(new Set(ids).size).toBe(5);
  });

  test('pagination with ties (same date of service, same name) neither skips nor repeats', async () => {
    const patientId = await newPatient(server, manager);
    for (let i = 0; i < 5; i++) {
      await server.ok(manager, CreateChargeDocument, { input: { patientId, serviceDate: '2026-03-03', procedureCode: '99213', billedCents: 1000, responsibilities: [] } });
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = (
        await server.ok(manager, PatientChargesDocument, { id: patientId, first: 2, after })
      ).patient!.charges;
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);

    const twins = await server.caller('FRONT_DESK', `${server.practice}-twins`);
    const created = new Set<string>();
    for (let i = 0; i < 5; i++) created.add((await server.ok(twins, CreatePatientDocument, { input: { firstName: 'Sam', lastName: 'Same' } })).createPatient.patient!.id);
    const listed: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = (
        await server.ok(twins, PatientsDocument, { first: 2, after: cursor, search: 'sam same' })
      ).patients;
      listed.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      cursor = page.pageInfo.endCursor;
    }
    expect(new Set(listed)).toEqual(created);
    expect(listed).toHaveLength(5);
  });

  test('writeOffReasons: the 11 codes in order; only OTHER requires a custom reason; any role may read it', async () => {
    const viewer = await server.caller('VIEWER');
    const reasons = (await server.ok(viewer, WriteOffReasonsDocument, {})).writeOffReasons;
    expect(reasons.map((r) => r.code)).toEqual([
      'SMALL_BALANCE',
      'BAD_DEBT',
      'FINANCIAL_HARDSHIP',
      'PROFESSIONAL_COURTESY',
      'PROMPT_PAY_DISCOUNT',
      'PATIENT_EXPERIENCE',
      'DECEASED',
      'BANKRUPTCY',
      'COLLECTION_AGENCY',
      'BILLING_ERROR',
      'OTHER',
    ]);
    expect(reasons.filter((r) => r.requiresCustomReason).map((r) => r.code)).toEqual(['OTHER']);
    for (const r of reasons) expect(r.label.trim().length).toBeGreaterThan(2);
    expect(new Set(reasons.map((r) => r.label)).size).toBe(11);
  });

  test('patient, charge, responsibility and payment of another practice are null, as for unknown ids', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId, lineId } = await remittanceLine(server, manager, patientId, 4000);
    const paid = await pay({ patientId, amountCents: 1000, allocations: [{ responsibilityId: lineId, amountCents: 1000 }] });
    const paymentId = paid.payment!.id;

    // Visible to its own practice, in any role.
    const viewer = await server.caller('VIEWER');
    expect((await server.ok(viewer, PatientDocument, { id: patientId })).patient!.id).toBe(patientId);
    expect((await charge(chargeId, viewer)).id).toBe(chargeId);
    expect((await payment(paymentId, viewer)).id).toBe(paymentId);

    for (const role of ['BILLING_MANAGER', 'ADMIN', 'VIEWER'] as const) {
      const stranger = await server.caller(role, `${server.practice}-elsewhere`);
      const patient = await server.gql(stranger, PatientDocument, { id: patientId });
      expect(patient.errors).toBeUndefined();
      expect(patient.data!.patient).toBeNull();
      expect((await server.ok(stranger, ChargeDocument, { id: chargeId })).charge).toBeNull();
      expect((await server.ok(stranger, ResponsibilityDocument, { id: lineId })).responsibility).toBeNull();
      expect((await server.ok(stranger, PaymentDocument, { id: paymentId })).payment).toBeNull();
      expect((await server.ok(stranger, BalanceDocument, { id: patientId })).patient).toBeNull();
      expect((await server.ok(stranger, PatientsDocument, { first: 100 })).patients.edges.map((e) => e.node.id)).not.toContain(patientId);
    }
    // Exactly like an unknown id.
    const unknown = '00000000-0000-4000-8000-0000000000aa';
    expect((await server.ok(manager, PatientDocument, { id: unknown })).patient).toBeNull();
    expect((await server.ok(manager, ChargeDocument, { id: unknown })).charge).toBeNull();
    expect((await server.ok(manager, PaymentDocument, { id: unknown })).payment).toBeNull();
    // And none of those reads changed anything.
    expect(await balance(patientId)).toEqual(paid.balance);
  });
});
