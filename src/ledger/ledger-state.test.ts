import {
  PatientLedger,
  addCharge,
  addLine,
  addPayment,
  addRefund,
  addRemittance,
  addWriteOff,
  allocate,
  cancelLine,
  emptyLedger,
  ledgerBalance,
  ledgerDifferences,
  ledgerViolations,
  linesOfCharge,
  reduceAllocation,
  removeWriteOff,
  retotal,
  totalsOf,
} from './ledger-state';
import { unallocatedCents } from './lines';

/** A patient with one $200 charge, a $50 copay line and a $100 coinsurance line, and one $80 card payment. */
function patient(): PatientLedger {
  const ledger = emptyLedger('P1', 3);
  addCharge(ledger, { id: 'C1', billedCents: 20_000 });
  addLine(ledger, { id: 'L1', chargeId: 'C1', kind: 'COPAY', origin: 'STAFF', amountCents: 5_000, sequence: 100_000 });
  addLine(ledger, { id: 'L2', chargeId: 'C1', kind: 'COINSURANCE', origin: 'ESTIMATED', amountCents: 10_000, sequence: 100_001 });
  addPayment(ledger, { id: 'PAY1', amountCents: 8_000, method: 'CARD' });
  return ledger;
}

describe('each fact changes the derived amounts exactly once (docs/design.md §2)', () => {
  test('an allocation pays its line and leaves the rest of the payment as credit', () => {
    const ledger = patient();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L1', amountCents: 5_000, sequence: 200_000 });
    expect(ledger.lines.get('L1')!.paidCents).toBe(5_000);
    expect(unallocatedCents(ledger.payments.get('PAY1')!)).toBe(3_000);
    expect(ledgerBalance(ledger)).toEqual({ responsibilityCents: 15_000, paidCents: 5_000, writtenOffCents: 0, outstandingCents: 10_000, creditCents: 3_000 });
  });

  test('a reduction takes cents off the allocation and its line; a refund counts what left the practice', () => {
    const ledger = patient();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L1', amountCents: 5_000, sequence: 200_000 });
    reduceAllocation(ledger, 'A1', 2_000);
    addRefund(ledger, 'PAY1', 2_000);
    expect(ledger.allocations.get('A1')!.remainingCents).toBe(3_000);
    expect(ledger.lines.get('L1')!.paidCents).toBe(3_000);
    expect(ledger.payments.get('PAY1')).toMatchObject({ refundedCents: 2_000, refundCount: 1 });
    expect(unallocatedCents(ledger.payments.get('PAY1')!)).toBe(3_000);
  });

  test('a move to credit is a reduction with nothing returned', () => {
    const ledger = patient();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L2', amountCents: 8_000, sequence: 200_000 });
    reduceAllocation(ledger, 'A1', 8_000);
    addRefund(ledger, 'PAY1', 0);
    expect(ledgerBalance(ledger).creditCents).toBe(8_000);
    expect(ledger.payments.get('PAY1')!.refundedCents).toBe(0);
  });

  test('write-offs and their removals move the line and count per line and per write-off', () => {
    const ledger = patient();
    addWriteOff(ledger, { id: 'W1', responsibilityId: 'L2', amountCents: 4_000 });
    addWriteOff(ledger, { id: 'W2', responsibilityId: 'L2', amountCents: 1_000 });
    removeWriteOff(ledger, 'W1', 1_500);
    expect(ledger.lines.get('L2')!.writtenOffCents).toBe(3_500);
    expect(ledger.writeOffs.get('W1')).toMatchObject({ activeCents: 2_500, removalCount: 1 });
    expect(ledger.lines.get('L2')!.writeOffCount).toBe(2);
    expect(ledger.lines.get('L1')!.writeOffCount).toBe(0);
    expect(ledgerBalance(ledger).outstandingCents).toBe(5_000 + 6_500);
  });

  test('a cancelled line leaves the balance; remittance ids are remembered per charge', () => {
    const ledger = patient();
    cancelLine(ledger, 'L2');
    addRemittance(ledger, 'C1', 'ERA-1');
    expect(ledgerBalance(ledger).responsibilityCents).toBe(5_000);
    expect(ledger.charges.get('C1')!.remittanceIds.has('ERA-1')).toBe(true);
  });

  test('lines of a charge are listed oldest first, whatever order the ids sort in', () => {
    const ledger = patient();
    addLine(ledger, { id: 'A0', chargeId: 'C1', kind: 'OTHER', origin: 'STAFF', amountCents: 100, sequence: 300_000 });
    expect(linesOfCharge(ledger, 'C1').map((l) => l.id)).toEqual(['L1', 'L2', 'A0']);
  });

  test('a fact about a row the patient does not have is a bug, not a silent no-op', () => {
    const ledger = patient();
    expect(() => allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'nope', amountCents: 1, sequence: 1 })).toThrow(/no line nope/);
    expect(() => reduceAllocation(ledger, 'nope', 1)).toThrow(/no allocation/);
    expect(() => removeWriteOff(ledger, 'nope', 1)).toThrow(/no write-off/);
  });
});

describe('the verifier', () => {
  test('finds no difference between two states built from the same facts', () => {
    expect(ledgerDifferences(patient(), patient())).toEqual([]);
  });

  test('names every amount, count and order that differs', () => {
    const a = patient();
    const b = patient();
    allocate(b, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L1', amountCents: 1, sequence: 1 });
    addRefund(b, 'PAY1', 0);
    b.version = 4;
    const differences = ledgerDifferences(a, b).join('\n');
    expect(differences).toMatch(/version 3 ≠ 4/);
    expect(differences).toMatch(/line L1/);
    expect(differences).toMatch(/payment PAY1/);
    expect(differences).toMatch(/allocation: ids or order differ/);
  });

  test('and the invariants catch a state no rule should produce', () => {
    const ledger = patient();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L1', amountCents: 8_000, sequence: 1 });
    expect(ledgerViolations(ledger)).toEqual(['line L1']);
    reduceAllocation(ledger, 'A1', 9_000);
    expect(ledgerViolations(ledger)).toEqual(['line L1', 'payment PAY1']);
  });
});

describe('totals follow the touched rows only, and always equal the whole sum', () => {
  test('over a long run of changes, retotal agrees with ledgerBalance after every one', () => {
    const ledger = patient();
    ledger.totals = ledgerBalance(ledger);
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let ids = 0;
    for (let step = 0; step < 300; step++) {
      const lineIds = [...ledger.lines.keys()];
      const lineId = lineIds[next(lineIds.length)];
      const line = ledger.lines.get(lineId)!;
      const touched = { lines: [lineId], payments: [] as string[] };
      const before = totalsOf(ledger, touched);
      const kind = next(4);
      if (kind === 0) {
        addLine(ledger, { id: `N${ids}`, chargeId: 'C1', kind: 'OTHER', origin: 'STAFF', amountCents: 1 + next(500), sequence: 1_000 + ids++ });
        touched.lines.push(`N${ids - 1}`);
      } else if (kind === 1 && line.status === 'ACTIVE') {
        addWriteOff(ledger, { id: `W${ids++}`, responsibilityId: lineId, amountCents: 1 });
      } else if (kind === 2 && line.status === 'ACTIVE') {
        const paymentId = `PAY${ids}`;
        touched.payments.push(paymentId);
        addPayment(ledger, { id: paymentId, amountCents: 50, method: 'CASH' });
        allocate(ledger, { id: `A${ids++}`, paymentId, responsibilityId: lineId, amountCents: 10, sequence: 1_000 + ids });
      } else if (line.status === 'ACTIVE' && line.paidCents === 0 && line.writtenOffCents === 0) {
        cancelLine(ledger, lineId);
      }
      // A new row is touched before it exists: it added nothing before.
      retotal(ledger, before, touched);
      expect(ledger.totals).toEqual(ledgerBalance(ledger));
    }
  });
});
