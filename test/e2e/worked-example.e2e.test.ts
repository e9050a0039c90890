/** docs/design.md §2.7, step by step over HTTP against a real server. */
import { BalanceDocument, CancelPrDocument, RecordPaymentDocument, RefundPaymentDocument, RemoveWriteOffDocument, WriteOffDocument } from '../__generated__/graphql';
import { startTestServer, TestServer, Caller } from '../harness';
import { newPatient, remittanceLine, newCharge } from '../fixtures';

let server: TestServer;
let manager: Caller;

beforeAll(async () => {
  server = await startTestServer();
  manager = await server.caller('BILLING_MANAGER');
});
afterAll(() => server.stop());

test('the worked example of docs/design.md §2.7', async () => {
  const patientId = await newPatient(server, manager);
  const { lineId } = await remittanceLine(server, manager, patientId, 10_000);
  const outstanding = async () => (await server.ok(manager, BalanceDocument, { id: patientId })).patient!.balance.outstandingCents;
  expect(await outstanding()).toBe(10_000);

  const payment = await server.ok(manager, RecordPaymentDocument, {
    input: { patientId, amountCents: 3000, method: 'CARD', allocations: [{ responsibilityId: lineId, amountCents: 3000 }] },
  });
  expect(payment.recordPayment.userErrors).toEqual([]);
  expect(payment.recordPayment.balance!.outstandingCents).toBe(7000);

  const writeOff = await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineId, amountCents: 5000, reason: 'SMALL_BALANCE' } });
  expect(writeOff.writeOff.userErrors).toEqual([]);
  expect(writeOff.writeOff.balance!.outstandingCents).toBe(2000);
  expect(writeOff.writeOff.responsibility).toMatchObject({ paidCents: 3000, writtenOffCents: 5000, openCents: 2000 });

  const refund = await server.ok(manager, RefundPaymentDocument, {
    input: { paymentId: payment.recordPayment.payment!.id, method: 'ORIGINAL_CARD', reason: 'Paid twice' },
  });
  expect(refund.refundPayment.userErrors).toEqual([]);
  expect(refund.refundPayment.refund!.amountCents).toBe(3000);
  expect(refund.refundPayment.payment).toMatchObject({ refundedCents: 3000, allocatedCents: 0, unallocatedCents: 0 });
  expect(refund.refundPayment.balance!.outstandingCents).toBe(5000);

  const removal = await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: writeOff.writeOff.writeOff!.id, reason: 'Patient can pay' } });
  expect(removal.removeWriteOff.userErrors).toEqual([]);
  expect(removal.removeWriteOff.writeOff!.activeCents).toBe(0);
  expect(removal.removeWriteOff.balance!.outstandingCents).toBe(10_000);

  const cancel = await server.ok(manager, CancelPrDocument, { input: { responsibilityId: lineId, reason: 'Wrong' } });
  expect(cancel.cancelPR.userErrors).toEqual([
    { code: 'PR_FROM_REMITTANCE', message: "PR from an insurance remittance can't be cancelled. Write it off, or post a corrected remittance.", field: null },
  ]);
  expect(cancel.cancelPR.balance).toBeNull();

  // A $75 self-pay payment: a SELF_PAY line of $75, outstanding unchanged.
  const { chargeId } = await newCharge(server, manager, patientId, [], 20_000);
  const selfPay = await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 7500, method: 'CASH', purpose: 'SELF_PAY', chargeId } });
  expect(selfPay.recordPayment.userErrors).toEqual([]);
  expect(selfPay.recordPayment.balance!.outstandingCents).toBe(10_000);
  const selfPayLineId = selfPay.recordPayment.payment!.allocations[0].responsibility.id;

  const refundSelfPay = await server.ok(manager, RefundPaymentDocument, { input: { paymentId: selfPay.recordPayment.payment!.id, method: 'EXTERNAL_CASH_OR_CARD', reason: 'Visit not needed' } });
  expect(refundSelfPay.refundPayment.balance!.outstandingCents).toBe(17_500);

  const cancelSelfPay = await server.ok(manager, CancelPrDocument, { input: { responsibilityId: selfPayLineId, reason: 'Visit did not happen' } });
  expect(cancelSelfPay.cancelPR.userErrors).toEqual([]);
  expect(cancelSelfPay.cancelPR.responsibility!.status).toBe('CANCELLED');
  expect(cancelSelfPay.cancelPR.balance).toMatchObject({ outstandingCents: 10_000, creditCents: 0 });
  // One version per accepted change: charge, remittance, payment, write-off, refund, removal, charge, self-pay, refund, cancel.
  expect(cancelSelfPay.cancelPR.balance!.version).toBe(10);
});
