import { ADJUSTMENT_GROUPS, Adjustment, checkAdjustments, kindForReasonCode, planRemittance } from './remittance';
import { MAX_INPUT_CENTS } from './money';
import { AllocationState, LineState, WriteOffState } from './types';

function line(id: string, over: Partial<LineState> = {}): LineState {
  return { id, chargeId: 'C1', kind: 'COPAY', origin: 'ESTIMATED', status: 'ACTIVE', amountCents: 3000, paidCents: 0, writtenOffCents: 0, ...over };
}
function alloc(id: string, paymentId: string, responsibilityId: string, remainingCents: number, sequence: number): AllocationState & { paymentId: string } {
  return { id, paymentId, responsibilityId, remainingCents, sequence };
}
function wo(id: string, responsibilityId: string, activeCents: number, amountCents = activeCents): WriteOffState {
  return { id, responsibilityId, amountCents, activeCents };
}
const adj = (groupCode: string, reasonCode: string, amountCents: number): Adjustment => ({ groupCode, reasonCode, amountCents });
const exceeds = (billed: string) => ({
  code: 'PR_EXCEEDS_CHARGE',
  message: `The patient's responsibility can't be more than the charge's billed amount of ${billed}.`,
  field: ['input', 'adjustments'],
});

describe('kindForReasonCode', () => {
  it.each([
    ['1', 'DEDUCTIBLE'],
    ['2', 'COINSURANCE'],
    ['3', 'COPAY'],
    ['96', 'NON_COVERED'],
    ['204', 'NON_COVERED'],
  ])('%s → %s', (code, kind) => {
    expect(kindForReasonCode(code)).toBe(kind);
  });

  it.each(['0', '4', '45', '97', '200', '205', 'A1', 'B7', 'PR', '01', '10', '11', '2041', '966', '', ' 1'])('anything else (%p) → OTHER', (code) => {
    expect(kindForReasonCode(code)).toBe('OTHER');
  });
});

describe('checkAdjustments', () => {
  it('knows the groups PR, CO, OA, PI', () => {
    expect([...ADJUSTMENT_GROUPS]).toEqual(['PR', 'CO', 'OA', 'PI']);
  });

  it('normalises group and reason codes (trim, upper case) and keeps the amount', () => {
    expect(checkAdjustments([adj(' pr ', ' 1 ', 500), adj('co', 'a1', 1), adj('Oa', '23', MAX_INPUT_CENTS), adj('PI', 'ZZZZZ', 7)])).toEqual([
      adj('PR', '1', 500),
      adj('CO', 'A1', 1),
      adj('OA', '23', MAX_INPUT_CENTS),
      adj('PI', 'ZZZZZ', 7),
    ]);
  });

  it('accepts nothing at all', () => {
    expect(checkAdjustments([])).toEqual([]);
  });

  it('refuses an unknown group, quoting at most 10 characters of it', () => {
    expect(checkAdjustments([adj('PR', '1', 100), adj('xx', '1', 100)])).toEqual({
      code: 'INVALID_REMITTANCE',
      message: 'Unknown adjustment group "XX": use PR, CO, OA or PI.',
      field: ['input', 'adjustments', '1', 'groupCode'],
    });
    expect(checkAdjustments([adj('abcdefghijklmnop', '1', 100)])).toMatchObject({ message: 'Unknown adjustment group "ABCDEFGHIJ": use PR, CO, OA or PI.' });
    expect(checkAdjustments([adj('', '1', 100)])).toMatchObject({ code: 'INVALID_REMITTANCE', message: 'Unknown adjustment group "": use PR, CO, OA or PI.' });
  });

  it.each(['', ' ', '123456', 'A-1', '1.0', 'ä1', '1 2'])('refuses the reason code %p', (code) => {
    expect(checkAdjustments([adj('PR', code, 100)])).toEqual({
      code: 'INVALID_REMITTANCE',
      message: 'A claim adjustment reason code is 1 to 5 letters or digits, like 1, 2, 3 or 96.',
      field: ['input', 'adjustments', '0', 'reasonCode'],
    });
  });

  it.each([0, -1, 0.5, Number.NaN, MAX_INPUT_CENTS + 1])('refuses an amount of %p (positive only for now)', (amount) => {
    expect(checkAdjustments([adj('PR', '1', 100), adj('PR', '1', amount)])).toEqual({
      code: 'INVALID_AMOUNT',
      message: 'Each adjustment amount must be greater than $0.00.',
      field: ['input', 'adjustments', '1', 'amountCents'],
    });
  });

  it('checks group, then reason code, then amount; first bad adjustment wins', () => {
    expect(checkAdjustments([adj('XX', '!!', 0)])).toMatchObject({ code: 'INVALID_REMITTANCE', field: ['input', 'adjustments', '0', 'groupCode'] });
    expect(checkAdjustments([adj('PR', '!!', 0)])).toMatchObject({ code: 'INVALID_REMITTANCE', field: ['input', 'adjustments', '0', 'reasonCode'] });
    expect(checkAdjustments([adj('PR', '1', 0), adj('XX', '1', 1)])).toMatchObject({ code: 'INVALID_AMOUNT' });
  });
});

describe('planRemittance', () => {
  const empty = { billedCents: 25000, lines: [] as LineState[] };

  it('turns each PR adjustment into a REMITTANCE line of the mapped kind; other groups create none', () => {
    const plan = planRemittance(
      empty,
      [adj('PR', '1', 5000), adj('CO', '45', 15000), adj('pr', '2', 2000), adj('OA', '23', 100), adj('PI', '96', 100), adj('PR', '3', 1000), adj('PR', '96', 500), adj('PR', '204', 400), adj('PR', '45', 100)],
      [],
      [],
    );
    expect(plan).toEqual({
      adjustments: [
        adj('PR', '1', 5000),
        adj('CO', '45', 15000),
        adj('PR', '2', 2000),
        adj('OA', '23', 100),
        adj('PI', '96', 100),
        adj('PR', '3', 1000),
        adj('PR', '96', 500),
        adj('PR', '204', 400),
        adj('PR', '45', 100),
      ],
      newLines: [
        { kind: 'DEDUCTIBLE', reasonCode: '1', amountCents: 5000 },
        { kind: 'COINSURANCE', reasonCode: '2', amountCents: 2000 },
        { kind: 'COPAY', reasonCode: '3', amountCents: 1000 },
        { kind: 'NON_COVERED', reasonCode: '96', amountCents: 500 },
        { kind: 'NON_COVERED', reasonCode: '204', amountCents: 400 },
        { kind: 'OTHER', reasonCode: '45', amountCents: 100 },
      ],
      supersededLineIds: [],
      reversals: [],
      reductions: [],
      moves: [],
    });
  });

  it('non-PR groups do not count against the billed amount', () => {
    expect(planRemittance({ billedCents: 100, lines: [] }, [adj('CO', '45', 1_000_000), adj('PR', '1', 100)], [], [])).toMatchObject({
      newLines: [{ kind: 'DEDUCTIBLE', reasonCode: '1', amountCents: 100 }],
    });
    expect(planRemittance({ billedCents: 100, lines: [] }, [adj('CO', '45', 1_000_000)], [], [])).toMatchObject({ newLines: [] });
  });

  it('passes adjustment refusals through, before the charge check', () => {
    expect(planRemittance({ billedCents: 1, lines: [] }, [adj('PR', '1', 500), adj('QQ', '1', 1)], [], [])).toMatchObject({ code: 'INVALID_REMITTANCE' });
    expect(planRemittance({ billedCents: 1, lines: [] }, [adj('PR', '1', 0)], [], [])).toMatchObject({ code: 'INVALID_AMOUNT' });
  });

  describe('PR_EXCEEDS_CHARGE', () => {
    it('allows new lines up to exactly the billed amount, refuses one cent more', () => {
      expect(planRemittance(empty, [adj('PR', '1', 20000), adj('PR', '2', 5000)], [], [])).toMatchObject({ supersededLineIds: [] });
      expect(planRemittance(empty, [adj('PR', '1', 20000), adj('PR', '2', 5001)], [], [])).toEqual(exceeds('$250.00'));
    });

    it('counts the charge’s other active lines, but not cancelled ones nor the superseded ESTIMATED ones', () => {
      const charge = {
        billedCents: 10000,
        lines: [line('S1', { origin: 'STAFF', amountCents: 4000 }), line('X1', { origin: 'SELF_PAY', status: 'CANCELLED', amountCents: 5000 }), line('E1', { amountCents: 6000 })],
      };
      expect(planRemittance(charge, [adj('PR', '3', 6000)], [], [])).toMatchObject({ supersededLineIds: ['E1'] });
      expect(planRemittance(charge, [adj('PR', '3', 6001)], [], [])).toEqual(exceeds('$100.00'));
    });
  });

  describe('superseding ESTIMATED lines', () => {
    it('supersedes only active ESTIMATED lines', () => {
      const charge = {
        billedCents: 50000,
        lines: [
          line('E1'),
          line('E2', { kind: 'DEDUCTIBLE' }),
          line('E3', { status: 'CANCELLED' }),
          line('R1', { origin: 'REMITTANCE' }),
          line('S1', { origin: 'SELF_PAY', kind: 'SELF_PAY' }),
          line('T1', { origin: 'STAFF', kind: 'CUSTOM' }),
        ],
      };
      expect(planRemittance(charge, [adj('PR', '3', 100)], [], [])).toMatchObject({ supersededLineIds: ['E1', 'E2'] });
    });

    it('supersedes them even when the remittance has no PR adjustment; their money goes to other lines, the rest stays as credit', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { paidCents: 3000 }), line('T1', { origin: 'STAFF', amountCents: 1000, paidCents: 200 })] };
      expect(planRemittance(charge, [adj('CO', '45', 1000)], [alloc('A1', 'P1', 'E1', 3000, 1)], [])).toEqual({
        adjustments: [adj('CO', '45', 1000)],
        newLines: [],
        supersededLineIds: ['E1'],
        reversals: [],
        reductions: [{ allocationId: 'A1', cents: 3000 }],
        moves: [{ paymentId: 'P1', target: { responsibilityId: 'T1' }, cents: 800 }],
      });
    });

    it('moves money to the same kind first, even when that new line is listed later', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { kind: 'COPAY', paidCents: 3000 })] };
      const plan = planRemittance(charge, [adj('PR', '1', 5000), adj('PR', '3', 2000)], [alloc('A1', 'P1', 'E1', 3000, 1)], []);
      expect(plan).toMatchObject({
        supersededLineIds: ['E1'],
        reductions: [{ allocationId: 'A1', cents: 3000 }],
        moves: [
          { paymentId: 'P1', target: { newLine: 1 }, cents: 2000 },
          { paymentId: 'P1', target: { newLine: 0 }, cents: 1000 },
        ],
      });
    });

    it('then other new lines in order, then existing lines of the charge, then the rest stays as credit', () => {
      const charge = {
        billedCents: 50000,
        lines: [
          line('E1', { kind: 'COINSURANCE', amountCents: 10000, paidCents: 10000 }),
          line('T1', { origin: 'STAFF', kind: 'CUSTOM', amountCents: 1000, paidCents: 400 }),
          line('T2', { origin: 'STAFF', kind: 'CUSTOM', amountCents: 1000, writtenOffCents: 1000 }),
          line('S1', { origin: 'SELF_PAY', kind: 'SELF_PAY', amountCents: 500 }),
        ],
      };
      const plan = planRemittance(charge, [adj('PR', '3', 1000), adj('PR', '1', 2000), adj('PR', '2', 3000)], [alloc('A1', 'P1', 'E1', 10000, 1)], []);
      expect(plan).toMatchObject({
        reductions: [{ allocationId: 'A1', cents: 10000 }],
        moves: [
          { paymentId: 'P1', target: { newLine: 2 }, cents: 3000 }, // COINSURANCE: same kind
          { paymentId: 'P1', target: { newLine: 0 }, cents: 1000 },
          { paymentId: 'P1', target: { newLine: 1 }, cents: 2000 },
          { paymentId: 'P1', target: { responsibilityId: 'T1' }, cents: 600 },
          { paymentId: 'P1', target: { responsibilityId: 'S1' }, cents: 500 },
        ],
      });
      // 10000 taken off, 7100 placed: 2900 stays with P1 as credit.
      if ('moves' in plan) expect(plan.moves.reduce((s, m) => s + m.cents, 0)).toBe(7100);
    });

    it('moves allocations oldest first, sharing the room between payments', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { paidCents: 3000 })] };
      const allocations = [alloc('A1', 'P1', 'E1', 2000, 5), alloc('A2', 'P2', 'E1', 1000, 2)];
      expect(planRemittance(charge, [adj('PR', '3', 2500)], allocations, [])).toMatchObject({
        reductions: [
          { allocationId: 'A2', cents: 1000 },
          { allocationId: 'A1', cents: 2000 },
        ],
        moves: [
          { paymentId: 'P2', target: { newLine: 0 }, cents: 1000 },
          { paymentId: 'P1', target: { newLine: 0 }, cents: 1500 },
        ],
      });
    });

    it('handles several superseded lines of different kinds', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { kind: 'COPAY', amountCents: 1500, paidCents: 1500 }), line('E2', { kind: 'DEDUCTIBLE', amountCents: 1000, paidCents: 1000 })] };
      const allocations = [alloc('A1', 'P1', 'E1', 1500, 1), alloc('A2', 'P2', 'E2', 1000, 2)];
      expect(planRemittance(charge, [adj('PR', '1', 1000), adj('PR', '3', 1000)], allocations, [])).toMatchObject({
        supersededLineIds: ['E1', 'E2'],
        reductions: [
          { allocationId: 'A1', cents: 1500 },
          { allocationId: 'A2', cents: 1000 },
        ],
        moves: [
          { paymentId: 'P1', target: { newLine: 1 }, cents: 1000 }, // COPAY → COPAY
          { paymentId: 'P1', target: { newLine: 0 }, cents: 500 }, // then the deductible line
          { paymentId: 'P2', target: { newLine: 0 }, cents: 500 }, // DEDUCTIBLE → what is left of it
        ],
      });
    });

    it('ignores allocations on other lines and emptied allocations', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { paidCents: 1000 }), line('T1', { origin: 'STAFF', paidCents: 500 })] };
      const allocations = [alloc('A1', 'P1', 'E1', 0, 1), alloc('A2', 'P1', 'T1', 500, 2), alloc('A3', 'P2', 'E1', 1000, 3), alloc('A4', 'P3', 'ELSEWHERE', 700, 4)];
      expect(planRemittance(charge, [adj('PR', '3', 3000)], allocations, [])).toMatchObject({
        reductions: [{ allocationId: 'A3', cents: 1000 }],
        moves: [{ paymentId: 'P2', target: { newLine: 0 }, cents: 1000 }],
      });
    });

    it('leaves everything as credit when nothing has room', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { paidCents: 3000 }), line('R1', { origin: 'REMITTANCE', paidCents: 3000 })] };
      expect(planRemittance(charge, [], [alloc('A1', 'P1', 'E1', 3000, 1)], [])).toMatchObject({
        reductions: [{ allocationId: 'A1', cents: 3000 }],
        moves: [],
      });
    });

    it('reverses active write-offs on superseded lines only', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { writtenOffCents: 1500 }), line('R1', { origin: 'REMITTANCE', writtenOffCents: 100 })] };
      const writeOffs = [wo('W1', 'E1', 1000), wo('W2', 'E1', 0, 700), wo('W3', 'E1', 500, 900), wo('W4', 'R1', 100)];
      expect(planRemittance(charge, [adj('PR', '3', 3000)], [], writeOffs)).toMatchObject({
        supersededLineIds: ['E1'],
        reversals: [
          { writeOffId: 'W1', cents: 1000 },
          { writeOffId: 'W3', cents: 500 },
        ],
      });
    });

    it('does not modify its inputs', () => {
      const charge = Object.freeze({ billedCents: 50000, lines: Object.freeze([Object.freeze(line('E1', { paidCents: 3000 }))]) });
      const allocations = Object.freeze([Object.freeze(alloc('A2', 'P2', 'E1', 1000, 2)), Object.freeze(alloc('A1', 'P1', 'E1', 2000, 1))]);
      const plan = planRemittance(charge, Object.freeze([Object.freeze(adj('PR', '3', 3000))]), allocations, Object.freeze([Object.freeze(wo('W', 'E1', 1))]));
      expect(plan).toMatchObject({ reductions: [{ allocationId: 'A1' }, { allocationId: 'A2' }] });
      expect(allocations.map((a) => a.id)).toEqual(['A2', 'A1']);
    });
  });
});
