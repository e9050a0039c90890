import { LineState, PaymentState } from './types';
import { sumCents } from './money';

/** `amount − paid − written off`, and 0 for a line no longer active (cancelled or reversed; docs/design.md §2.1). */
export function openCents(line: LineState): number {
  if (line.status !== 'ACTIVE') return 0;
  return line.amountCents - line.paidCents - line.writtenOffCents;
}

/** A line's amounts as a preview shows them, before and after (docs/design.md §8.1). */
export interface LineAmounts {
  status: LineState['status'];
  amountCents: number;
  paidCents: number;
  writtenOffCents: number;
  openCents: number;
}

export function lineAmounts(line: LineState): LineAmounts {
  return { status: line.status, amountCents: line.amountCents, paidCents: line.paidCents, writtenOffCents: line.writtenOffCents, openCents: openCents(line) };
}

/** The §2.1 invariant for one line: `0 ≤ paid + written off ≤ amount` while active, nothing on it once cancelled. */
export function lineInvariantHolds(line: LineState): boolean {
  if (line.paidCents < 0 || line.writtenOffCents < 0) return false;
  if (line.status !== 'ACTIVE') return line.paidCents === 0 && line.writtenOffCents === 0;
  return line.paidCents + line.writtenOffCents <= line.amountCents;
}

export function allocatedCents(payment: PaymentState): number {
  return sumCents(payment.allocations.map((a) => a.remainingCents));
}

/**
 * A payment's credit: what is neither allocated, returned nor voided (docs/design.md §2.2, §8.2:
 * `amount = allocated + unallocated + refunded + voided`).
 */
export function creditOf(p: { amountCents: number; allocatedCents: number; refundedCents: number; voidedCents: number }): number {
  return p.amountCents - p.allocatedCents - p.refundedCents - p.voidedCents;
}

/** `creditOf` a payment whose allocated amount is summed from its allocations. */
export function unallocatedCents(payment: PaymentState): number {
  return creditOf({ amountCents: payment.amountCents, allocatedCents: allocatedCents(payment), refundedCents: payment.refundedCents, voidedCents: payment.voidedCents });
}

/** §2.2 for one payment: every cent is allocated, unallocated, refunded or voided, and none is negative; a void leaves nothing. */
export function paymentInvariantHolds(payment: PaymentState): boolean {
  const voided = payment.voidedCents;
  if (voided < 0 || (voided > 0 && (allocatedCents(payment) !== 0 || unallocatedCents(payment) !== 0))) return false;
  return payment.allocations.every((a) => a.remainingCents >= 0) && payment.refundedCents >= 0 && unallocatedCents(payment) >= 0;
}

/** Allocations newest first: the order refunds and credit moves take money back in. */
export function newestFirst<T extends { sequence: number }>(allocations: readonly T[]): T[] {
  return [...allocations].sort((a, b) => b.sequence - a.sequence);
}
