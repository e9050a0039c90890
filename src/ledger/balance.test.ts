import { computeBalance } from './balance';
import { LineState, PaymentState } from './types';

function line(id: string, over: Partial<LineState> = {}): LineState {
  return { id, chargeId: 'C1', kind: 'COPAY', origin: 'STAFF', status: 'ACTIVE', amountCents: 10000, paidCents: 0, writtenOffCents: 0, ...over };
}
function payment(id: string, amountCents: number, allocated: number[] = [], refundedCents = 0): PaymentState {
  return { id, amountCents, refundedCents, voidedCents: 0, allocations: allocated.map((c, i) => ({ id: `${id}-${i}`, responsibilityId: 'L1', remainingCents: c, sequence: i })) };
}

describe('computeBalance', () => {
  it('is all zero for a new patient', () => {
    expect(computeBalance([], [])).toEqual({ responsibilityCents: 0, paidCents: 0, writtenOffCents: 0, outstandingCents: 0, creditCents: 0 });
  });

  it('sums amount, paid, written off and open over active lines', () => {
    const lines = [line('L1', { paidCents: 3000, writtenOffCents: 5000 }), line('L2', { amountCents: 7500, paidCents: 7500 }), line('L3', { amountCents: 1 })];
    expect(computeBalance(lines, [])).toEqual({
      responsibilityCents: 17501,
      paidCents: 10500,
      writtenOffCents: 5000,
      outstandingCents: 2001,
      creditCents: 0,
    });
  });

  it('leaves cancelled lines out of every total', () => {
    const lines = [line('L1'), line('L2', { status: 'CANCELLED', amountCents: 7500 }), line('L3', { status: 'CANCELLED', amountCents: 500, paidCents: 500, writtenOffCents: 0 })];
    expect(computeBalance(lines, [])).toEqual({ responsibilityCents: 10000, paidCents: 0, writtenOffCents: 0, outstandingCents: 10000, creditCents: 0 });
  });

  it('leaves reversed lines out of every total, like cancelled ones (docs/design.md §8.3)', () => {
    const lines = [
      line('L1', { paidCents: 1000 }),
      line('L2', { status: 'REVERSED', origin: 'REMITTANCE', amountCents: 7500 }),
      line('L3', { status: 'REVERSED', origin: 'REMITTANCE', amountCents: 500, paidCents: 500, writtenOffCents: 0 }),
      line('L4', { status: 'CANCELLED', amountCents: 300 }),
    ];
    expect(computeBalance(lines, [])).toEqual({ responsibilityCents: 10000, paidCents: 1000, writtenOffCents: 0, outstandingCents: 9000, creditCents: 0 });
    expect(computeBalance([line('L2', { status: 'REVERSED', writtenOffCents: 4000 })], [])).toEqual({
      responsibilityCents: 0,
      paidCents: 0,
      writtenOffCents: 0,
      outstandingCents: 0,
      creditCents: 0,
    });
  });

  it('counts no credit for a voided payment (docs/design.md §8.2)', () => {
    const voided: PaymentState = { ...payment('P1', 5000), voidedCents: 5000 };
    const standing: PaymentState = { ...payment('P2', 4000, [1000]), voidedCents: 0 };
    expect(computeBalance([], [voided, standing]).creditCents).toBe(3000);
    expect(computeBalance([], [voided]).creditCents).toBe(0);
  });

  it('reports credit (Σ unallocated over payments) beside outstanding, never netted into it', () => {
    const lines = [line('L1', { paidCents: 2000 })];
    const payments = [payment('P1', 5000, [2000]), payment('P2', 4000, [], 1000), payment('P3', 100, [], 100)];
    expect(computeBalance(lines, payments)).toEqual({
      responsibilityCents: 10000,
      paidCents: 2000,
      writtenOffCents: 0,
      outstandingCents: 8000,
      creditCents: 3000 + 3000 + 0,
    });
  });

  it('never reports a negative open amount in outstanding', () => {
    const lines = [line('L1', { paidCents: 9000, writtenOffCents: 2000 }), line('L2', { amountCents: 500 })];
    expect(computeBalance(lines, []).outstandingCents).toBe(500);
  });

  it('outstanding = responsibility − paid − written off whenever every line is consistent', () => {
    const lines = [line('L1', { paidCents: 1234, writtenOffCents: 4321 }), line('L2', { amountCents: 999, writtenOffCents: 999 }), line('L3', { amountCents: 42 })];
    const b = computeBalance(lines, []);
    expect(b.outstandingCents).toBe(b.responsibilityCents - b.paidCents - b.writtenOffCents);
    expect(b.outstandingCents).toBe(10000 - 5555 + 42);
  });
});
