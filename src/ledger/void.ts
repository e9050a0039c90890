import { Refusal, RefusalCode, Tooltip, refusal } from './codes';
import { AllocationState, PaymentState } from './types';

export interface VoidPlan {
  /** Every allocation still holding money: released, so its lines reopen. */
  releases: { allocationId: string; cents: number }[];
  /** What leaves the ledger: the whole payment (nothing of it was returned). */
  voidedCents: number;
}

/** PAYMENT_VOIDED for a payment already voided (docs/design.md §8.2): nothing more is done with it. Else null. */
export function voidedRefusal(payment: Pick<PaymentState, 'voidedCents'>): Refusal | null {
  return payment.voidedCents > 0 ? refusal(RefusalCode.PAYMENT_VOIDED, Tooltip.PAYMENT_VOIDED) : null;
}

/** Why this payment cannot be voided now (docs/design.md §8.2), or null. */
export function voidBlocker(payment: Pick<PaymentState, 'refundedCents' | 'voidedCents'>): Refusal | null {
  const voided = voidedRefusal(payment);
  if (voided) return voided;
  if (payment.refundedCents > 0) return refusal(RefusalCode.PAYMENT_HAS_REFUNDS, Tooltip.PAYMENT_HAS_REFUNDS);
  return null;
}

/**
 * Plans voiding a payment entered in error or a bounced check (docs/design.md §8.2): its allocations are released and
 * the whole payment leaves the ledger. Refused when it was voided already or money was returned from it (an
 * ACCOUNT_CREDIT refund returns none, so it does not block a void).
 */
export function planVoid(payment: PaymentState & { allocations: readonly AllocationState[] }): VoidPlan | Refusal {
  const blocker = voidBlocker(payment);
  if (blocker) return blocker;
  return {
    releases: payment.allocations.filter((a) => a.remainingCents > 0).map((a) => ({ allocationId: a.id, cents: a.remainingCents })),
    voidedCents: payment.amountCents - payment.refundedCents,
  };
}
