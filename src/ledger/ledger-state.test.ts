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
  cloneLedger,
  emptyLedger,
  ledgerBalance,
  ledgerDifferences,
  ledgerViolations,
  linesOfCharge,
  reduceAllocation,
  remittanceRecord,
  removeWriteOff,
  retotal,
  reverseLine,
  reverseRemittance,
  totalsOf,
  voidPayment,
} from './ledger-state';
import { paymentInvariantHolds, unallocatedCents } from './lines';
import { planVoid } from './void';
import { planReverseRemittance } from './remittance';
import { isRefusal } from './codes';

/** A patient with one $200 charge, a $50 copay line and a $100 coinsurance line, and one $80 card payment. */
function patient(): PatientLedger {
  const ledger = emptyLedger('P1', 3);
  addCharge(ledger, { id: 'C1', billedCents: 20_000, serviceDate: '2026-01-05' });
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
    addRemittance(ledger, 'C1', { recordId: 'R1', externalId: 'ERA-1' });
    expect(ledgerBalance(ledger).responsibilityCents).toBe(5_000);
    expect(ledger.charges.get('C1')!.remittances.get('ERA-1')).toEqual({ recordId: 'R1', externalId: 'ERA-1', lineIds: [], reversed: false });
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

describe('voiding a payment (docs/design.md §8.2)', () => {
  test('releasing its allocations and voiding the rest reopens its lines and leaves no credit', () => {
    const ledger = patient();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L1', amountCents: 3_000, sequence: 200_000 });
    allocate(ledger, { id: 'A2', paymentId: 'PAY1', responsibilityId: 'L2', amountCents: 2_000, sequence: 200_001 });
    const plan = planVoid(ledger.payments.get('PAY1')!);
    if (isRefusal(plan)) throw new Error(plan.message);
    for (const release of plan.releases) reduceAllocation(ledger, release.allocationId, release.cents);
    const payment = voidPayment(ledger, 'PAY1', plan.voidedCents);
    expect(payment).toBe(ledger.payments.get('PAY1'));
    expect(payment).toMatchObject({ amountCents: 8_000, refundedCents: 0, voidedCents: 8_000, refundCount: 0 });
    expect(unallocatedCents(payment)).toBe(0);
    expect(ledger.lines.get('L1')!.paidCents).toBe(0);
    expect(ledger.lines.get('L2')!.paidCents).toBe(0);
    expect(ledgerBalance(ledger)).toEqual({ responsibilityCents: 15_000, paidCents: 0, writtenOffCents: 0, outstandingCents: 15_000, creditCents: 0 });
    expect(ledgerViolations(ledger)).toEqual([]);
  });

  test('a new payment stands: voidedCents 0', () => {
    expect(patient().payments.get('PAY1')!.voidedCents).toBe(0);
  });

  test('voiding only the credit while money is still allocated breaks the §8.2 invariant', () => {
    const ledger = patient();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L1', amountCents: 3_000, sequence: 200_000 });
    voidPayment(ledger, 'PAY1', 5_000);
    expect(unallocatedCents(ledger.payments.get('PAY1')!)).toBe(0);
    expect(ledgerViolations(ledger)).toEqual(['payment PAY1']);
  });

  test('voiding less than is left breaks it too: a void leaves no credit', () => {
    const ledger = patient();
    voidPayment(ledger, 'PAY1', 7_999);
    expect(paymentInvariantHolds(ledger.payments.get('PAY1')!)).toBe(false);
    expect(ledgerBalance(ledger).creditCents).toBe(1);
  });

  test('a void of a payment the patient does not have is a bug', () => {
    expect(() => voidPayment(patient(), 'nope', 1)).toThrow(/no payment nope/);
  });

  test('retotal follows the void', () => {
    const ledger = patient();
    ledger.totals = ledgerBalance(ledger);
    const touched = { lines: [], payments: ['PAY1'] };
    const before = totalsOf(ledger, touched);
    voidPayment(ledger, 'PAY1', 8_000);
    expect(retotal(ledger, before, touched)).toEqual(ledgerBalance(ledger));
    expect(ledger.totals.creditCents).toBe(0);
  });
});

describe('remittances and reversed lines (docs/design.md §8.3)', () => {
  /** The patient, with remittance ERA-1 (record R1) that created two lines on C1. */
  function remitted(): PatientLedger {
    const ledger = patient();
    addRemittance(ledger, 'C1', { recordId: 'R1', externalId: 'ERA-1' });
    addRemittance(ledger, 'C1', { recordId: 'R2', externalId: 'ERA-2' });
    addLine(ledger, { id: 'RL1', chargeId: 'C1', kind: 'DEDUCTIBLE', origin: 'REMITTANCE', amountCents: 2_000, sequence: 100_002, remittanceId: 'R1' });
    addLine(ledger, { id: 'RL2', chargeId: 'C1', kind: 'COPAY', origin: 'REMITTANCE', amountCents: 1_000, sequence: 100_003, remittanceId: 'R2' });
    addLine(ledger, { id: 'RL3', chargeId: 'C1', kind: 'COINSURANCE', origin: 'REMITTANCE', amountCents: 500, sequence: 100_004, remittanceId: 'R1' });
    addLine(ledger, { id: 'S1', chargeId: 'C1', kind: 'CUSTOM', origin: 'STAFF', amountCents: 100, sequence: 100_005, remittanceId: null });
    return ledger;
  }

  test('addLine gathers each remittance’s lines, oldest first; lines without a remittance belong to none', () => {
    const ledger = remitted();
    expect(ledger.charges.get('C1')!.remittances.get('ERA-1')).toEqual({ recordId: 'R1', externalId: 'ERA-1', lineIds: ['RL1', 'RL3'], reversed: false });
    expect(ledger.charges.get('C1')!.remittances.get('ERA-2')).toEqual({ recordId: 'R2', externalId: 'ERA-2', lineIds: ['RL2'], reversed: false });
  });

  test('remittanceRecord finds a remittance by its record id, not its external id', () => {
    const ledger = remitted();
    expect(remittanceRecord(ledger, 'C1', 'R2')).toBe(ledger.charges.get('C1')!.remittances.get('ERA-2'));
    expect(() => remittanceRecord(ledger, 'C1', 'ERA-2')).toThrow(/no remittance ERA-2/);
    expect(() => remittanceRecord(ledger, 'C9', 'R1')).toThrow(/no charge C9/);
  });

  test('a line naming a remittance the charge does not have is a bug', () => {
    const ledger = patient();
    expect(() => addLine(ledger, { id: 'X', chargeId: 'C1', kind: 'OTHER', origin: 'REMITTANCE', amountCents: 1, sequence: 1, remittanceId: 'R9' })).toThrow(/no remittance R9/);
  });

  test('reverseRemittance marks only that remittance reversed; its lines stay listed', () => {
    const ledger = remitted();
    reverseRemittance(ledger, 'C1', 'R1');
    expect(ledger.charges.get('C1')!.remittances.get('ERA-1')).toEqual({ recordId: 'R1', externalId: 'ERA-1', lineIds: ['RL1', 'RL3'], reversed: true });
    expect(ledger.charges.get('C1')!.remittances.get('ERA-2')!.reversed).toBe(false);
    expect(() => reverseRemittance(ledger, 'C1', 'R9')).toThrow(/no remittance R9/);
  });

  test('reversing a remittance: its payments released, its lines REVERSED and out of every balance', () => {
    const ledger = remitted();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'RL1', amountCents: 1_500, sequence: 200_000 });
    allocate(ledger, { id: 'A2', paymentId: 'PAY1', responsibilityId: 'RL2', amountCents: 1_000, sequence: 200_001 });
    ledger.totals = ledgerBalance(ledger);
    const record = remittanceRecord(ledger, 'C1', 'R1');
    const plan = planReverseRemittance(
      record.lineIds.map((id) => ledger.lines.get(id)!),
      [...ledger.allocations.values()],
    );
    if (isRefusal(plan)) throw new Error(plan.message);
    expect(plan.releases).toEqual([{ allocationId: 'A1', cents: 1_500 }]);
    const touched = { lines: plan.lineIds, payments: ['PAY1'] };
    const before = totalsOf(ledger, touched);
    for (const release of plan.releases) reduceAllocation(ledger, release.allocationId, release.cents);
    for (const lineId of plan.lineIds) expect(reverseLine(ledger, lineId)).toBe(ledger.lines.get(lineId));
    reverseRemittance(ledger, 'C1', record.recordId);

    expect(ledger.lines.get('RL1')).toMatchObject({ status: 'REVERSED', paidCents: 0, writtenOffCents: 0 });
    expect(ledger.lines.get('RL3')!.status).toBe('REVERSED');
    expect(ledger.lines.get('RL2')).toMatchObject({ status: 'ACTIVE', paidCents: 1_000 });
    expect(ledgerBalance(ledger)).toEqual({
      responsibilityCents: 5_000 + 10_000 + 1_000 + 100,
      paidCents: 1_000,
      writtenOffCents: 0,
      outstandingCents: 5_000 + 10_000 + 100,
      creditCents: 8_000 - 1_000,
    });
    expect(retotal(ledger, before, touched)).toEqual(ledgerBalance(ledger));
    expect(ledgerViolations(ledger)).toEqual([]);
  });

  test('a reversed line with money still on it breaks the invariant', () => {
    const ledger = remitted();
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'RL1', amountCents: 1_500, sequence: 200_000 });
    reverseLine(ledger, 'RL1');
    expect(ledgerViolations(ledger)).toEqual(['line RL1']);
  });

  test('reversing a line the patient does not have is a bug', () => {
    expect(() => reverseLine(patient(), 'nope')).toThrow(/no line nope/);
  });

  test('the verifier sees a reversed line, a reversed remittance and a void', () => {
    const a = remitted();
    const b = remitted();
    reverseLine(b, 'RL1');
    reverseRemittance(b, 'C1', 'R1');
    voidPayment(b, 'PAY1', 8_000);
    const differences = ledgerDifferences(a, b).join('\n');
    expect(differences).toMatch(/line RL1/);
    expect(differences).toMatch(/charge C1/);
    expect(differences).toMatch(/payment PAY1/);
  });
});

describe('cloneLedger: a deep copy a preview may change (docs/design.md §8.1)', () => {
  /** A patient with something of everything: allocations, a refund, write-offs, a removal, a remittance. */
  function busy(): PatientLedger {
    const ledger = patient();
    addRemittance(ledger, 'C1', { recordId: 'R1', externalId: 'ERA-1' });
    addLine(ledger, { id: 'RL1', chargeId: 'C1', kind: 'DEDUCTIBLE', origin: 'REMITTANCE', amountCents: 2_000, sequence: 100_002, remittanceId: 'R1' });
    allocate(ledger, { id: 'A1', paymentId: 'PAY1', responsibilityId: 'L1', amountCents: 3_000, sequence: 200_000 });
    allocate(ledger, { id: 'A2', paymentId: 'PAY1', responsibilityId: 'RL1', amountCents: 1_000, sequence: 200_001 });
    reduceAllocation(ledger, 'A1', 500);
    addRefund(ledger, 'PAY1', 500);
    addWriteOff(ledger, { id: 'W1', responsibilityId: 'L2', amountCents: 4_000 });
    removeWriteOff(ledger, 'W1', 1_000);
    ledger.totals = ledgerBalance(ledger);
    return ledger;
  }

  test('is equal to the original right after cloning', () => {
    const original = busy();
    const copy = cloneLedger(original);
    expect(ledgerDifferences(original, copy)).toEqual([]);
    expect(ledgerDifferences(original, busy())).toEqual([]);
    expect(copy.patientId).toBe('P1');
    expect(copy.totals).toEqual(original.totals);
  });

  test('shares no object with the original', () => {
    const original = busy();
    const copy = cloneLedger(original);
    expect(copy.totals).not.toBe(original.totals);
    const pairs: [Map<string, unknown>, Map<string, unknown>][] = [
      [copy.charges, original.charges],
      [copy.lines, original.lines],
      [copy.payments, original.payments],
      [copy.allocations, original.allocations],
      [copy.writeOffs, original.writeOffs],
    ];
    for (const [copied, from] of pairs) {
      expect(copied).not.toBe(from);
      expect([...copied.keys()]).toEqual([...from.keys()]);
      for (const [id, value] of copied) expect(value).not.toBe(from.get(id));
    }
    const charge = copy.charges.get('C1')!;
    expect(charge.remittances).not.toBe(original.charges.get('C1')!.remittances);
    expect(charge.remittances.get('ERA-1')).not.toBe(original.charges.get('C1')!.remittances.get('ERA-1'));
    expect(charge.remittances.get('ERA-1')!.lineIds).not.toBe(original.charges.get('C1')!.remittances.get('ERA-1')!.lineIds);
    expect(copy.payments.get('PAY1')!.allocations).not.toBe(original.payments.get('PAY1')!.allocations);
  });

  test('in the copy, a payment’s allocations are the very objects of its allocations map, as in the original', () => {
    const original = busy();
    expect(original.payments.get('PAY1')!.allocations[0]).toBe(original.allocations.get('A1'));
    const copy = cloneLedger(original);
    const payment = copy.payments.get('PAY1')!;
    expect(payment.allocations.map((a) => a.id)).toEqual(['A1', 'A2']);
    expect(payment.allocations[0]).toBe(copy.allocations.get('A1'));
    expect(payment.allocations[1]).toBe(copy.allocations.get('A2'));
    reduceAllocation(copy, 'A2', 1_000);
    expect(payment.allocations[1].remainingCents).toBe(0);
    expect(unallocatedCents(payment)).toBe(8_000 - 2_500 - 500);
    expect(ledgerViolations(copy)).toEqual([]);
  });

  test('changing the copy in every way leaves the original untouched', () => {
    const original = busy();
    const snapshot = busy();
    const copy = cloneLedger(original);
    // every kind of fact, applied to the copy
    addCharge(copy, { id: 'C2', billedCents: 9_000, serviceDate: '2026-02-01' });
    addRemittance(copy, 'C1', { recordId: 'R2', externalId: 'ERA-2' });
    addLine(copy, { id: 'RL2', chargeId: 'C1', kind: 'COPAY', origin: 'REMITTANCE', amountCents: 300, sequence: 100_010, remittanceId: 'R1' });
    reduceAllocation(copy, 'A2', 1_000);
    reverseLine(copy, 'RL1');
    reverseRemittance(copy, 'C1', 'R1');
    reduceAllocation(copy, 'A1', 2_500);
    addRefund(copy, 'PAY1', 0);
    removeWriteOff(copy, 'W1', 3_000);
    addWriteOff(copy, { id: 'W2', responsibilityId: 'L1', amountCents: 100 });
    cancelLine(copy, 'L2');
    addPayment(copy, { id: 'PAY2', amountCents: 100, method: 'CASH' });
    allocate(copy, { id: 'A3', paymentId: 'PAY2', responsibilityId: 'L1', amountCents: 100, sequence: 300_000 });
    voidPayment(copy, 'PAY1', 7_500);
    copy.version = 9;
    copy.totals.creditCents = -1;
    // and fields changed in place, as a careless caller might
    copy.charges.get('C1')!.billedCents = 1;
    copy.lines.get('L1')!.amountCents = 1;
    copy.writeOffs.get('W1')!.amountCents = 1;
    copy.payments.get('PAY1')!.allocations.push(copy.allocations.get('A3')!);

    expect(ledgerDifferences(snapshot, original)).toEqual([]);
    expect(original.totals).toEqual(snapshot.totals);
    expect(original.charges.has('C2')).toBe(false);
    expect(original.charges.get('C1')!.remittances.get('ERA-1')).toEqual({ recordId: 'R1', externalId: 'ERA-1', lineIds: ['RL1'], reversed: false });
    expect(original.charges.get('C1')!.remittances.has('ERA-2')).toBe(false);
    expect(original.lines.get('RL1')).toMatchObject({ status: 'ACTIVE', paidCents: 1_000 });
    expect(original.lines.get('L2')).toMatchObject({ status: 'ACTIVE', writtenOffCents: 3_000 });
    expect(original.allocations.get('A1')!.remainingCents).toBe(2_500);
    expect(original.payments.get('PAY1')).toMatchObject({ voidedCents: 0, refundCount: 1, refundedCents: 500 });
    expect(original.payments.get('PAY1')!.allocations.map((a) => a.id)).toEqual(['A1', 'A2']);
    expect(original.writeOffs.get('W1')).toMatchObject({ amountCents: 4_000, activeCents: 3_000, removalCount: 1 });
    expect(original.writeOffs.has('W2')).toBe(false);
    expect(original.payments.has('PAY2')).toBe(false);
    expect(ledgerViolations(original)).toEqual([]);
    // while the copy did change
    expect(ledgerDifferences(original, copy).length).toBeGreaterThan(0);
  });

  test('changing the original leaves the copy untouched', () => {
    const original = busy();
    const copy = cloneLedger(original);
    reduceAllocation(original, 'A1', 2_500);
    reverseRemittance(original, 'C1', 'R1');
    addLine(original, { id: 'RL9', chargeId: 'C1', kind: 'OTHER', origin: 'REMITTANCE', amountCents: 1, sequence: 100_020, remittanceId: 'R1' });
    expect(ledgerDifferences(busy(), copy)).toEqual([]);
  });
});
