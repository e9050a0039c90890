import { chargeCapacityCents, checkNewCharge, exceedsCharge } from './charge';
import { MAX_INPUT_CENTS } from './money';
import { LineState } from './types';

function line(id: string, amountCents: number, status: LineState['status'] = 'ACTIVE'): LineState {
  return { id, chargeId: 'C1', kind: 'OTHER', origin: 'STAFF', status, amountCents, paidCents: 0, writtenOffCents: 0 };
}

const BILLED_INVALID = { code: 'INVALID_AMOUNT', message: 'Enter a billed amount greater than $0.00.', field: ['input', 'billedCents'] };
const lineInvalid = (i: number) => ({
  code: 'INVALID_AMOUNT',
  message: 'Each responsibility amount must be greater than $0.00.',
  field: ['input', 'responsibilities', String(i), 'amountCents'],
});

describe('chargeCapacityCents', () => {
  it('is billed less the active lines, ignoring cancelled ones', () => {
    expect(chargeCapacityCents(25000, [])).toBe(25000);
    expect(chargeCapacityCents(25000, [line('a', 10000), line('b', 5000)])).toBe(10000);
    expect(chargeCapacityCents(25000, [line('a', 10000), line('b', 5000, 'CANCELLED')])).toBe(15000);
    expect(chargeCapacityCents(25000, [line('a', 25000)])).toBe(0);
  });

  it('ignores reversed lines too (docs/design.md §8.3)', () => {
    expect(chargeCapacityCents(25000, [line('a', 10000), line('b', 5000, 'REVERSED')])).toBe(15000);
    expect(chargeCapacityCents(25000, [line('a', 25000, 'REVERSED'), line('b', 25000, 'CANCELLED')])).toBe(25000);
  });

  it('does not depend on payments or write-offs on the lines', () => {
    const l = { ...line('a', 10000), paidCents: 4000, writtenOffCents: 6000 };
    expect(chargeCapacityCents(25000, [l])).toBe(15000);
  });
});

describe('exceedsCharge', () => {
  it("names the billed amount formatted as money", () => {
    expect(exceedsCharge(25000)).toEqual({
      code: 'PR_EXCEEDS_CHARGE',
      message: "The patient's responsibility can't be more than the charge's billed amount of $250.00.",
    });
    expect(exceedsCharge(123456789, ['input', 'x'])).toEqual({
      code: 'PR_EXCEEDS_CHARGE',
      message: "The patient's responsibility can't be more than the charge's billed amount of $1,234,567.89.",
      field: ['input', 'x'],
    });
  });
});

describe('checkNewCharge', () => {
  it('accepts positive lines that fit, including exactly the billed amount, and none at all', () => {
    expect(checkNewCharge(25000, [])).toBeNull();
    expect(checkNewCharge(25000, [10000, 15000])).toBeNull();
    expect(checkNewCharge(1, [1])).toBeNull();
    expect(checkNewCharge(MAX_INPUT_CENTS, [MAX_INPUT_CENTS])).toBeNull();
  });

  it.each([0, -1, 1.5, Number.NaN, MAX_INPUT_CENTS + 1, Number.POSITIVE_INFINITY])('refuses a billed amount of %p', (billed) => {
    expect(checkNewCharge(billed, [])).toEqual(BILLED_INVALID);
    // the billed amount is checked before the lines
    expect(checkNewCharge(billed, [0])).toEqual(BILLED_INVALID);
  });

  it.each([0, -1, 0.5, Number.NaN, MAX_INPUT_CENTS + 1])('refuses a line of %p, naming the first bad index', (amount) => {
    expect(checkNewCharge(25000, [amount])).toEqual(lineInvalid(0));
    expect(checkNewCharge(25000, [100, amount, 0])).toEqual(lineInvalid(1));
  });

  it('refuses lines adding up to more than billed (billed + 1 cent)', () => {
    expect(checkNewCharge(25000, [10000, 15001])).toEqual({
      code: 'PR_EXCEEDS_CHARGE',
      message: "The patient's responsibility can't be more than the charge's billed amount of $250.00.",
      field: ['input', 'responsibilities'],
    });
    expect(checkNewCharge(1, [1, 1])?.code).toBe('PR_EXCEEDS_CHARGE');
  });

  it('reports a bad line before the total', () => {
    expect(checkNewCharge(100, [200, -1])).toEqual(lineInvalid(1));
  });
});
