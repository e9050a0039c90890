import { Refusal, RefusalCode, Tooltip, refusal } from './codes';
import { formatCents } from './money';
import { refundsFull, writeOffsFull } from './limits';
import { openCents } from './lines';
import { LineState, PaymentState, WriteOffState } from './types';
import { voidedRefusal } from './void';

/** `{ allowed, code, message }` as the screens show it (docs/design.md §2.5). */
export interface Availability {
  allowed: boolean;
  code: RefusalCode | null;
  message: string | null;
}

export const ALLOWED: Availability = Object.freeze({ allowed: true, code: null, message: null });

export function toAvailability(result: Refusal | null): Availability {
  return result ? { allowed: false, code: result.code, message: result.message } : ALLOWED;
}

const forbidden = (): Refusal => refusal(RefusalCode.FORBIDDEN, Tooltip.FORBIDDEN);

/** First failing rule for a write-off on this line, in the order of §2.5, or null when allowed. */
export function writeOffBlocker(line: LineState, permitted: boolean): Refusal | null {
  if (!permitted) return forbidden();
  if (line.status === 'CANCELLED') return refusal(RefusalCode.PR_CANCELLED, Tooltip.WRITE_OFF_CANCELLED);
  if (line.status === 'REVERSED') return refusal(RefusalCode.PR_REVERSED, Tooltip.WRITE_OFF_REVERSED);
  if (line.paidCents >= line.amountCents) return refusal(RefusalCode.PR_ALREADY_PAID, Tooltip.ALREADY_PAID);
  if (line.writtenOffCents >= line.amountCents) return refusal(RefusalCode.PR_ALREADY_WRITTEN_OFF, Tooltip.ALREADY_WRITTEN_OFF);
  if (openCents(line) <= 0) {
    return refusal(
      RefusalCode.NOTHING_TO_WRITE_OFF,
      `Nothing is left to write off: ${formatCents(line.paidCents)} paid and ${formatCents(line.writtenOffCents)} written off.`,
    );
  }
  return null;
}

/** What stops the next write-off on this line: writeOffBlocker, then the cap on write-offs per line. */
export function nextWriteOffBlocker(line: LineState, writeOffCount: number, permitted: boolean): Refusal | null {
  return writeOffBlocker(line, permitted) ?? writeOffsFull(writeOffCount);
}

/** First failing rule for cancelling this line (§2.4, §2.5), or null when allowed. */
export function cancelBlocker(line: LineState, permitted: boolean): Refusal | null {
  if (!permitted) return forbidden();
  // A reversed line came from a remittance: it is already out of the balance, whatever its origin would say.
  if (line.status === 'REVERSED') return refusal(RefusalCode.PR_REVERSED, Tooltip.CANCEL_REVERSED);
  if (line.origin === 'REMITTANCE') return refusal(RefusalCode.PR_FROM_REMITTANCE, Tooltip.FROM_REMITTANCE);
  if (line.writtenOffCents > 0) return refusal(RefusalCode.PR_HAS_WRITE_OFFS, Tooltip.HAS_WRITE_OFFS);
  if (line.status === 'CANCELLED') return refusal(RefusalCode.PR_CANCELLED, Tooltip.ALREADY_CANCELLED);
  return null;
}

/** First failing rule for removing (reversing) this write-off, or null when allowed. */
export function removalBlocker(writeOff: WriteOffState, permitted: boolean): Refusal | null {
  if (!permitted) return forbidden();
  if (writeOff.activeCents <= 0) return refusal(RefusalCode.NOTHING_TO_REMOVE, Tooltip.NOTHING_TO_REMOVE);
  return null;
}

/** What a money-returning refund could still return: amount − refunded (§2.2). */
export function refundableCents(payment: Pick<PaymentState, 'amountCents' | 'refundedCents'>): number {
  return payment.amountCents - payment.refundedCents;
}

/** First failing rule for refunding this payment, or null when allowed. */
export function refundBlocker(payment: Pick<PaymentState, 'amountCents' | 'refundedCents' | 'voidedCents'>, permitted: boolean): Refusal | null {
  if (!permitted) return forbidden();
  const voided = voidedRefusal(payment);
  if (voided) return voided;
  if (refundableCents(payment) <= 0) return refusal(RefusalCode.NOTHING_TO_REFUND, Tooltip.NOTHING_TO_REFUND);
  return null;
}

/** What stops the next refund of this payment: refundBlocker, then the cap on refunds per payment. */
export function nextRefundBlocker(payment: Pick<PaymentState, 'amountCents' | 'refundedCents' | 'voidedCents'>, refundCount: number, permitted: boolean): Refusal | null {
  return refundBlocker(payment, permitted) ?? refundsFull(refundCount);
}
