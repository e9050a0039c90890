import { Refusal, RefusalCode, refusal } from './codes';
import { nextRefundBlocker, refundableCents } from './availability';
import { formatCents, isPositiveCents } from './money';
import { allocatedCents, newestFirst, unallocatedCents } from './lines';
import { PaymentMethod, PaymentState, RefundMethod } from './types';

/** A payment as a refund sees it: where its money is, and how it was paid. */
export type RefundablePayment = PaymentState & { method: PaymentMethod };

export interface RefundPlan {
  amountCents: number;
  /** Money leaves the practice (every method but ACCOUNT_CREDIT): `refundedCents` grows by `amountCents`. */
  returnsMoney: boolean;
  /** Taken off allocations, newest first. What they free either leaves (returnsMoney) or stays as credit. */
  takebacks: { allocationId: string; responsibilityId: string; cents: number }[];
}

const AMOUNT_FIELD = ['input', 'amountCents'] as const;

/** ORIGINAL_CARD sends money back to the card that paid, so only a card payment has one (docs/design.md §2.2). */
function refundMethodRefusal(paidWith: PaymentMethod, method: RefundMethod): Refusal | null {
  if (method !== 'ORIGINAL_CARD' || paidWith === 'CARD') return null;
  return refusal(
    RefusalCode.REFUND_METHOD_NOT_ALLOWED,
    'Only a card payment can be refunded to the original card. Use EXTERNAL_CASH_OR_CARD or EXTERNAL_CHECK.',
    ['input', 'method'],
  );
}

/**
 * Plans a refund (docs/design.md §2.2). ACCOUNT_CREDIT moves money off lines into the patient's credit, up to what is
 * allocated. The other methods return money: unallocated money first, then allocations newest first, up to
 * amount − refunded; ORIGINAL_CARD only for a card payment. `amountCents` omitted means as much as the method allows.
 * `refundCount`: its refunds so far.
 */
export function planRefund(payment: RefundablePayment, refundCount: number, method: RefundMethod, amountCents: number | null | undefined): RefundPlan | Refusal {
  const blocker = nextRefundBlocker(payment, refundCount, true) ?? refundMethodRefusal(payment.method, method);
  if (blocker) return blocker;
  const returnsMoney = method !== 'ACCOUNT_CREDIT';
  const limit = returnsMoney ? refundableCents(payment) : allocatedCents(payment);
  if (amountCents !== null && amountCents !== undefined && !isPositiveCents(amountCents)) {
    return refusal(RefusalCode.INVALID_AMOUNT, 'Enter a refund amount greater than $0.00, or leave it empty to refund all that can be.', AMOUNT_FIELD);
  }
  const amount = amountCents ?? limit;
  if (amount > limit || limit <= 0) {
    const message = returnsMoney
      ? `You can refund at most ${formatCents(limit)} of this payment.`
      : limit > 0
        ? `You can move at most ${formatCents(limit)} of this payment to credit: that is what is applied to PR.`
        : 'None of this payment is applied to PR, so there is nothing to move to credit. It is already credit.';
    return refusal(RefusalCode.REFUND_EXCEEDS_REFUNDABLE, message, AMOUNT_FIELD);
  }
  let toTake = returnsMoney ? Math.max(0, amount - unallocatedCents(payment)) : amount;
  const takebacks: RefundPlan['takebacks'] = [];
  for (const allocation of newestFirst(payment.allocations)) {
    if (toTake === 0) break;
    const cents = Math.min(toTake, allocation.remainingCents);
    if (cents <= 0) continue;
    takebacks.push({ allocationId: allocation.id, responsibilityId: allocation.responsibilityId, cents });
    toTake -= cents;
  }
  return { amountCents: amount, returnsMoney, takebacks };
}
