import { ALLOWED, cancelBlocker, nextRefundBlocker, nextWriteOffBlocker, refundBlocker, refundableCents, removalBlocker, toAvailability, writeOffBlocker } from './availability';
import { refusal } from './codes';
import { LineState, PaymentState, ResponsibilityOrigin, WriteOffState } from './types';

const FORBIDDEN = { code: 'FORBIDDEN', message: "You don't have permission to do this." };
const WO_CANCELLED = { code: 'PR_CANCELLED', message: 'This PR was cancelled, so there is nothing to write off.' };
const ALREADY_PAID = { code: 'PR_ALREADY_PAID', message: 'This PR has already been paid. Refund the payment before writing it off.' };
const ALREADY_WRITTEN_OFF = { code: 'PR_ALREADY_WRITTEN_OFF', message: 'This PR has already been fully written off. Remove the write-off to change it.' };
const FROM_REMITTANCE = { code: 'PR_FROM_REMITTANCE', message: "PR from an insurance remittance can't be cancelled. Write it off, or post a corrected remittance." };
const HAS_WRITE_OFFS = { code: 'PR_HAS_WRITE_OFFS', message: 'Remove the write-off before cancelling this PR.' };
const ALREADY_CANCELLED = { code: 'PR_CANCELLED', message: 'This PR is already cancelled.' };
const NOTHING_TO_REMOVE = { code: 'NOTHING_TO_REMOVE', message: 'This write-off has already been fully removed.' };
const NOTHING_TO_REFUND = { code: 'NOTHING_TO_REFUND', message: 'This payment has already been fully refunded.' };
const WO_REVERSED = { code: 'PR_REVERSED', message: 'This PR was reversed by the insurer, so there is nothing to write off.' };
const CANCEL_REVERSED = { code: 'PR_REVERSED', message: 'This PR was reversed by the insurer; it is already out of the balance.' };
const PAYMENT_VOIDED = { code: 'PAYMENT_VOIDED', message: 'This payment was voided.' };

function line(over: Partial<LineState> = {}): LineState {
  return { id: 'L1', chargeId: 'C1', kind: 'COPAY', origin: 'STAFF', status: 'ACTIVE', amountCents: 10000, paidCents: 0, writtenOffCents: 0, ...over };
}
function writeOff(activeCents: number, amountCents = 5000): WriteOffState {
  return { id: 'W1', responsibilityId: 'L1', amountCents, activeCents };
}
function payment(amountCents: number, refundedCents: number, allocated = 0, voidedCents = 0): PaymentState {
  const allocations = allocated ? [{ id: 'A1', responsibilityId: 'L1', remainingCents: allocated, sequence: 1 }] : [];
  return { id: 'P1', amountCents, refundedCents, voidedCents, allocations };
}

describe('toAvailability', () => {
  it('is allowed with null code and message when nothing blocks', () => {
    expect(toAvailability(null)).toEqual({ allowed: true, code: null, message: null });
    expect(toAvailability(null)).toBe(ALLOWED);
    expect(Object.isFrozen(ALLOWED)).toBe(true);
  });

  it('copies code and message from a refusal, dropping the field path', () => {
    expect(toAvailability(refusal('PR_CANCELLED', 'msg', ['input']))).toEqual({ allowed: false, code: 'PR_CANCELLED', message: 'msg' });
  });
});

describe('writeOffBlocker (canWriteOff)', () => {
  it('allows an open line of any origin and kind', () => {
    for (const origin of ['REMITTANCE', 'ESTIMATED', 'SELF_PAY', 'STAFF'] as ResponsibilityOrigin[]) {
      expect(writeOffBlocker(line({ origin }), true)).toBeNull();
    }
    expect(writeOffBlocker(line({ kind: 'NON_COVERED', paidCents: 9999 }), true)).toBeNull();
    expect(writeOffBlocker(line({ writtenOffCents: 9999 }), true)).toBeNull();
    expect(writeOffBlocker(line({ paidCents: 5000, writtenOffCents: 4999 }), true)).toBeNull();
  });

  it('FORBIDDEN comes first, before every other rule', () => {
    expect(writeOffBlocker(line(), false)).toEqual(FORBIDDEN);
    expect(writeOffBlocker(line({ status: 'CANCELLED' }), false)).toEqual(FORBIDDEN);
    expect(writeOffBlocker(line({ paidCents: 10000 }), false)).toEqual(FORBIDDEN);
    expect(writeOffBlocker(line({ writtenOffCents: 10000 }), false)).toEqual(FORBIDDEN);
    expect(writeOffBlocker(line({ paidCents: 5000, writtenOffCents: 5000 }), false)).toEqual(FORBIDDEN);
  });

  it('PR_CANCELLED for a cancelled line', () => {
    expect(writeOffBlocker(line({ status: 'CANCELLED' }), true)).toEqual(WO_CANCELLED);
    // cancelled wins over "already paid" even for inconsistent data
    expect(writeOffBlocker(line({ status: 'CANCELLED', paidCents: 10000 }), true)).toEqual(WO_CANCELLED);
  });

  it('PR_ALREADY_PAID when paid covers the amount, before PR_ALREADY_WRITTEN_OFF', () => {
    expect(writeOffBlocker(line({ paidCents: 10000 }), true)).toEqual(ALREADY_PAID);
    expect(writeOffBlocker(line({ amountCents: 1, paidCents: 1 }), true)).toEqual(ALREADY_PAID);
    expect(writeOffBlocker(line({ paidCents: 10000, writtenOffCents: 10000 }), true)).toEqual(ALREADY_PAID);
  });

  it('PR_ALREADY_WRITTEN_OFF when write-offs cover the amount', () => {
    expect(writeOffBlocker(line({ writtenOffCents: 10000 }), true)).toEqual(ALREADY_WRITTEN_OFF);
  });

  it('NOTHING_TO_WRITE_OFF when paid and written off together close the line, with both amounts in the message', () => {
    expect(writeOffBlocker(line({ paidCents: 3000, writtenOffCents: 7000 }), true)).toEqual({
      code: 'NOTHING_TO_WRITE_OFF',
      message: 'Nothing is left to write off: $30.00 paid and $70.00 written off.',
    });
    expect(writeOffBlocker(line({ amountCents: 123456789, paidCents: 100000000, writtenOffCents: 23456789 }), true)).toEqual({
      code: 'NOTHING_TO_WRITE_OFF',
      message: 'Nothing is left to write off: $1,000,000.00 paid and $234,567.89 written off.',
    });
    expect(writeOffBlocker(line({ amountCents: 2, paidCents: 1, writtenOffCents: 1 }), true)?.message).toBe(
      'Nothing is left to write off: $0.01 paid and $0.01 written off.',
    );
  });

  it('PR_REVERSED for a reversed line (docs/design.md §8.3), after FORBIDDEN and before every amount rule', () => {
    expect(writeOffBlocker(line({ status: 'REVERSED', origin: 'REMITTANCE' }), true)).toEqual(WO_REVERSED);
    expect(writeOffBlocker(line({ status: 'REVERSED' }), true)).toEqual(WO_REVERSED);
    // reversed wins over "already paid" and "already written off" even for inconsistent data
    expect(writeOffBlocker(line({ status: 'REVERSED', paidCents: 10000 }), true)).toEqual(WO_REVERSED);
    expect(writeOffBlocker(line({ status: 'REVERSED', writtenOffCents: 10000 }), true)).toEqual(WO_REVERSED);
    expect(writeOffBlocker(line({ status: 'REVERSED', paidCents: 3000, writtenOffCents: 7000 }), true)).toEqual(WO_REVERSED);
    expect(writeOffBlocker(line({ status: 'REVERSED' }), false)).toEqual(FORBIDDEN);
    // and before the cap on write-offs per line
    expect(nextWriteOffBlocker(line({ status: 'REVERSED' }), 20, true)).toEqual(WO_REVERSED);
    expect(toAvailability(writeOffBlocker(line({ status: 'REVERSED', origin: 'REMITTANCE' }), true))).toEqual({ allowed: false, ...WO_REVERSED });
  });

  it('toAvailability of it gives the screen shape', () => {
    expect(toAvailability(writeOffBlocker(line({ paidCents: 10000 }), true))).toEqual({ allowed: false, ...ALREADY_PAID });
    expect(toAvailability(writeOffBlocker(line(), true))).toEqual({ allowed: true, code: null, message: null });
  });
});

describe('cancelBlocker (canCancel)', () => {
  it.each(['ESTIMATED', 'SELF_PAY', 'STAFF'] as ResponsibilityOrigin[])('allows an active %s line, paid or not', (origin) => {
    expect(cancelBlocker(line({ origin }), true)).toBeNull();
    expect(cancelBlocker(line({ origin, paidCents: 10000 }), true)).toBeNull();
  });

  it('FORBIDDEN first', () => {
    expect(cancelBlocker(line(), false)).toEqual(FORBIDDEN);
    expect(cancelBlocker(line({ origin: 'REMITTANCE' }), false)).toEqual(FORBIDDEN);
    expect(cancelBlocker(line({ writtenOffCents: 1 }), false)).toEqual(FORBIDDEN);
    expect(cancelBlocker(line({ status: 'CANCELLED' }), false)).toEqual(FORBIDDEN);
  });

  it('PR_FROM_REMITTANCE for remittance lines, before write-offs and cancelled status', () => {
    expect(cancelBlocker(line({ origin: 'REMITTANCE' }), true)).toEqual(FROM_REMITTANCE);
    expect(cancelBlocker(line({ origin: 'REMITTANCE', writtenOffCents: 5000 }), true)).toEqual(FROM_REMITTANCE);
    expect(cancelBlocker(line({ origin: 'REMITTANCE', status: 'CANCELLED' }), true)).toEqual(FROM_REMITTANCE);
  });

  it('PR_HAS_WRITE_OFFS while any write-off is active, even 1 cent', () => {
    expect(cancelBlocker(line({ writtenOffCents: 1 }), true)).toEqual(HAS_WRITE_OFFS);
    expect(cancelBlocker(line({ origin: 'SELF_PAY', writtenOffCents: 10000 }), true)).toEqual(HAS_WRITE_OFFS);
    expect(cancelBlocker(line({ writtenOffCents: 1, status: 'CANCELLED' }), true)).toEqual(HAS_WRITE_OFFS);
  });

  it('PR_CANCELLED "already cancelled" for a cancelled line', () => {
    expect(cancelBlocker(line({ status: 'CANCELLED' }), true)).toEqual(ALREADY_CANCELLED);
    expect(cancelBlocker(line({ status: 'CANCELLED', origin: 'ESTIMATED' }), true)).toEqual(ALREADY_CANCELLED);
  });

  it.each(['ESTIMATED', 'SELF_PAY', 'STAFF', 'REMITTANCE'] as ResponsibilityOrigin[])('PR_REVERSED for a reversed %s line, right after FORBIDDEN', (origin) => {
    expect(cancelBlocker(line({ origin, status: 'REVERSED' }), true)).toEqual(CANCEL_REVERSED);
    expect(cancelBlocker(line({ origin, status: 'REVERSED', paidCents: 10000 }), true)).toEqual(CANCEL_REVERSED);
    expect(cancelBlocker(line({ origin, status: 'REVERSED', writtenOffCents: 1 }), true)).toEqual(CANCEL_REVERSED);
    expect(cancelBlocker(line({ origin, status: 'REVERSED' }), false)).toEqual(FORBIDDEN);
  });

  // Only a remittance's lines are ever reversed (docs/design.md §8.3), so the CANCEL_REVERSED tooltip must be reachable
  // for a REMITTANCE line; PR_FROM_REMITTANCE ("Write it off, or post a corrected remittance") is wrong for one whose
  // remittance was already reversed or corrected, and writing it off is refused (PR_REVERSED).
  it('PR_REVERSED, not PR_FROM_REMITTANCE, for a reversed remittance line', () => {
    expect(cancelBlocker(line({ origin: 'REMITTANCE', status: 'REVERSED' }), true)).toEqual(CANCEL_REVERSED);
  });
});

describe('removalBlocker (canRemove)', () => {
  it('allows while anything is still active', () => {
    expect(removalBlocker(writeOff(5000), true)).toBeNull();
    expect(removalBlocker(writeOff(1), true)).toBeNull();
  });

  it('FORBIDDEN first', () => {
    expect(removalBlocker(writeOff(5000), false)).toEqual(FORBIDDEN);
    expect(removalBlocker(writeOff(0), false)).toEqual(FORBIDDEN);
  });

  it('NOTHING_TO_REMOVE when fully removed', () => {
    expect(removalBlocker(writeOff(0), true)).toEqual(NOTHING_TO_REMOVE);
  });
});

describe('refundableCents', () => {
  it('is amount − refunded, however much is allocated', () => {
    expect(refundableCents(payment(10000, 0))).toBe(10000);
    expect(refundableCents(payment(10000, 2500))).toBe(7500);
    expect(refundableCents(payment(10000, 2500, 7500))).toBe(7500);
    expect(refundableCents(payment(10000, 10000))).toBe(0);
  });
});

describe('refundBlocker (canRefund)', () => {
  it('allows while anything is refundable, allocated or not', () => {
    expect(refundBlocker(payment(10000, 0), true)).toBeNull();
    expect(refundBlocker(payment(10000, 9999), true)).toBeNull();
    expect(refundBlocker(payment(10000, 0, 10000), true)).toBeNull();
  });

  it('FORBIDDEN first', () => {
    expect(refundBlocker(payment(10000, 0), false)).toEqual(FORBIDDEN);
    expect(refundBlocker(payment(10000, 10000), false)).toEqual(FORBIDDEN);
  });

  it('NOTHING_TO_REFUND when fully refunded', () => {
    expect(refundBlocker(payment(10000, 10000), true)).toEqual(NOTHING_TO_REFUND);
    expect(refundBlocker(payment(1, 1), true)).toEqual(NOTHING_TO_REFUND);
  });

  it('PAYMENT_VOIDED for a voided payment (docs/design.md §8.2), after FORBIDDEN and before NOTHING_TO_REFUND', () => {
    expect(refundBlocker(payment(10000, 0, 0, 10000), true)).toEqual(PAYMENT_VOIDED);
    expect(refundBlocker(payment(10000, 0, 0, 1), true)).toEqual(PAYMENT_VOIDED);
    expect(refundBlocker(payment(10000, 10000, 0, 1), true)).toEqual(PAYMENT_VOIDED);
    expect(refundBlocker(payment(10000, 0, 0, 10000), false)).toEqual(FORBIDDEN);
    expect(toAvailability(refundBlocker(payment(10000, 0, 0, 10000), true))).toEqual({ allowed: false, ...PAYMENT_VOIDED });
  });

  it('a payment that stands (voidedCents 0) is judged on what is refundable alone', () => {
    expect(refundBlocker(payment(10000, 0, 0, 0), true)).toBeNull();
    expect(refundBlocker(payment(10000, 10000, 0, 0), true)).toEqual(NOTHING_TO_REFUND);
  });

  it('nextRefundBlocker: PAYMENT_VOIDED before the cap on refunds per payment', () => {
    expect(nextRefundBlocker(payment(10000, 0, 0, 10000), 20, true)).toEqual(PAYMENT_VOIDED);
    expect(nextRefundBlocker(payment(10000, 0, 0, 0), 20, true)).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(nextRefundBlocker(payment(10000, 0, 0, 0), 19, true)).toBeNull();
  });
});
