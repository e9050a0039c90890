/**
 * Corrections over real HTTP (docs/design.md §8): negating a posted batch (§8.1), voiding a payment (§8.2), reversed and
 * corrected remittances (§8.3), applying credit (§8.4) and a patient's balance as of a past instant (§8.5). Every server
 * runs with LEDGER_VERIFY=1, so each accepted change here was also checked against a rebuild from the rows.
 */
import {
  AuditTrailDocument,
  BalanceDocument,
  BalanceFieldsFragment,
  CancelPrDocument,
  PostingApplyCreditDocument,
  PostingBalanceAsOfDocument,
  PostingBatchDocument,
  PostingCreateBatchDocument,
  PostingEntryInput,
  PostingLineDocument,
  PostingNegateDocument,
  PostingPaymentDocument,
  PostingReverseRemittanceDocument,
  PostingTimelineDocument,
  PostingVoidPaymentDocument,
  CreatePostingBatchInput,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  WriteOffDocument,
  RemittanceAdjustmentInput,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient, previewAndPost } from '../fixtures';

let server: TestServer;
let manager: Caller;
let billing: Caller;
let frontDesk: Caller;

beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
  manager = await server.caller('BILLING_MANAGER');
  billing = await server.caller('BILLING');
  frontDesk = await server.caller('FRONT_DESK');
});
afterAll(() => server.stop());

// ---------------------------------------------------------------------------------------------------------------
// Helpers

async function balance(patientId: string): Promise<BalanceFieldsFragment> {
  return (await server.ok(manager, BalanceDocument, { id: patientId })).patient!.balance;
}
const totals = (b: BalanceFieldsFragment) => ({
  outstandingCents: b.outstandingCents,
  responsibilityCents: b.responsibilityCents,
  paidCents: b.paidCents,
  writtenOffCents: b.writtenOffCents,
  creditCents: b.creditCents,
});
async function line(id: string) {
  return (await server.ok(manager, PostingLineDocument, { id })).responsibility!;
}
async function payment(id: string) {
  return (await server.ok(manager, PostingPaymentDocument, { id })).payment!;
}
async function timeline(chargeId: string) {
  return (await server.ok(manager, PostingTimelineDocument, { id: chargeId })).charge!;
}
async function pay(patientId: string, amountCents: number, allocations: { responsibilityId: string; amountCents: number }[] = [], method: 'CASH' | 'CARD' | 'CHECK' = 'CHECK', receivedAt?: string) {
  const result = (await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents, method, allocations, receivedAt } })).recordPayment;
  expect(result.userErrors).toEqual([]);
  return result.payment!;
}
async function refund(paymentId: string, method: 'ACCOUNT_CREDIT' | 'EXTERNAL_CHECK' | 'EXTERNAL_CASH_OR_CARD', amountCents?: number) {
  const result = (await server.ok(manager, RefundPaymentDocument, { input: { paymentId, method, amountCents, reason: 'Patient request' } })).refundPayment;
  expect(result.userErrors).toEqual([]);
  return result;
}
async function writeOffNow(responsibilityId: string, amountCents: number) {
  const result = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId, amountCents, reason: 'BAD_DEBT' } })).writeOff;
  expect(result.userErrors).toEqual([]);
  return result.writeOff!;
}
async function remit(chargeId: string, remittanceId: string, adjustments: RemittanceAdjustmentInput[], replacesRemittanceId?: string, caller: Caller = billing) {
  return (await server.ok(caller, RecordRemittanceDocument, { input: { chargeId, remittanceId, adjustments, replacesRemittanceId } })).recordRemittance;
}
async function reverse(chargeId: string, remittanceId: string, reason = 'Claim reversed by the payer') {
  return (await server.ok(billing, PostingReverseRemittanceDocument, { input: { chargeId, remittanceId, reason } })).reverseRemittance;
}
async function voidPayment(paymentId: string, reason = 'Check bounced', caller: Caller = manager) {
  return (await server.ok(caller, PostingVoidPaymentDocument, { input: { paymentId, reason } })).voidPayment;
}
async function applyCredit(patientId: string, allocations?: { responsibilityId: string; amountCents: number }[]) {
  return (await server.ok(manager, PostingApplyCreditDocument, { input: { patientId, allocations } })).applyCredit;
}
async function postBatch(input: CreatePostingBatchInput, caller: Caller = manager) {
  const created = (await server.ok(caller, PostingCreateBatchDocument, { input })).createPostingBatch;
  expect(created.userErrors).toEqual([]);
  return (await previewAndPost(server, caller, created.batch!.id)).posted.batch!;
}
async function negate(batchId: string, caller: Caller = manager, reason = 'Posted to the wrong account') {
  return (await server.ok(caller, PostingNegateDocument, { input: { batchId, reason } })).negatePostingBatch;
}
async function batch(id: string) {
  return (await server.ok(manager, PostingBatchDocument, { id })).postingBatch!;
}
const codes = (errors: { code: string }[]) => errors.map((e) => e.code);
const payEntry = (patientId: string, amountCents: number, allocations: { responsibilityId: string; amountCents: number }[] = []): PostingEntryInput => ({
  payment: { patientId, amountCents, method: 'CHECK', allocations },
});
const writeOffEntry = (responsibilityId: string, amountCents: number): PostingEntryInput => ({ writeOff: { responsibilityId, amountCents, reason: 'SMALL_BALANCE' } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const linesBy = <L extends { status: string }>(charge: { responsibilities: L[] }, status: string): L[] => charge.responsibilities.filter((r) => r.status === status);

// ---------------------------------------------------------------------------------------------------------------

describe('negating a posted batch (§8.1)', () => {
  test('a DEPOSIT: its payments are voided and its applied credit goes back to credit; balances return to before', async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 5000]);
    const { lineIds: bLines } = await newCharge(server, manager, b, [4000]);
    const earlier = await pay(a, 2000); // $20.00 of credit before the batch
    const before = { a: await balance(a), b: await balance(b) };

    const posted = await postBatch({
      kind: 'DEPOSIT',
      reference: 'Wrong slip',
      entries: [
        payEntry(a, 6000, [{ responsibilityId: lineIds[0], amountCents: 4000 }]),
        { applyCredit: { patientId: a, allocations: [{ responsibilityId: lineIds[1], amountCents: 3000 }] } },
        payEntry(b, 4000, [{ responsibilityId: bLines[0], amountCents: 4000 }]),
      ],
    });
    const [aPaymentId, , bPaymentId] = posted.entries.edges.map((e) => e.node.payment?.id);
    expect(totals(await balance(a))).toEqual({ ...totals(before.a), paidCents: 7000, outstandingCents: 8000, creditCents: 1000 });
    expect(totals(await balance(b))).toMatchObject({ outstandingCents: 0, paidCents: 4000 });

    const negated = await negate(posted.id);
    expect(negated.userErrors).toEqual([]);
    expect(negated.batch).toMatchObject({ id: posted.id, status: 'NEGATED', negatedBy: { id: negated.negation!.id, status: 'POSTED' } });
    expect(negated.negation).toMatchObject({ kind: 'DEPOSIT', status: 'POSTED', negates: { id: posted.id, status: 'NEGATED' }, negatedBy: null });
    expect(negated.negation!.postedBy).toEqual({ id: manager.sub, role: 'BILLING_MANAGER' });
    expect(negated.negation!.entries.edges).toHaveLength(3);
    expect((await batch(posted.id)).negatedBy!.id).toBe(negated.negation!.id);

    // Each touched patient moves by exactly one version, back to where it was.
    const balances = Object.fromEntries(negated.balances.map((x) => [x.patientId, x]));
    expect(Object.keys(balances).sort()).toEqual([a, b].sort());
    expect(balances[a].version).toBe(before.a.version + 2);
    expect(balances[b].version).toBe(before.b.version + 2);
    expect(totals(await balance(a))).toEqual(totals(before.a));
    expect(totals(await balance(b))).toEqual(totals(before.b));
    expect(await line(lineIds[0])).toMatchObject({ paidCents: 0, openCents: 10_000 });
    expect(await line(lineIds[1])).toMatchObject({ paidCents: 0, openCents: 5000 });

    // The payments were voided; the earlier credit is whole again.
    for (const id of [aPaymentId!, bPaymentId!]) {
      const voided = await payment(id);
      expect(voided.voidedAt).not.toBeNull();
      expect(voided).toMatchObject({ allocatedCents: 0, unallocatedCents: 0, canRefund: { allowed: false, code: 'PAYMENT_VOIDED' } });
    }
    expect(await payment(earlier.id)).toMatchObject({ allocatedCents: 0, unallocatedCents: 2000, voidedAt: null });

    // Once is all.
    const twice = await negate(posted.id);
    expect(twice.negation).toBeNull();
    expect(codes(twice.userErrors)).toEqual(['ALREADY_NEGATED']);
    expect(await balance(a)).toEqual(balances[a]);
  });

  test('a DEPOSIT with a self-pay payment: the opposite voids the payment and cancels the line it created, so nothing is owed', async () => {
    const patientId = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, patientId, [], 20_000);
    const before = await balance(patientId);
    const posted = await postBatch({
      kind: 'DEPOSIT',
      reference: 'Self-pay at the desk',
      entries: [{ payment: { patientId, amountCents: 7500, method: 'CASH', purpose: 'SELF_PAY', chargeId } }],
    });
    const created = (await payment(posted.entries.edges[0].node.payment!.id)).allocations[0].responsibility.id;
    expect(await line(created)).toMatchObject({ status: 'ACTIVE', paidCents: 7500, openCents: 0 });

    const negated = await negate(posted.id);
    expect(negated.userErrors).toEqual([]);
    expect(await line(created)).toMatchObject({ status: 'CANCELLED', paidCents: 0, openCents: 0 });
    expect(totals(await balance(patientId))).toEqual(totals(before));
  });

  test('an ADJUSTMENT: a write-off is removed, a removal written off again, applied credit returned', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 8000]);
    const standing = await writeOffNow(lineIds[1], 5000);
    await pay(a, 2500);
    const before = await balance(a);

    const posted = await postBatch(
      {
        kind: 'ADJUSTMENT',
        reference: 'October adjustments',
        entries: [
          writeOffEntry(lineIds[0], 3000),
          { removeWriteOff: { writeOffId: standing.id, amountCents: 2000, reason: 'Reinstated' } },
          { applyCredit: { patientId: a, allocations: [{ responsibilityId: lineIds[0], amountCents: 2500 }] } },
        ],
      },
      billing,
    );
    const madeWriteOff = posted.entries.edges[0].node.writeOff!.id;
    expect(totals(await balance(a))).toEqual({ ...totals(before), writtenOffCents: 6000, paidCents: 2500, creditCents: 0, outstandingCents: 9500 });

    const negated = await negate(posted.id);
    expect(negated.userErrors).toEqual([]);
    expect(negated.balances).toEqual([expect.objectContaining({ patientId: a, version: before.version + 2 })]);
    expect(totals(await balance(a))).toEqual(totals(before));
    const first = await line(lineIds[0]);
    expect(first).toMatchObject({ paidCents: 0, writtenOffCents: 0, openCents: 10_000 });
    expect(first.writeOffs.find((w) => w.id === madeWriteOff)).toMatchObject({ activeCents: 0 });
    // The removal is written off again: the line's write-offs are back to $50.00 (the original $30.00 and a new $20.00).
    const second = await line(lineIds[1]);
    expect(second).toMatchObject({ writtenOffCents: 5000, openCents: 3000 });
    expect(second.writeOffs.map((w) => w.activeCents).sort((x, y) => x - y)).toEqual([2000, 3000]);
  });

  test('a write-off partly removed since: negation removes what is still active', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 2000]);
    const posted = await postBatch({ kind: 'ADJUSTMENT', reference: 'Partly undone', entries: [writeOffEntry(lineIds[0], 4000), writeOffEntry(lineIds[1], 2000)] }, billing);
    const [partly, whole] = posted.entries.edges.map((e) => e.node.writeOff!.id);
    expect((await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: partly, amountCents: 1500, reason: 'Half back' } })).removeWriteOff.userErrors).toEqual([]);
    expect((await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: whole, reason: 'All back' } })).removeWriteOff.userErrors).toEqual([]);

    const negated = await negate(posted.id);
    expect(negated.userErrors).toEqual([]);
    expect(await line(lineIds[0])).toMatchObject({ writtenOffCents: 0, openCents: 10_000 });
    expect(await line(lineIds[1])).toMatchObject({ writtenOffCents: 0, openCents: 2000 });
    expect(await balance(a)).toMatchObject({ writtenOffCents: 0, outstandingCents: 12_000 });
  });

  test('a REMITTANCE: its remittance is reversed and its write-offs removed; a reversal is recorded again', async () => {
    const a = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, a, [], 50_000);
    const { chargeId: earlierCharge } = await newCharge(server, manager, a, [], 30_000);
    const earlier = await remit(earlierCharge, 'ERA-EARLY', [{ groupCode: 'PR', reasonCode: '2', amountCents: 6000 }]);
    const earlierLine = earlier.charge!.responsibilities[0].id;
    const before = await balance(a);

    const posted = await postBatch(
      {
        kind: 'REMITTANCE',
        reference: 'EFT 5501',
        payerName: 'Acme Health',
        entries: [
          { remittance: { chargeId, remittanceId: 'ERA-5501', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 9000 }, { groupCode: 'PR', reasonCode: '1', amountCents: 3000 }, { groupCode: 'CO', reasonCode: '45', amountCents: 10_000 }] } },
          writeOffEntry(earlierLine, 1000),
        ],
      },
      billing,
    );
    const recorded = await timeline(chargeId);
    expect(linesBy(recorded, 'ACTIVE').map((r) => [r.kind, r.origin, r.amountCents])).toEqual([
      ['COINSURANCE', 'REMITTANCE', 9000],
      ['DEDUCTIBLE', 'REMITTANCE', 3000],
    ]);
    expect(totals(await balance(a))).toMatchObject({ responsibilityCents: 18_000, writtenOffCents: 1000, outstandingCents: 17_000 });

    const negated = await negate(posted.id);
    expect(negated.userErrors).toEqual([]);
    expect(totals(await balance(a))).toEqual(totals(before));
    const undone = await timeline(chargeId);
    expect(undone.responsibilities.map((r) => r.status)).toEqual(['REVERSED', 'REVERSED']);
    expect(undone.timeline.filter((t) => t.kind === 'PR_REVERSED')).toHaveLength(2);
    expect(await line(earlierLine)).toMatchObject({ writtenOffCents: 0, openCents: 6000 });

    // A batch that reversed a remittance: its negation records the remittance again.
    const reversal = await postBatch({ kind: 'REMITTANCE', reference: 'Payer takeback', entries: [{ reverseRemittance: { chargeId: earlierCharge, remittanceId: 'ERA-EARLY', reason: 'Takeback' } }] }, billing);
    expect((await line(earlierLine)).status).toBe('REVERSED');
    const reversedBalance = await balance(a);
    expect(reversedBalance.responsibilityCents).toBe(0);
    const rerecorded = await negate(reversal.id);
    expect(rerecorded.userErrors).toEqual([]);
    const again = await timeline(earlierCharge);
    expect(linesBy(again, 'ACTIVE').map((r) => [r.kind, r.amountCents])).toEqual([['COINSURANCE', 6000]]);
    expect(totals(await balance(a))).toEqual(totals(before));
  });

  test('negation is idempotent with a key: the retry returns the same negation and changes nothing', async () => {
    const a = await newPatient(server, manager);
    const posted = await postBatch({ kind: 'DEPOSIT', reference: 'Undo once', entries: [payEntry(a, 900)] });
    const idempotencyKey = `negate-${posted.id}`;
    const first = (await server.ok(manager, PostingNegateDocument, { input: { batchId: posted.id, reason: 'Duplicate slip', idempotencyKey } })).negatePostingBatch;
    expect(first.userErrors).toEqual([]);
    const after = await balance(a);
    expect(after).toMatchObject({ creditCents: 0, version: 2 });

    const retry = (await server.ok(manager, PostingNegateDocument, { input: { batchId: posted.id, reason: 'Duplicate slip', idempotencyKey } })).negatePostingBatch;
    expect(retry.userErrors).toEqual([]);
    expect(retry.negation!.id).toBe(first.negation!.id);
    expect(retry.batch).toMatchObject({ id: posted.id, status: 'NEGATED' });
    expect(await balance(a)).toEqual(after);
    const reused = (await server.ok(manager, PostingNegateDocument, { input: { batchId: posted.id, reason: 'Another reason', idempotencyKey } })).negatePostingBatch;
    expect(codes(reused.userErrors)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  test('BATCH_NOT_POSTED for a draft; roles: only BILLING_MANAGER and ADMIN negate', async () => {
    const a = await newPatient(server, manager);
    const draft = (await server.ok(manager, PostingCreateBatchDocument, { input: { kind: 'DEPOSIT', reference: 'Draft', entries: [payEntry(a, 100)] } })).createPostingBatch.batch!;
    const refused = await negate(draft.id);
    expect(refused.batch).toBeNull();
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'BATCH_NOT_POSTED' })]);
    expect((await batch(draft.id)).status).toBe('DRAFT');
    expect(codes((await negate('00000000-0000-4000-8000-000000000000')).userErrors)).toEqual(['NOT_FOUND']);

    const posted = await postBatch({ kind: 'DEPOSIT', reference: 'Posted', entries: [payEntry(a, 100)] });
    for (const caller of [billing, frontDesk]) {
      const denied = await server.gql(caller, PostingNegateDocument, { input: { batchId: posted.id, reason: 'Not allowed' } });
      expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await batch(posted.id)).status).toBe('POSTED');
    const admin = await server.caller('ADMIN');
    expect((await negate(posted.id, admin)).userErrors).toEqual([]);
  });

  test('BATCH_HAS_DEPENDENTS, naming the entry, when one of its payments was refunded since', async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, b, [5000]);
    const posted = await postBatch({ kind: 'DEPOSIT', reference: 'Refunded since', entries: [payEntry(a, 1500), payEntry(b, 4200, [{ responsibilityId: lineIds[0], amountCents: 4200 }])] });
    const refunded = posted.entries.edges[1].node.payment!.id;
    await refund(refunded, 'EXTERNAL_CHECK', 500);
    const held = [await balance(a), await balance(b)];

    const refused = await negate(posted.id);
    expect(refused.batch).toBeNull();
    expect(refused.negation).toBeNull();
    expect(refused.balances).toEqual([]);
    expect(refused.userErrors).toHaveLength(1);
    expect(refused.userErrors[0].code).toBe('BATCH_HAS_DEPENDENTS');
    expect(refused.userErrors[0].message).toMatch(/Entry 2\b/);
    expect(refused.userErrors[0].message).toContain('$42.00');
    // Nothing changed: not even the first payment, whose void would have been fine on its own.
    expect([await balance(a), await balance(b)]).toEqual(held);
    expect((await payment(posted.entries.edges[0].node.payment!.id)).voidedAt).toBeNull();
    expect((await batch(posted.id)).status).toBe('POSTED');
  });

  test('BATCH_HAS_DEPENDENTS when one of its remittance lines was written off outside the batch', async () => {
    const a = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, a, [], 40_000);
    const posted = await postBatch(
      { kind: 'REMITTANCE', reference: 'EFT 7720', entries: [{ remittance: { chargeId, remittanceId: 'ERA-7720', adjustments: [{ groupCode: 'PR', reasonCode: '3', amountCents: 2500 }] } }] },
      billing,
    );
    const remitted = linesBy(await timeline(chargeId), 'ACTIVE')[0];
    const outside = await writeOffNow(remitted.id, 500);
    const held = await balance(a);

    const refused = await negate(posted.id);
    expect(refused.userErrors).toHaveLength(1);
    expect(refused.userErrors[0].code).toBe('BATCH_HAS_DEPENDENTS');
    expect(refused.userErrors[0].message).toMatch(/Entry 1\b/);
    expect(refused.userErrors[0].message.toLowerCase()).toContain('remittance');
    expect(await balance(a)).toEqual(held);
    expect((await line(remitted.id)).status).toBe('ACTIVE');

    // With the outside write-off removed, the batch can be negated.
    expect((await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: outside.id, reason: 'Undo' } })).removeWriteOff.userErrors).toEqual([]);
    expect((await negate(posted.id)).userErrors).toEqual([]);
    expect((await line(remitted.id)).status).toBe('REVERSED');
  });
});

describe('voidPayment (§8.2)', () => {
  test('the whole payment leaves the ledger: lines reopen, its credit is gone, voidedAt is set, canRefund says PAYMENT_VOIDED', async () => {
    const a = await newPatient(server, manager);
    const { chargeId, lineIds } = await newCharge(server, manager, a, [10_000]);
    const paid = await pay(a, 8000, [{ responsibilityId: lineIds[0], amountCents: 5000 }]);
    const before = await balance(a);
    expect(before).toMatchObject({ outstandingCents: 5000, paidCents: 5000, creditCents: 3000 });

    const voided = await voidPayment(paid.id, 'Check bounced');
    expect(voided.userErrors).toEqual([]);
    expect(voided.payment).toMatchObject({ id: paid.id, amountCents: 8000, allocatedCents: 0, unallocatedCents: 0, refundedCents: 0, voidedCents: 8000, allocations: [] });
    expect(voided.payment!.voidedAt).toEqual(expect.any(String));
    expect(voided.payment!.canRefund).toEqual({ allowed: false, code: 'PAYMENT_VOIDED', message: expect.any(String) });
    expect(voided.balance).toMatchObject({ outstandingCents: 10_000, paidCents: 0, creditCents: 0, version: before.version + 1 });
    expect(await line(lineIds[0])).toMatchObject({ paidCents: 0, openCents: 10_000 });
    expect(await balance(a)).toEqual(voided.balance);

    // Twice is refused, and so is refunding it.
    const again = await voidPayment(paid.id);
    expect(again.payment).toBeNull();
    expect(codes(again.userErrors)).toEqual(['PAYMENT_VOIDED']);
    const refundVoided = (await server.ok(manager, RefundPaymentDocument, { input: { paymentId: paid.id, method: 'EXTERNAL_CHECK', reason: 'x' } })).refundPayment;
    expect(codes(refundVoided.userErrors)).toEqual(['PAYMENT_VOIDED']);
    expect(await balance(a)).toEqual(voided.balance);

    // The timeline shows the void with who and why; the audit trail has the event.
    const entry = (await timeline(chargeId)).timeline.find((t) => t.kind === 'PAYMENT_VOIDED');
    expect(entry).toMatchObject({ amountCents: 5000, responsibilityId: lineIds[0], actorId: manager.sub, reason: 'Check bounced' });
    const trail = (await server.ok(manager, AuditTrailDocument, { patientId: a, first: 20 })).auditTrail.edges.map((e) => e.node);
    expect(trail).toEqual(expect.arrayContaining([expect.objectContaining({ operation: 'voidPayment', outcome: 'ACCEPTED', patientId: a, entityIds: expect.arrayContaining([paid.id]) })]));
    expect(trail).toEqual(expect.arrayContaining([expect.objectContaining({ operation: 'voidPayment', outcome: 'REFUSED', code: 'PAYMENT_VOIDED' })]));
  });

  test('PAYMENT_HAS_REFUNDS once money was returned; an ACCOUNT_CREDIT refund does not block', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);
    const returned = await pay(a, 3000, [{ responsibilityId: lineIds[0], amountCents: 3000 }]);
    await refund(returned.id, 'EXTERNAL_CASH_OR_CARD', 1000);
    const held = await balance(a);
    const refused = await voidPayment(returned.id);
    expect(refused.payment).toBeNull();
    expect(codes(refused.userErrors)).toEqual(['PAYMENT_HAS_REFUNDS']);
    expect(await balance(a)).toEqual(held);

    const moved = await pay(a, 2000, [{ responsibilityId: lineIds[0], amountCents: 2000 }]);
    await refund(moved.id, 'ACCOUNT_CREDIT', 1500);
    expect(await balance(a)).toMatchObject({ creditCents: 1500 });
    const voided = await voidPayment(moved.id);
    expect(voided.userErrors).toEqual([]);
    expect(voided.payment).toMatchObject({ voidedCents: 2000, unallocatedCents: 0, allocatedCents: 0 });
    expect(voided.balance).toMatchObject({ creditCents: 0, paidCents: 2000, outstandingCents: 8000 });
  });

  test('roles: voiding is for BILLING_MANAGER and ADMIN', async () => {
    const a = await newPatient(server, manager);
    const paid = await pay(a, 1000);
    const denied = await server.gql(billing, PostingVoidPaymentDocument, { input: { paymentId: paid.id, reason: 'x' } });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await payment(paid.id)).voidedAt).toBeNull();
    const otherPractice = await server.caller('BILLING_MANAGER', `${server.practice}-elsewhere`);
    expect(codes((await voidPayment(paid.id, 'x', otherPractice)).userErrors)).toEqual(['NOT_FOUND']);
  });
});

describe('reversed and corrected remittances (§8.3)', () => {
  test('reverseRemittance: its lines become REVERSED and leave the balance; their payments go to credit', async () => {
    const a = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, a, [], 40_000);
    const recorded = await remit(chargeId, 'ERA-R1', [{ groupCode: 'PR', reasonCode: '2', amountCents: 6000 }, { groupCode: 'PR', reasonCode: '1', amountCents: 4000 }, { groupCode: 'CO', reasonCode: '45', amountCents: 9000 }]);
    const [coinsurance, deductible] = recorded.charge!.responsibilities.map((r) => r.id);
    const paid = await pay(a, 3000, [{ responsibilityId: coinsurance, amountCents: 3000 }]);
    expect(await balance(a)).toMatchObject({ responsibilityCents: 10_000, outstandingCents: 7000, creditCents: 0 });

    const reversed = await reverse(chargeId, 'ERA-R1', 'Payer reversed the claim');
    expect(reversed.userErrors).toEqual([]);
    expect(reversed.charge!.responsibilities.map((r) => [r.id, r.status, r.paidCents, r.openCents])).toEqual([
      [coinsurance, 'REVERSED', 0, 0],
      [deductible, 'REVERSED', 0, 0],
    ]);
    expect(reversed.balance).toMatchObject({ responsibilityCents: 0, outstandingCents: 0, paidCents: 0, creditCents: 3000 });
    expect(await payment(paid.id)).toMatchObject({ allocatedCents: 0, unallocatedCents: 3000, allocations: [] });
    const history = (await timeline(chargeId)).timeline;
    expect(history.filter((t) => t.kind === 'PR_REVERSED').map((t) => t.responsibilityId).sort()).toEqual([coinsurance, deductible].sort());
    expect(history.find((t) => t.kind === 'PAYMENT_RELEASED')).toMatchObject({ amountCents: 3000, responsibilityId: coinsurance });
    // A reversed line accepts nothing more.
    expect((await line(coinsurance)).canWriteOff.allowed).toBe(false);

    const again = await reverse(chargeId, 'ERA-R1');
    expect(again.charge).toBeNull();
    expect(codes(again.userErrors)).toEqual(['ALREADY_REVERSED']);
    expect(codes((await reverse(chargeId, 'ERA-NEVER')).userErrors)).toEqual(['REMITTANCE_NOT_FOUND']);
    expect(await balance(a)).toEqual(reversed.balance);
  });

  test('PR_HAS_WRITE_OFFS while one of its lines has an active write-off', async () => {
    const a = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, a, [], 40_000);
    const recorded = await remit(chargeId, 'ERA-W1', [{ groupCode: 'PR', reasonCode: '3', amountCents: 2500 }]);
    const lineId = recorded.charge!.responsibilities[0].id;
    const written = await writeOffNow(lineId, 1000);
    const held = await balance(a);
    const refused = await reverse(chargeId, 'ERA-W1');
    expect(codes(refused.userErrors)).toEqual(['PR_HAS_WRITE_OFFS']);
    expect(await balance(a)).toEqual(held);
    expect((await line(lineId)).status).toBe('ACTIVE');

    expect((await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: written.id, reason: 'Before reversing' } })).removeWriteOff.userErrors).toEqual([]);
    expect((await reverse(chargeId, 'ERA-W1')).userErrors).toEqual([]);
    expect((await line(lineId)).status).toBe('REVERSED');
  });

  test('a corrected remittance replaces the earlier PR: $119.00 partly paid, corrected to $60.00, outstanding reflects only the corrected PR', async () => {
    const a = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, a, [], 50_000);
    const original = await remit(chargeId, 'ERA-ORIG', [{ groupCode: 'PR', reasonCode: '3', amountCents: 3000 }, { groupCode: 'PR', reasonCode: '2', amountCents: 8900 }, { groupCode: 'CO', reasonCode: '45', amountCents: 20_000 }]);
    const [oldCopay, oldCoinsurance] = original.charge!.responsibilities.map((r) => r.id);
    // $50.00 paid: $20.00 on the copay, $30.00 on the coinsurance.
    const paid = await pay(a, 5000, [{ responsibilityId: oldCopay, amountCents: 2000 }, { responsibilityId: oldCoinsurance, amountCents: 3000 }]);
    expect(await balance(a)).toMatchObject({ responsibilityCents: 11_900, outstandingCents: 6900 });

    // The payer corrects it: coinsurance $40.00, copay $20.00 (listed in that order).
    const corrected = await remit(chargeId, 'ERA-CORR', [{ groupCode: 'PR', reasonCode: '2', amountCents: 4000 }, { groupCode: 'PR', reasonCode: '3', amountCents: 2000 }, { groupCode: 'CO', reasonCode: '45', amountCents: 25_900 }], 'ERA-ORIG');
    expect(corrected.userErrors).toEqual([]);
    // Not $179.00 of PR: only the corrected $60.00 counts.
    expect(corrected.balance).toMatchObject({ responsibilityCents: 6000, paidCents: 5000, outstandingCents: 1000, creditCents: 0 });
    const lines = corrected.charge!.responsibilities;
    expect(lines.filter((r) => r.status === 'REVERSED').map((r) => r.id).sort()).toEqual([oldCopay, oldCoinsurance].sort());
    const active = lines.filter((r) => r.status === 'ACTIVE');
    // Same kind first: the copay's $20.00 moved to the new copay, the coinsurance's $30.00 to the new coinsurance.
    expect(active.map((r) => [r.kind, r.origin, r.amountCents, r.paidCents, r.openCents])).toEqual([
      ['COINSURANCE', 'REMITTANCE', 4000, 3000, 1000],
      ['COPAY', 'REMITTANCE', 2000, 2000, 0],
    ]);
    expect((await payment(paid.id)).allocations.map((x) => x.amountCents).reduce((s, c) => s + c, 0)).toBe(5000);
    expect((await timeline(chargeId)).timeline.filter((t) => t.kind === 'PAYMENT_MOVED').map((t) => t.amountCents).sort()).toEqual([2000, 3000]);

    // The replaced remittance is gone for good.
    expect(codes((await reverse(chargeId, 'ERA-ORIG')).userErrors)).toEqual(['ALREADY_REVERSED']);
    expect(codes((await remit(chargeId, 'ERA-CORR-2', [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }], 'ERA-ORIG')).userErrors)).toEqual(['ALREADY_REVERSED']);
    expect(codes((await remit(chargeId, 'ERA-CORR-3', [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }], 'ERA-NONE')).userErrors)).toEqual(['REMITTANCE_NOT_FOUND']);
    expect(await balance(a)).toEqual(corrected.balance);
  });

  test('a corrected remittance below what was paid: the rest becomes credit', async () => {
    const a = await newPatient(server, manager);
    const { chargeId } = await newCharge(server, manager, a, [], 50_000);
    const original = await remit(chargeId, 'ERA-HIGH', [{ groupCode: 'PR', reasonCode: '1', amountCents: 10_000 }]);
    await pay(a, 8000, [{ responsibilityId: original.charge!.responsibilities[0].id, amountCents: 8000 }]);
    const corrected = await remit(chargeId, 'ERA-LOW', [{ groupCode: 'PR', reasonCode: '1', amountCents: 5000 }], 'ERA-HIGH');
    expect(corrected.userErrors).toEqual([]);
    expect(corrected.balance).toMatchObject({ responsibilityCents: 5000, paidCents: 5000, outstandingCents: 0, creditCents: 3000 });
  });
});

describe('applyCredit (§8.4)', () => {
  test('$50.00 of credit and $20.00 open: $20.00 applied, $30.00 left, the oldest date of service first', async () => {
    const a = await newPatient(server, manager);
    // Entered first but served later; entered second but served earlier.
    const later = (await newCharge(server, manager, a, [1500], 100_000, '2026-10-05')).lineIds[0];
    const earlier = (await newCharge(server, manager, a, [500], 100_000, '2026-09-01')).lineIds[0];
    await pay(a, 5000);
    expect(await balance(a)).toMatchObject({ outstandingCents: 2000, creditCents: 5000 });

    const applied = await applyCredit(a);
    expect(applied.userErrors).toEqual([]);
    expect(applied.balance).toMatchObject({ outstandingCents: 0, paidCents: 2000, creditCents: 3000 });
    expect(applied.payments).toHaveLength(1);
    expect(applied.payments[0]).toMatchObject({ allocatedCents: 2000, unallocatedCents: 3000 });
    expect(await line(later)).toMatchObject({ paidCents: 1500, openCents: 0 });
    expect(await line(earlier)).toMatchObject({ paidCents: 500, openCents: 0 });

    // Credit short of the open PR: the earlier date of service takes it first, from the oldest payment first.
    const b = await newPatient(server, manager);
    const bLaterCharge = await newCharge(server, manager, b, [1500], 100_000, '2026-10-05');
    const bLater = bLaterCharge.lineIds[0];
    const bEarlier = (await newCharge(server, manager, b, [800], 100_000, '2026-09-01')).lineIds[0];
    const older = await pay(b, 600, [], 'CASH', '2026-10-01T10:00:00Z');
    const newer = await pay(b, 400, [], 'CASH', '2026-10-02T10:00:00Z');
    const short = await applyCredit(b);
    expect(short.userErrors).toEqual([]);
    expect(short.balance).toMatchObject({ creditCents: 0, paidCents: 1000, outstandingCents: 1300 });
    expect(await line(bEarlier)).toMatchObject({ paidCents: 800, openCents: 0 });
    expect(await line(bLater)).toMatchObject({ paidCents: 200, openCents: 1300 });
    expect((await payment(older.id)).allocations).toEqual([{ amountCents: 600, responsibility: { id: bEarlier } }]);
    expect((await payment(newer.id)).allocations.map((x) => [x.responsibility.id, x.amountCents])).toEqual([
      [bEarlier, 200],
      [bLater, 200],
    ]);
    const history = (await timeline(bLaterCharge.chargeId)).timeline;
    expect(history.filter((t) => t.kind === 'CREDIT_APPLIED').map((t) => t.amountCents)).toEqual([200]);
  });

  test('where you say; NO_CREDIT, NOTHING_OPEN, CREDIT_EXCEEDED, ALLOCATION_EXCEEDS_OPEN', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [1000, 3000]);
    expect(codes((await applyCredit(a)).userErrors)).toEqual(['NO_CREDIT']);

    await pay(a, 2000);
    const held = await balance(a);
    expect(codes((await applyCredit(a, [{ responsibilityId: lineIds[0], amountCents: 1500 }])).userErrors)).toEqual(['ALLOCATION_EXCEEDS_OPEN']);
    expect(codes((await applyCredit(a, [{ responsibilityId: lineIds[1], amountCents: 2500 }])).userErrors)).toEqual(['CREDIT_EXCEEDED']);
    expect(await balance(a)).toEqual(held);

    const placed = await applyCredit(a, [{ responsibilityId: lineIds[1], amountCents: 1200 }]);
    expect(placed.userErrors).toEqual([]);
    expect(placed.balance).toMatchObject({ creditCents: 800, paidCents: 1200, version: held.version + 1 });
    expect(await line(lineIds[1])).toMatchObject({ paidCents: 1200, openCents: 1800 });
    expect(await line(lineIds[0])).toMatchObject({ paidCents: 0 });

    // Nothing open: everything paid or written off, credit left over.
    const b = await newPatient(server, manager);
    const bLine = (await newCharge(server, manager, b, [1000])).lineIds[0];
    await writeOffNow(bLine, 1000);
    await pay(b, 500);
    const bHeld = await balance(b);
    expect(codes((await applyCredit(b)).userErrors)).toEqual(['NOTHING_OPEN']);
    expect(await balance(b)).toEqual(bHeld);
  });
});

describe('balanceAsOf (§8.5)', () => {
  test('the balance rebuilt up to an instant, with the version of then; a void, a cancellation and a reversal count from their own time', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 4000]);
    const v1 = await balance(a);
    await sleep(25);
    const paid = await pay(a, 3000, [{ responsibilityId: lineIds[0], amountCents: 3000 }]);
    const v2 = await balance(a);
    await sleep(25);
    const voided = await voidPayment(paid.id);
    expect(voided.userErrors).toEqual([]);
    const v3 = voided.balance!;
    await sleep(25);
    const cancelled = (await server.ok(manager, CancelPrDocument, { input: { responsibilityId: lineIds[1], reason: 'Wrong visit' } })).cancelPR;
    expect(cancelled.userErrors).toEqual([]);
    const v4 = cancelled.balance!;
    expect([v1.version, v2.version, v3.version, v4.version]).toEqual([1, 2, 3, 4]);

    const at = async (iso: string) => (await server.ok(manager, PostingBalanceAsOfDocument, { id: a, at: iso })).patient!.balanceAsOf;
    const shift = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
    const asOf = (b: BalanceFieldsFragment) => ({ __typename: 'BalanceSnapshot', patientId: a, ...totals(b), version: b.version });

    // Before the patient had anything; then just after each change (and before the next one).
    expect(await at('2020-01-01T00:00:00Z')).toEqual({ __typename: 'BalanceSnapshot', patientId: a, outstandingCents: 0, responsibilityCents: 0, paidCents: 0, writtenOffCents: 0, creditCents: 0, version: 0 });
    expect(await at(shift(v1.updatedAt, 10))).toEqual(asOf(v1));
    expect(await at(shift(v2.updatedAt, 10))).toEqual({ ...asOf(v2), outstandingCents: 11_000, paidCents: 3000 });
    // The void counts from its own time: before it, the payment still stood.
    expect(await at(shift(v3.updatedAt, -5))).toEqual(asOf(v2));
    expect(await at(shift(v3.updatedAt, 10))).toEqual({ ...asOf(v3), outstandingCents: 14_000, paidCents: 0 });
    // The cancellation too: the line counts until then.
    expect(await at(shift(v4.updatedAt, -5))).toMatchObject({ responsibilityCents: 14_000, version: 3 });
    expect(await at(shift(v4.updatedAt, 10))).toEqual({ ...asOf(v4), responsibilityCents: 10_000, outstandingCents: 10_000 });
    // A remittance reversal too.
    const { chargeId } = await newCharge(server, manager, a, [], 20_000);
    expect((await remit(chargeId, 'ERA-ASOF', [{ groupCode: 'PR', reasonCode: '2', amountCents: 2500 }])).userErrors).toEqual([]);
    await sleep(25);
    const reversed = await reverse(chargeId, 'ERA-ASOF');
    expect(reversed.userErrors).toEqual([]);
    const v7 = reversed.balance!;
    expect(v7.version).toBe(7);
    expect(await at(shift(v7.updatedAt, -5))).toMatchObject({ responsibilityCents: 12_500, outstandingCents: 12_500, version: 6 });
    expect(await at(shift(v7.updatedAt, 10))).toEqual({ ...asOf(v7), responsibilityCents: 10_000 });
    // Now is the live balance.
    expect(await at(new Date(Date.now() + 1000).toISOString())).toEqual(asOf(await balance(a)));
    // A date means midnight UTC.
    expect(await at('2020-01-01')).toMatchObject({ version: 0 });
  });
});
