import {
  ADJUSTMENT_GROUPS,
  Adjustment,
  checkAdjustments,
  kindForReasonCode,
  planRemittance,
  planReverseRemittance,
  remittanceInputRefusal,
  remittanceToReverse,
  reverseRemittanceInputRefusal,
} from './remittance';
import { LedgerRemittance } from './ledger-state';
import { MAX_LINES_PER_CHARGE, MAX_LINES_PER_PAYMENT } from './limits';
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
      reversedLineIds: [],
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
        reversedLineIds: [],
        reversals: [],
        reductions: [{ allocationId: 'A1', cents: 3000, cause: 'SUPERSEDED' }],
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

describe('planRemittance: a corrected remittance replaces an earlier one (docs/design.md §8.3)', () => {
  const rem = (id: string, over: Partial<LineState> = {}) => line(id, { origin: 'REMITTANCE', ...over });
  const HAS_WRITE_OFFS = { code: 'PR_HAS_WRITE_OFFS', message: "Remove the write-offs on this remittance's PR lines first: a reversed line can't keep a write-off." };

  it('reverses the replaced lines; their money goes to the new line of the same kind first, as REVERSAL reductions', () => {
    const charge = { billedCents: 50000, lines: [rem('R1', { kind: 'COPAY', paidCents: 3000 }), rem('R2', { kind: 'DEDUCTIBLE', amountCents: 2000 })] };
    expect(planRemittance(charge, [adj('PR', '1', 2000), adj('PR', '3', 2500)], [alloc('A1', 'P1', 'R1', 3000, 1)], [], { lineIds: ['R1', 'R2'] })).toEqual({
      adjustments: [adj('PR', '1', 2000), adj('PR', '3', 2500)],
      newLines: [
        { kind: 'DEDUCTIBLE', reasonCode: '1', amountCents: 2000 },
        { kind: 'COPAY', reasonCode: '3', amountCents: 2500 },
      ],
      supersededLineIds: [],
      reversedLineIds: ['R1', 'R2'],
      reversals: [],
      reductions: [{ allocationId: 'A1', cents: 3000, cause: 'REVERSAL' }],
      moves: [
        { paymentId: 'P1', target: { newLine: 1 }, cents: 2500 },
        { paymentId: 'P1', target: { newLine: 0 }, cents: 500 },
      ],
    });
  });

  it('then the other new lines in the order of the adjustments, then the charge’s other active lines oldest first; the rest stays credit', () => {
    const charge = {
      billedCents: 50000,
      lines: [
        line('T1', { origin: 'STAFF', kind: 'CUSTOM', amountCents: 1000, paidCents: 400 }),
        rem('R1', { kind: 'COINSURANCE', amountCents: 10000, paidCents: 10000 }),
        line('X1', { origin: 'STAFF', kind: 'CUSTOM', amountCents: 500, status: 'CANCELLED' }),
        rem('R0', { kind: 'OTHER', amountCents: 700 }),
        line('T2', { origin: 'STAFF', kind: 'CUSTOM', amountCents: 800, writtenOffCents: 800 }),
      ],
    };
    const plan = planRemittance(charge, [adj('PR', '3', 1000), adj('PR', '1', 2000), adj('PR', '2', 3000)], [alloc('A1', 'P1', 'R1', 10000, 1)], [], { lineIds: ['R1'] });
    expect(plan).toMatchObject({
      reversedLineIds: ['R1'],
      supersededLineIds: [],
      reductions: [{ allocationId: 'A1', cents: 10000, cause: 'REVERSAL' }],
      moves: [
        { paymentId: 'P1', target: { newLine: 2 }, cents: 3000 }, // COINSURANCE: same kind
        { paymentId: 'P1', target: { newLine: 0 }, cents: 1000 },
        { paymentId: 'P1', target: { newLine: 1 }, cents: 2000 },
        { paymentId: 'P1', target: { responsibilityId: 'T1' }, cents: 600 },
        { paymentId: 'P1', target: { responsibilityId: 'R0' }, cents: 700 },
      ],
    });
    // 10000 taken off, 7300 placed: 2700 stays with P1 as credit.
    if ('moves' in plan) expect(plan.moves.reduce((s, m) => s + m.cents, 0)).toBe(7300);
  });

  it('puts nothing back on the replaced lines, nor on cancelled or reversed ones: with no new line it all stays credit', () => {
    const charge = {
      billedCents: 50000,
      lines: [rem('R1', { paidCents: 3000 }), rem('V1', { status: 'REVERSED', amountCents: 5000 }), line('X1', { origin: 'STAFF', status: 'CANCELLED', amountCents: 5000 })],
    };
    expect(planRemittance(charge, [adj('CO', '45', 100)], [alloc('A1', 'P1', 'R1', 3000, 1)], [], { lineIds: ['R1'] })).toEqual({
      adjustments: [adj('CO', '45', 100)],
      newLines: [],
      supersededLineIds: [],
      reversedLineIds: ['R1'],
      reversals: [],
      reductions: [{ allocationId: 'A1', cents: 3000, cause: 'REVERSAL' }],
      moves: [],
    });
  });

  it('supersedes the estimates in the same step: SUPERSEDED and REVERSAL reductions, allocations oldest first across both', () => {
    const charge = { billedCents: 50000, lines: [line('E1', { kind: 'COPAY', amountCents: 1000, paidCents: 1000 }), rem('R1', { kind: 'COPAY', amountCents: 2000, paidCents: 2000 })] };
    const allocations = [alloc('A1', 'P1', 'R1', 2000, 5), alloc('A2', 'P2', 'E1', 1000, 2)];
    expect(planRemittance(charge, [adj('PR', '3', 2500)], allocations, [], { lineIds: ['R1'] })).toEqual({
      adjustments: [adj('PR', '3', 2500)],
      newLines: [{ kind: 'COPAY', reasonCode: '3', amountCents: 2500 }],
      supersededLineIds: ['E1'],
      reversedLineIds: ['R1'],
      reversals: [],
      reductions: [
        { allocationId: 'A2', cents: 1000, cause: 'SUPERSEDED' },
        { allocationId: 'A1', cents: 2000, cause: 'REVERSAL' },
      ],
      moves: [
        { paymentId: 'P2', target: { newLine: 0 }, cents: 1000 },
        { paymentId: 'P1', target: { newLine: 0 }, cents: 1500 },
      ],
    });
  });

  it('ignores emptied allocations and allocations on lines that are not replaced', () => {
    const charge = { billedCents: 50000, lines: [rem('R1', { paidCents: 1000 }), rem('R0', { paidCents: 500 })] };
    const allocations = [alloc('A0', 'P1', 'R1', 0, 1), alloc('A1', 'P1', 'R1', 1000, 2), alloc('A2', 'P2', 'R0', 500, 3), alloc('A3', 'P3', 'ELSEWHERE', 700, 4)];
    expect(planRemittance(charge, [adj('PR', '3', 3000)], allocations, [], { lineIds: ['R1'] })).toMatchObject({
      reversedLineIds: ['R1'],
      reductions: [{ allocationId: 'A1', cents: 1000, cause: 'REVERSAL' }],
      moves: [{ paymentId: 'P1', target: { newLine: 0 }, cents: 1000 }],
    });
  });

  it('without `replaced`, or with no lines in it, nothing is reversed and the earlier lines keep their money', () => {
    const charge = { billedCents: 50000, lines: [rem('R1', { paidCents: 1000 })] };
    const allocations = [alloc('A1', 'P1', 'R1', 1000, 1)];
    for (const replaced of [undefined, null, { lineIds: [] }]) {
      expect(planRemittance(charge, [adj('PR', '3', 3000)], allocations, [], replaced)).toMatchObject({ reversedLineIds: [], reductions: [], moves: [] });
    }
  });

  describe('PR_HAS_WRITE_OFFS', () => {
    it('refuses while a replaced line has an active write-off, even 1 cent, on any of them', () => {
      const charge = { billedCents: 50000, lines: [rem('R1'), rem('R2', { writtenOffCents: 1 })] };
      expect(planRemittance(charge, [adj('PR', '3', 100)], [], [wo('W1', 'R2', 1)], { lineIds: ['R1', 'R2'] })).toEqual(HAS_WRITE_OFFS);
      const paidToo = { billedCents: 50000, lines: [rem('R1', { paidCents: 1000, writtenOffCents: 2000 })] };
      expect(planRemittance(paidToo, [], [alloc('A1', 'P1', 'R1', 1000, 1)], [wo('W1', 'R1', 2000)], { lineIds: ['R1'] })).toEqual(HAS_WRITE_OFFS);
    });

    it('a fully removed write-off does not block; nor does one on a line that is not replaced', () => {
      const charge = { billedCents: 50000, lines: [rem('R1'), rem('R0', { writtenOffCents: 500 })] };
      const writeOffs = [wo('W1', 'R1', 0, 900), wo('W2', 'R0', 500)];
      expect(planRemittance(charge, [adj('PR', '3', 100)], [], writeOffs, { lineIds: ['R1'] })).toMatchObject({ reversedLineIds: ['R1'], reversals: [] });
    });

    it('a write-off on a superseded estimate is still reversed, not refused', () => {
      const charge = { billedCents: 50000, lines: [line('E1', { writtenOffCents: 700 }), rem('R1')] };
      expect(planRemittance(charge, [adj('PR', '3', 100)], [], [wo('W1', 'E1', 700)], { lineIds: ['R1'] })).toMatchObject({
        supersededLineIds: ['E1'],
        reversedLineIds: ['R1'],
        reversals: [{ writeOffId: 'W1', cents: 700 }],
      });
    });

    it('comes after the adjustment and line-count checks and before PR_EXCEEDS_CHARGE', () => {
      const charge = { billedCents: 100, lines: [rem('R1', { writtenOffCents: 1, amountCents: 100 })] };
      expect(planRemittance(charge, [adj('PR', '3', 0)], [], [], { lineIds: ['R1'] })).toMatchObject({ code: 'INVALID_AMOUNT' });
      const crowded = { billedCents: 100, lines: [...charge.lines, ...Array.from({ length: MAX_LINES_PER_CHARGE - 1 }, (_, i) => line(`X${i}`, { status: 'CANCELLED' }))] };
      expect(planRemittance(crowded, [adj('PR', '3', 1)], [], [], { lineIds: ['R1'] })).toMatchObject({ code: 'TOO_MANY_ITEMS' });
      expect(planRemittance(charge, [adj('PR', '3', 101)], [], [], { lineIds: ['R1'] })).toEqual(HAS_WRITE_OFFS);
    });
  });

  describe('PR_EXCEEDS_CHARGE counts the new lines instead of the replaced ones', () => {
    const charge = {
      billedCents: 10000,
      lines: [rem('R1', { amountCents: 8000 }), line('T1', { origin: 'STAFF', amountCents: 1000 }), rem('V1', { status: 'REVERSED', amountCents: 20000 })],
    };

    it('allows new lines up to billed − the other active lines, refuses one cent more', () => {
      expect(planRemittance(charge, [adj('PR', '1', 5000), adj('PR', '3', 4000)], [], [], { lineIds: ['R1'] })).toMatchObject({ reversedLineIds: ['R1'] });
      expect(planRemittance(charge, [adj('PR', '1', 5000), adj('PR', '3', 4001)], [], [], { lineIds: ['R1'] })).toEqual(exceeds('$100.00'));
    });

    it('without the replacement the earlier lines still count', () => {
      expect(planRemittance(charge, [adj('PR', '3', 1000)], [], [])).toMatchObject({ reversedLineIds: [] });
      expect(planRemittance(charge, [adj('PR', '3', 1001)], [], [])).toEqual(exceeds('$100.00'));
    });
  });

  it('TOO_MANY_ITEMS counts the replaced lines: they stay on the charge, reversed', () => {
    const lines = [rem('R1'), ...Array.from({ length: MAX_LINES_PER_CHARGE - 3 }, (_, i) => line(`X${i}`, { origin: 'STAFF', status: 'CANCELLED' }))];
    expect(planRemittance({ billedCents: 50000, lines }, [adj('PR', '3', 1), adj('PR', '1', 1)], [], [], { lineIds: ['R1'] })).toMatchObject({ reversedLineIds: ['R1'] });
    expect(planRemittance({ billedCents: 50000, lines }, [adj('PR', '3', 1), adj('PR', '1', 1), adj('PR', '2', 1)], [], [], { lineIds: ['R1'] })).toEqual({
      code: 'TOO_MANY_ITEMS',
      message: `A charge can have at most ${MAX_LINES_PER_CHARGE} PR lines, cancelled ones included; this one would have ${MAX_LINES_PER_CHARGE + 1}.`,
      field: ['input', 'adjustments'],
    });
  });

  it('a move never spreads a payment over more than MAX_LINES_PER_PAYMENT lines; the replaced line it leaves does not count', () => {
    const charge = { billedCents: 50000, lines: [rem('R1', { kind: 'COPAY', paidCents: 3000 })] };
    const elsewhere = (n: number) => Array.from({ length: n }, (_, i) => alloc(`B${i}`, 'P1', `ELSEWHERE-${i}`, 1, 10 + i));
    // On R1 and 99 other lines: R1 is emptied, so one new line fits, the second does not.
    const onHundred = [alloc('A1', 'P1', 'R1', 3000, 1), ...elsewhere(MAX_LINES_PER_PAYMENT - 1)];
    expect(planRemittance(charge, [adj('PR', '3', 1000), adj('PR', '1', 1000)], onHundred, [], { lineIds: ['R1'] })).toMatchObject({
      reductions: [{ allocationId: 'A1', cents: 3000, cause: 'REVERSAL' }],
      moves: [{ paymentId: 'P1', target: { newLine: 0 }, cents: 1000 }],
    });
    // On R1 and 100 other lines: no new line fits, it all stays credit.
    const onHundredOne = [alloc('A1', 'P1', 'R1', 3000, 1), ...elsewhere(MAX_LINES_PER_PAYMENT)];
    expect(planRemittance(charge, [adj('PR', '3', 1000), adj('PR', '1', 1000)], onHundredOne, [], { lineIds: ['R1'] })).toMatchObject({
      reductions: [{ allocationId: 'A1', cents: 3000, cause: 'REVERSAL' }],
      moves: [],
    });
  });

  it('does not modify its inputs', () => {
    const charge = Object.freeze({ billedCents: 50000, lines: Object.freeze([Object.freeze(rem('R1', { paidCents: 3000 }))]) });
    const allocations = Object.freeze([Object.freeze(alloc('A2', 'P2', 'R1', 1000, 2)), Object.freeze(alloc('A1', 'P1', 'R1', 2000, 1))]);
    const replaced = Object.freeze({ lineIds: Object.freeze(['R1']) });
    const plan = planRemittance(charge, Object.freeze([Object.freeze(adj('PR', '3', 3000))]), allocations, [], replaced);
    expect(plan).toMatchObject({ reductions: [{ allocationId: 'A1' }, { allocationId: 'A2' }] });
    expect(allocations.map((a) => a.id)).toEqual(['A2', 'A1']);
    expect(charge.lines[0].status).toBe('ACTIVE');
  });
});

describe('planReverseRemittance (docs/design.md §8.3)', () => {
  const rem = (id: string, over: Partial<LineState> = {}) => line(id, { origin: 'REMITTANCE', ...over });

  it('reverses every line of the remittance and releases only the money left on them', () => {
    const lines = [rem('R1', { paidCents: 3000 }), rem('R2')];
    const allocations = [
      alloc('A1', 'P1', 'R1', 2000, 1),
      alloc('A2', 'P2', 'R1', 1000, 2),
      alloc('A3', 'P1', 'R1', 0, 3),
      alloc('A4', 'P1', 'OTHER', 500, 4),
    ];
    expect(planReverseRemittance(lines, allocations)).toEqual({
      lineIds: ['R1', 'R2'],
      releases: [
        { allocationId: 'A1', cents: 2000 },
        { allocationId: 'A2', cents: 1000 },
      ],
    });
  });

  it('a remittance that created no PR reverses nothing', () => {
    expect(planReverseRemittance([], [alloc('A1', 'P1', 'R1', 100, 1)])).toEqual({ lineIds: [], releases: [] });
  });

  it('PR_HAS_WRITE_OFFS while any of its lines has an active write-off, even 1 cent', () => {
    const refusal = { code: 'PR_HAS_WRITE_OFFS', message: "Remove the write-offs on this remittance's PR lines first: a reversed line can't keep a write-off." };
    expect(planReverseRemittance([rem('R1'), rem('R2', { writtenOffCents: 1 })], [])).toEqual(refusal);
    expect(planReverseRemittance([rem('R1', { paidCents: 1000, writtenOffCents: 2000 })], [alloc('A1', 'P1', 'R1', 1000, 1)])).toEqual(refusal);
  });

  it('a line with write-offs that were all removed can be reversed', () => {
    expect(planReverseRemittance([rem('R1', { writtenOffCents: 0, paidCents: 100 })], [alloc('A1', 'P1', 'R1', 100, 1)])).toEqual({
      lineIds: ['R1'],
      releases: [{ allocationId: 'A1', cents: 100 }],
    });
  });

  it('does not modify its inputs', () => {
    const lines = Object.freeze([Object.freeze(rem('R1', { paidCents: 100 }))]);
    const allocations = Object.freeze([Object.freeze(alloc('A1', 'P1', 'R1', 100, 1))]);
    expect(planReverseRemittance(lines, allocations)).toEqual({ lineIds: ['R1'], releases: [{ allocationId: 'A1', cents: 100 }] });
    expect(lines[0].status).toBe('ACTIVE');
  });
});

describe('remittanceToReverse (docs/design.md §8.3)', () => {
  const FIELD = ['input', 'remittanceId'];
  const record = (externalId: string, reversed: boolean): LedgerRemittance => ({ recordId: `rec-${externalId}`, externalId, lineIds: ['L1'], reversed });
  const charge = { remittances: new Map([['ERA-1', record('ERA-1', false)], ['ERA-2', record('ERA-2', true)]]) };

  it('finds the remittance recorded for this charge under its external id', () => {
    expect(remittanceToReverse(charge, 'ERA-1', FIELD)).toBe(charge.remittances.get('ERA-1'));
  });

  it('REMITTANCE_NOT_FOUND for an id not recorded for this charge (the record id is not the external id)', () => {
    expect(remittanceToReverse(charge, 'ERA-9', FIELD)).toEqual({ code: 'REMITTANCE_NOT_FOUND', message: 'No remittance ERA-9 was recorded for this charge.', field: FIELD });
    expect(remittanceToReverse(charge, 'rec-ERA-1', ['input', 'replacesRemittanceId'])).toEqual({
      code: 'REMITTANCE_NOT_FOUND',
      message: 'No remittance rec-ERA-1 was recorded for this charge.',
      field: ['input', 'replacesRemittanceId'],
    });
    expect(remittanceToReverse({ remittances: new Map() }, 'ERA-1', FIELD)).toMatchObject({ code: 'REMITTANCE_NOT_FOUND' });
  });

  it('ALREADY_REVERSED for one reversed or replaced before', () => {
    expect(remittanceToReverse(charge, 'ERA-2', FIELD)).toEqual({ code: 'ALREADY_REVERSED', message: 'Remittance ERA-2 was already reversed.', field: FIELD });
  });
});

// A batch entry is refused as it is added with the code, message and field its single mutation gives (docs/design.md §8.1).
describe('the input refusals of recordRemittance and reverseRemittance', () => {
  test('recordRemittance: the remittance id, the one it replaces, then the adjustments', () => {
    const adjustments = [{ groupCode: 'XX', reasonCode: '1', amountCents: 100 }];
    expect(remittanceInputRefusal({ remittanceId: 'ERA-1', adjustments })).toEqual(checkAdjustments(adjustments));
    expect(remittanceInputRefusal({ remittanceId: ' ', adjustments })).toMatchObject({ code: 'INVALID_TEXT', field: ['input', 'remittanceId'] });
    expect(remittanceInputRefusal({ remittanceId: 'ERA-2', replacesRemittanceId: 'bad\u0007id', adjustments })).toMatchObject({ code: 'INVALID_TEXT', field: ['input', 'replacesRemittanceId'] });
    expect(remittanceInputRefusal({ remittanceId: 'ERA-2', replacesRemittanceId: ' ', adjustments: [{ groupCode: 'PR', reasonCode: '1', amountCents: 100 }] })).toBeNull();
  });

  test('reverseRemittance: the remittance id, then the reason', () => {
    expect(reverseRemittanceInputRefusal({ remittanceId: 'ERA-1', reason: ' ' })).toMatchObject({ code: 'INVALID_TEXT', field: ['input', 'reason'] });
    expect(reverseRemittanceInputRefusal({ remittanceId: ' ', reason: ' ' })).toMatchObject({ code: 'INVALID_TEXT', field: ['input', 'remittanceId'] });
    expect(reverseRemittanceInputRefusal({ remittanceId: 'ERA-1', reason: 'Reversed' })).toBeNull();
  });
});
