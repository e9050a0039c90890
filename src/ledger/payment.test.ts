import { checkAllocationAmount, checkAllocationAmounts, checkPaymentAmount, paymentInputRefusal, planBalancePayment, planLinePayment } from './payment';
import { MAX_INPUT_CENTS } from './money';
import { LineState } from './types';

function line(id: string, over: Partial<LineState> = {}): LineState {
  return { id, chargeId: 'C1', kind: 'COINSURANCE', origin: 'REMITTANCE', status: 'ACTIVE', amountCents: 10000, paidCents: 0, writtenOffCents: 0, ...over };
}
function byId(...lines: LineState[]): Map<string, LineState> {
  return new Map(lines.map((l) => [l.id, l]));
}

const PAYMENT_INVALID = { code: 'INVALID_AMOUNT', message: 'Enter a payment amount greater than $0.00.', field: ['input', 'amountCents'] };
const BAD_AMOUNTS = [0, -1, -0.5, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, MAX_INPUT_CENTS + 1];

describe('checkPaymentAmount', () => {
  it.each([1, 3000, MAX_INPUT_CENTS])('accepts %p', (amount) => {
    expect(checkPaymentAmount(amount)).toBeNull();
  });
  it.each(BAD_AMOUNTS)('refuses %p', (amount) => {
    expect(checkPaymentAmount(amount)).toEqual(PAYMENT_INVALID);
  });
});

describe('planLinePayment (up-front and self-pay)', () => {
  const charge = { billedCents: 25000, lines: [line('L1')] };

  it.each([
    ['COPAY', 'COPAY', 'ESTIMATED'],
    ['COINSURANCE', 'COINSURANCE', 'ESTIMATED'],
    ['DEDUCTIBLE', 'DEDUCTIBLE', 'ESTIMATED'],
    ['SELF_PAY', 'SELF_PAY', 'SELF_PAY'],
  ] as const)('%s creates a %s line of origin %s for the payment amount', (purpose, kind, origin) => {
    expect(planLinePayment(purpose, 3000, charge, false)).toEqual({ kind: 'NEW_LINE', line: { kind, origin, amountCents: 3000 } });
  });

  it('fits exactly the charge’s remaining room, and not a cent more', () => {
    expect(planLinePayment('SELF_PAY', 15000, charge, false)).toEqual({ kind: 'NEW_LINE', line: { kind: 'SELF_PAY', origin: 'SELF_PAY', amountCents: 15000 } });
    expect(planLinePayment('SELF_PAY', 15001, charge, false)).toEqual({
      code: 'PR_EXCEEDS_CHARGE',
      message: "The patient's responsibility can't be more than the charge's billed amount of $250.00.",
      field: ['input', 'amountCents'],
    });
  });

  it('ignores cancelled lines when working out the room', () => {
    const c = { billedCents: 25000, lines: [line('L1'), line('L2', { amountCents: 15000, status: 'CANCELLED' })] };
    expect(planLinePayment('COPAY', 15000, c, false)).toMatchObject({ kind: 'NEW_LINE' });
    const full = { billedCents: 25000, lines: [line('L1'), line('L2', { amountCents: 15000 })] };
    expect(planLinePayment('COPAY', 1, full, false)).toMatchObject({ code: 'PR_EXCEEDS_CHARGE' });
  });

  it('ignores reversed lines when working out the room (docs/design.md §8.3)', () => {
    const c = { billedCents: 25000, lines: [line('L1'), line('L2', { amountCents: 15000, status: 'REVERSED' })] };
    expect(planLinePayment('COPAY', 15000, c, false)).toMatchObject({ kind: 'NEW_LINE' });
    expect(planLinePayment('COPAY', 15001, c, false)).toMatchObject({ code: 'PR_EXCEEDS_CHARGE' });
  });

  it.each(BAD_AMOUNTS)('refuses an amount of %p first (before charge and allocation checks)', (amount) => {
    expect(planLinePayment('COPAY', amount, null, true)).toEqual(PAYMENT_INVALID);
  });

  it('CHARGE_REQUIRED without a charge, before ALLOCATION_NOT_ALLOWED', () => {
    const required = { code: 'CHARGE_REQUIRED', message: 'Choose the charge (visit) this payment is for.', field: ['input', 'chargeId'] };
    expect(planLinePayment('COPAY', 3000, null, false)).toEqual(required);
    expect(planLinePayment('SELF_PAY', 3000, null, true)).toEqual(required);
  });

  it('ALLOCATION_NOT_ALLOWED when allocations are given, before PR_EXCEEDS_CHARGE', () => {
    const notAllowed = {
      code: 'ALLOCATION_NOT_ALLOWED',
      message: 'Allocations go only with balance payments; this payment pays the new line it creates.',
      field: ['input', 'allocations'],
    };
    expect(planLinePayment('DEDUCTIBLE', 3000, charge, true)).toEqual(notAllowed);
    expect(planLinePayment('DEDUCTIBLE', MAX_INPUT_CENTS, charge, true)).toEqual(notAllowed);
  });
});

describe('planBalancePayment', () => {
  const lines = byId(line('L1'), line('L2', { amountCents: 5000, paidCents: 1000, writtenOffCents: 1000 }), line('L3', { status: 'CANCELLED', amountCents: 2000 }));

  it('with no allocations, the whole payment becomes credit', () => {
    expect(planBalancePayment(3000, [], lines)).toEqual({ kind: 'BALANCE', allocations: [] });
  });

  it('allocates up to the open amount of each line, leaving the rest as credit', () => {
    expect(
      planBalancePayment(
        20000,
        [
          { responsibilityId: 'L1', amountCents: 10000 },
          { responsibilityId: 'L2', amountCents: 3000 },
        ],
        lines,
      ),
    ).toEqual({
      kind: 'BALANCE',
      allocations: [
        { responsibilityId: 'L1', amountCents: 10000 },
        { responsibilityId: 'L2', amountCents: 3000 },
      ],
    });
  });

  it('allocations may add up to exactly the payment', () => {
    expect(planBalancePayment(4000, [{ responsibilityId: 'L1', amountCents: 1000 }, { responsibilityId: 'L2', amountCents: 3000 }], lines)).toMatchObject({
      kind: 'BALANCE',
    });
  });

  it('merges several allocations to the same line, in first-seen order', () => {
    expect(
      planBalancePayment(
        10000,
        [
          { responsibilityId: 'L2', amountCents: 1000 },
          { responsibilityId: 'L1', amountCents: 500 },
          { responsibilityId: 'L2', amountCents: 2000 },
          { responsibilityId: 'L1', amountCents: 1 },
        ],
        lines,
      ),
    ).toEqual({
      kind: 'BALANCE',
      allocations: [
        { responsibilityId: 'L2', amountCents: 3000 },
        { responsibilityId: 'L1', amountCents: 501 },
      ],
    });
  });

  it('checks the merged total against the open amount (ALLOCATION_EXCEEDS_OPEN at the allocation that tips it over)', () => {
    expect(
      planBalancePayment(
        10000,
        [
          { responsibilityId: 'L2', amountCents: 2000 },
          { responsibilityId: 'L1', amountCents: 10 },
          { responsibilityId: 'L2', amountCents: 1001 },
        ],
        lines,
      ),
    ).toEqual({
      code: 'ALLOCATION_EXCEEDS_OPEN',
      message: "You can't put $30.01 on this PR: only $30.00 is open on this PR.",
      field: ['input', 'allocations', '2', 'amountCents'],
    });
  });

  it('refuses open + 1 on a single allocation', () => {
    expect(planBalancePayment(20000, [{ responsibilityId: 'L1', amountCents: 10001 }], lines)).toEqual({
      code: 'ALLOCATION_EXCEEDS_OPEN',
      message: "You can't put $100.01 on this PR: only $100.00 is open on this PR.",
      field: ['input', 'allocations', '0', 'amountCents'],
    });
  });

  it('refuses anything on a closed line, saying $0.00 is open', () => {
    const closed = byId(line('L9', { paidCents: 4000, writtenOffCents: 6000 }));
    expect(planBalancePayment(100, [{ responsibilityId: 'L9', amountCents: 1 }], closed)).toEqual({
      code: 'ALLOCATION_EXCEEDS_OPEN',
      message: "You can't put $0.01 on this PR: only $0.00 is open on this PR.",
      field: ['input', 'allocations', '0', 'amountCents'],
    });
  });

  it('refuses a cancelled line, saying so', () => {
    expect(planBalancePayment(3000, [{ responsibilityId: 'L3', amountCents: 100 }], lines)).toEqual({
      code: 'ALLOCATION_EXCEEDS_OPEN',
      message: "You can't put $1.00 on this PR: this PR was cancelled.",
      field: ['input', 'allocations', '0', 'amountCents'],
    });
  });

  it('refuses a reversed line, saying so (docs/design.md §8.3)', () => {
    const withReversed = byId(line('L4', { status: 'REVERSED', amountCents: 2000 }), line('L5', { status: 'REVERSED', amountCents: 2000, paidCents: 2000 }));
    for (const id of ['L4', 'L5']) {
      expect(planBalancePayment(3000, [{ responsibilityId: id, amountCents: 100 }], withReversed)).toEqual({
        code: 'ALLOCATION_EXCEEDS_OPEN',
        message: "You can't put $1.00 on this PR: this PR was reversed.",
        field: ['input', 'allocations', '0', 'amountCents'],
      });
    }
  });

  it('NOT_FOUND for a line that is not the patient’s, pointing at the allocation', () => {
    expect(planBalancePayment(3000, [{ responsibilityId: 'L1', amountCents: 100 }, { responsibilityId: 'nope', amountCents: 100 }], lines)).toEqual({
      code: 'NOT_FOUND',
      message: 'No PR line with that id was found.',
      field: ['input', 'allocations', '1', 'responsibilityId'],
    });
  });

  it.each([0, -1, 0.5, Number.NaN, MAX_INPUT_CENTS + 1])('INVALID_AMOUNT for an allocation of %p', (amount) => {
    expect(planBalancePayment(3000, [{ responsibilityId: 'L1', amountCents: amount }], lines)).toEqual({
      code: 'INVALID_AMOUNT',
      message: 'Each allocation must be greater than $0.00.',
      field: ['input', 'allocations', '0', 'amountCents'],
    });
  });

  it('ALLOCATIONS_EXCEED_PAYMENT when the lines could take it but the payment is smaller (payment + 1)', () => {
    expect(
      planBalancePayment(
        3000,
        [
          { responsibilityId: 'L1', amountCents: 2000 },
          { responsibilityId: 'L2', amountCents: 1001 },
        ],
        lines,
      ),
    ).toEqual({
      code: 'ALLOCATIONS_EXCEED_PAYMENT',
      message: 'The allocations add up to $30.01, more than the $30.00 payment.',
      field: ['input', 'allocations'],
    });
  });

  describe('evaluation order: first failure wins', () => {
    it('a bad payment amount beats everything', () => {
      expect(planBalancePayment(0, [{ responsibilityId: 'nope', amountCents: -1 }], lines)).toEqual(PAYMENT_INVALID);
    });
    it('allocations are checked one by one in order: NOT_FOUND before a later bad amount', () => {
      expect(planBalancePayment(100, [{ responsibilityId: 'nope', amountCents: 10 }, { responsibilityId: 'L1', amountCents: 0 }], lines)).toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(planBalancePayment(100, [{ responsibilityId: 'L1', amountCents: 0 }, { responsibilityId: 'nope', amountCents: 10 }], lines)).toMatchObject({
        code: 'INVALID_AMOUNT',
      });
    });
    it('within one allocation: NOT_FOUND, then INVALID_AMOUNT, then ALLOCATION_EXCEEDS_OPEN', () => {
      expect(planBalancePayment(100, [{ responsibilityId: 'nope', amountCents: Number.NaN }], lines)).toMatchObject({ code: 'NOT_FOUND' });
      expect(planBalancePayment(100, [{ responsibilityId: 'L3', amountCents: -5 }], lines)).toMatchObject({ code: 'INVALID_AMOUNT' });
    });
    it('a per-line problem beats ALLOCATIONS_EXCEED_PAYMENT', () => {
      expect(planBalancePayment(100, [{ responsibilityId: 'L1', amountCents: 10001 }], lines)).toMatchObject({ code: 'ALLOCATION_EXCEEDS_OPEN' });
      expect(planBalancePayment(100, [{ responsibilityId: 'L1', amountCents: 5000 }, { responsibilityId: 'nope', amountCents: 1 }], lines)).toMatchObject({
        code: 'NOT_FOUND',
      });
    });
  });

  it('handles MAX_INPUT_CENTS on both sides', () => {
    const big = byId(line('B', { amountCents: MAX_INPUT_CENTS }));
    expect(planBalancePayment(MAX_INPUT_CENTS, [{ responsibilityId: 'B', amountCents: MAX_INPUT_CENTS }], big)).toEqual({
      kind: 'BALANCE',
      allocations: [{ responsibilityId: 'B', amountCents: MAX_INPUT_CENTS }],
    });
    // two halves that merge past the line's amount
    expect(
      planBalancePayment(
        MAX_INPUT_CENTS,
        [
          { responsibilityId: 'B', amountCents: MAX_INPUT_CENTS },
          { responsibilityId: 'B', amountCents: 1 },
        ],
        big,
      ),
    ).toEqual({
      code: 'ALLOCATION_EXCEEDS_OPEN',
      message: "You can't put $21,474,836.48 on this PR: only $21,474,836.47 is open on this PR.",
      field: ['input', 'allocations', '1', 'amountCents'],
    });
    expect(planLinePayment('SELF_PAY', MAX_INPUT_CENTS, { billedCents: MAX_INPUT_CENTS, lines: [] }, false)).toMatchObject({
      line: { amountCents: MAX_INPUT_CENTS },
    });
  });

  it('does not modify the lines it reads', () => {
    const frozen = new Map([...lines].map(([k, v]) => [k, Object.freeze({ ...v })]));
    planBalancePayment(10000, [{ responsibilityId: 'L1', amountCents: 10000 }], frozen);
    expect(frozen.get('L1')?.paidCents).toBe(0);
  });
});

// A batch entry is refused as it is added with the code, message and field its single mutation gives (docs/design.md §8.1).
describe('the input refusal of recordPayment', () => {
  test("a balance payment's amount and allocations as planBalancePayment refuses them", () => {
    const lines = byId(line('L1'));
    expect(paymentInputRefusal({ amountCents: 0 })).toEqual(planBalancePayment(0, [], lines));
    const allocations = [{ responsibilityId: 'L1', amountCents: -5 }];
    expect(paymentInputRefusal({ amountCents: 1000, allocations })).toEqual(planBalancePayment(1000, allocations, lines));
    expect(paymentInputRefusal({ amountCents: 1000, purpose: 'BALANCE', allocations: [{ responsibilityId: 'L1', amountCents: 5 }, { responsibilityId: 'L1', amountCents: 0 }] })).toEqual({
      code: 'INVALID_AMOUNT',
      message: 'Each allocation must be greater than $0.00.',
      field: ['input', 'allocations', '1', 'amountCents'],
    });
    // The amount before the allocations.
    expect(paymentInputRefusal({ amountCents: 0, allocations })).toEqual(checkPaymentAmount(0));
    expect(paymentInputRefusal({ amountCents: 1000, allocations: [{ responsibilityId: 'L1', amountCents: 1000 }] })).toBeNull();
    // A payment that pays its own new line is refused its allocations as such (ALLOCATION_NOT_ALLOWED) when it runs.
    expect(paymentInputRefusal({ amountCents: 1000, purpose: 'COPAY', allocations })).toBeNull();
    expect(paymentInputRefusal({ amountCents: 0, purpose: 'COPAY' })).toEqual(planLinePayment('COPAY', 0, null, false));
  });

  test('allocation amounts', () => {
    expect(checkAllocationAmount(1, 0)).toBeNull();
    for (const cents of [0, -1, 1.5]) expect(checkAllocationAmount(cents, 3)).toMatchObject({ code: 'INVALID_AMOUNT', field: ['input', 'allocations', '3', 'amountCents'] });
    expect(checkAllocationAmounts(null)).toBeNull();
    expect(checkAllocationAmounts([])).toBeNull();
  });
});
