import {
  WRITE_OFF_REASONS,
  WriteOffReason,
  WriteOffReasons,
  checkRemovalAmount,
  checkWriteOffAmount,
  checkWriteOffReason,
  planRemoval,
  planWriteOff,
  removalInputRefusal,
  writeOffInputRefusal,
} from './write-off';
import { cleanText } from './text';
import { MAX_INPUT_CENTS } from './money';
import { LineState, WriteOffState } from './types';

function line(over: Partial<LineState> = {}): LineState {
  return { id: 'L1', chargeId: 'C1', kind: 'COINSURANCE', origin: 'REMITTANCE', status: 'ACTIVE', amountCents: 10000, paidCents: 0, writtenOffCents: 0, ...over };
}
function wo(activeCents: number, amountCents = 5000): WriteOffState {
  return { id: 'W1', responsibilityId: 'L1', amountCents, activeCents };
}

const AMOUNT = ['input', 'amountCents'];
const CUSTOM = ['input', 'customReason'];
const WO_INVALID = { code: 'INVALID_AMOUNT', message: 'Enter an amount greater than $0.00.', field: AMOUNT };
const exceedsOpen = (open: string) => ({
  code: 'WRITE_OFF_EXCEEDS_OPEN',
  message: `You can write off at most ${open}: that is what is still open on this PR.`,
  field: AMOUNT,
});

describe('WRITE_OFF_REASONS', () => {
  it('lists the standard codes of docs/design.md §2.3 in order', () => {
    expect(WRITE_OFF_REASONS.map((r) => r.code)).toEqual([
      'SMALL_BALANCE',
      'BAD_DEBT',
      'FINANCIAL_HARDSHIP',
      'PROFESSIONAL_COURTESY',
      'PROMPT_PAY_DISCOUNT',
      'PATIENT_EXPERIENCE',
      'DECEASED',
      'BANKRUPTCY',
      'COLLECTION_AGENCY',
      'BILLING_ERROR',
      'OTHER',
    ]);
    expect(WriteOffReasons).toEqual(WRITE_OFF_REASONS.map((r) => r.code));
  });

  it('only OTHER requires a custom reason; every reason has a non-blank label', () => {
    for (const r of WRITE_OFF_REASONS) {
      expect(r.requiresCustomReason).toBe(r.code === 'OTHER');
      expect(r.label.trim().length).toBeGreaterThan(0);
    }
    expect(new Set(WRITE_OFF_REASONS.map((r) => r.label)).size).toBe(WRITE_OFF_REASONS.length);
  });
});

describe('checkWriteOffReason', () => {
  const standard = WriteOffReasons.filter((r) => r !== 'OTHER');

  it.each(standard)('%s with no custom reason is fine (null)', (reason) => {
    expect(checkWriteOffReason(reason, null)).toBeNull();
    expect(checkWriteOffReason(reason, undefined)).toBeNull();
    expect(checkWriteOffReason(reason, '')).toBeNull();
    expect(checkWriteOffReason(reason, '   ')).toBeNull();
  });

  it.each(standard)('%s with a custom reason is CUSTOM_REASON_NOT_ALLOWED', (reason) => {
    expect(checkWriteOffReason(reason, 'because')).toEqual({
      code: 'CUSTOM_REASON_NOT_ALLOWED',
      message: 'A custom reason goes only with "Other". Choose "Other" or clear the custom reason.',
      field: CUSTOM,
    });
  });

  it('OTHER returns the trimmed custom reason', () => {
    expect(checkWriteOffReason('OTHER', '  Family friend  ')).toBe('Family friend');
    expect(checkWriteOffReason('OTHER', 'x'.repeat(255))).toBe('x'.repeat(255));
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty', ''],
    ['blank', ' \t '],
  ])('OTHER with a %s custom reason is CUSTOM_REASON_REQUIRED', (_name, custom) => {
    expect(checkWriteOffReason('OTHER', custom)).toEqual({ code: 'CUSTOM_REASON_REQUIRED', message: 'Type a reason when you choose "Other".', field: CUSTOM });
  });

  it('checks the custom text itself first (INVALID_TEXT), for OTHER and for standard codes', () => {
    const ctrl = {
      code: 'INVALID_TEXT',
      message: "The custom reason contains characters that aren't allowed (control characters).",
      field: CUSTOM,
    };
    expect(checkWriteOffReason('OTHER', 'bad\u0000')).toEqual(ctrl);
    expect(checkWriteOffReason('BAD_DEBT', 'bad\u0000')).toEqual(ctrl);
    expect(checkWriteOffReason('OTHER', 'two\nlines')).toEqual(ctrl);
    expect(checkWriteOffReason('OTHER', 'x'.repeat(256))).toEqual({
      code: 'INVALID_TEXT',
      message: 'The custom reason is too long: at most 255 characters.',
      field: CUSTOM,
    });
    expect(checkWriteOffReason('SMALL_BALANCE' as WriteOffReason, 'x'.repeat(256))).toMatchObject({ code: 'INVALID_TEXT' });
  });
});

describe('planWriteOff', () => {
  it('returns the amount for 1 cent, a part, and exactly what is open', () => {
    expect(planWriteOff(line(), 0, 1)).toBe(1);
    expect(planWriteOff(line(), 0, 5000)).toBe(5000);
    expect(planWriteOff(line(), 0, 10000)).toBe(10000);
    expect(planWriteOff(line({ paidCents: 3000 }), 0, 7000)).toBe(7000);
    expect(planWriteOff(line({ paidCents: 3000, writtenOffCents: 5000 }), 0, 2000)).toBe(2000);
  });

  it('writes off MAX_INPUT_CENTS on a line of that amount', () => {
    expect(planWriteOff(line({ amountCents: MAX_INPUT_CENTS }), 0, MAX_INPUT_CENTS)).toBe(MAX_INPUT_CENTS);
  });

  it('allows any kind and origin, remittance PR included', () => {
    for (const origin of ['REMITTANCE', 'ESTIMATED', 'SELF_PAY', 'STAFF'] as const) {
      for (const kind of ['COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'NON_COVERED', 'OTHER', 'SELF_PAY', 'CUSTOM'] as const) {
        expect(planWriteOff(line({ origin, kind }), 0, 100)).toBe(100);
      }
    }
  });

  it('refuses open + 1 with WRITE_OFF_EXCEEDS_OPEN naming the open amount', () => {
    expect(planWriteOff(line(), 0, 10001)).toEqual(exceedsOpen('$100.00'));
    expect(planWriteOff(line({ paidCents: 3000, writtenOffCents: 5000 }), 0, 2001)).toEqual(exceedsOpen('$20.00'));
    expect(planWriteOff(line({ amountCents: 123456789 }), 0, MAX_INPUT_CENTS)).toEqual(exceedsOpen('$1,234,567.89'));
    expect(planWriteOff(line({ paidCents: 9999 }), 0, 2)).toEqual(exceedsOpen('$0.01'));
  });

  it.each([0, -1, -10000, 1.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, MAX_INPUT_CENTS + 1])('refuses %p with INVALID_AMOUNT', (amount) => {
    expect(planWriteOff(line(), 0, amount)).toEqual(WO_INVALID);
  });

  it('refuses a reversed line (docs/design.md §8.3) with PR_REVERSED, whatever the amount and count', () => {
    const reversed = { code: 'PR_REVERSED', message: 'This PR was reversed by the insurer, so there is nothing to write off.' };
    expect(planWriteOff(line({ status: 'REVERSED' }), 0, 100)).toEqual(reversed);
    expect(planWriteOff(line({ status: 'REVERSED' }), 0, 0)).toEqual(reversed);
    expect(planWriteOff(line({ status: 'REVERSED' }), 20, 100)).toEqual(reversed);
  });

  it('evaluates the line first: a blocked line wins over a bad amount', () => {
    expect(planWriteOff(line({ status: 'CANCELLED' }), 0, 0)).toEqual({ code: 'PR_CANCELLED', message: 'This PR was cancelled, so there is nothing to write off.' });
    expect(planWriteOff(line({ paidCents: 10000 }), 0, -5)).toEqual({
      code: 'PR_ALREADY_PAID',
      message: 'This PR has already been paid. Refund the payment before writing it off.',
    });
    expect(planWriteOff(line({ writtenOffCents: 10000 }), 0, 1)).toEqual({
      code: 'PR_ALREADY_WRITTEN_OFF',
      message: 'This PR has already been fully written off. Remove the write-off to change it.',
    });
    expect(planWriteOff(line({ paidCents: 4000, writtenOffCents: 6000 }), 0, 1)).toEqual({
      code: 'NOTHING_TO_WRITE_OFF',
      message: 'Nothing is left to write off: $40.00 paid and $60.00 written off.',
    });
  });

  it('checks the amount before the open limit', () => {
    expect(planWriteOff(line({ amountCents: 100 }), 0, MAX_INPUT_CENTS + 1)).toEqual(WO_INVALID);
  });
});

describe('planRemoval', () => {
  it('defaults to everything still active', () => {
    expect(planRemoval(wo(5000), 0, null)).toBe(5000);
    expect(planRemoval(wo(1234), 0, undefined)).toBe(1234);
  });

  it('returns 1, a part, or exactly what is active', () => {
    expect(planRemoval(wo(5000), 0, 1)).toBe(1);
    expect(planRemoval(wo(5000), 0, 2500)).toBe(2500);
    expect(planRemoval(wo(5000), 0, 5000)).toBe(5000);
  });

  it('refuses active + 1 with REMOVAL_EXCEEDS_ACTIVE naming what is still written off', () => {
    expect(planRemoval(wo(5000), 0, 5001)).toEqual({
      code: 'REMOVAL_EXCEEDS_ACTIVE',
      message: 'You can remove at most $50.00: that is what is still written off.',
      field: AMOUNT,
    });
    expect(planRemoval(wo(2000, 5000), 0, 3000)).toEqual({
      code: 'REMOVAL_EXCEEDS_ACTIVE',
      message: 'You can remove at most $20.00: that is what is still written off.',
      field: AMOUNT,
    });
    expect(planRemoval(wo(5000), 0, MAX_INPUT_CENTS)).toMatchObject({ code: 'REMOVAL_EXCEEDS_ACTIVE' });
  });

  it.each([0, -1, 2.5, Number.NaN, MAX_INPUT_CENTS + 1])('refuses %p with INVALID_AMOUNT', (amount) => {
    expect(planRemoval(wo(5000), 0, amount)).toEqual({
      code: 'INVALID_AMOUNT',
      message: 'Enter an amount greater than $0.00, or leave it empty to remove all of it.',
      field: AMOUNT,
    });
  });

  it('NOTHING_TO_REMOVE once fully removed, before looking at the amount', () => {
    const nothing = { code: 'NOTHING_TO_REMOVE', message: 'This write-off has already been fully removed.' };
    expect(planRemoval(wo(0), 0, null)).toEqual(nothing);
    expect(planRemoval(wo(0), 0, 1)).toEqual(nothing);
    expect(planRemoval(wo(0), 0, -1)).toEqual(nothing);
  });
});

// A batch entry is refused as it is added with the code, message and field its single mutation gives (docs/design.md §8.1).
describe('the input refusals of writeOff and removeWriteOff', () => {
  test('a write-off amount as planWriteOff refuses it', () => {
    for (const cents of [0, -1, 1.5]) {
      expect(writeOffInputRefusal({ amountCents: cents, reason: 'SMALL_BALANCE' })).toEqual(planWriteOff(line(), 0, cents));
      expect(checkWriteOffAmount(cents)).toEqual(planWriteOff(line(), 0, cents));
    }
    expect(writeOffInputRefusal({ amountCents: 100, reason: 'SMALL_BALANCE' })).toBeNull();
    expect(writeOffInputRefusal({ amountCents: 100, reason: 'OTHER' })).toMatchObject({ code: 'CUSTOM_REASON_REQUIRED' });
    expect(writeOffInputRefusal({ amountCents: 100, reason: 'SMALL_BALANCE', note: 'bad\u0007note' })).toMatchObject({ code: 'INVALID_TEXT', field: ['input', 'note'] });
    expect(writeOffInputRefusal({ amountCents: 100, reason: 'SMALL_BALANCE', note: 'two\nlines' })).toBeNull();
    // The amount first, then the reason, then the note, as writeOff checks them.
    expect(writeOffInputRefusal({ amountCents: 0, reason: 'OTHER', note: 'bad\u0007note' })).toMatchObject({ code: 'INVALID_AMOUNT' });
    expect(writeOffInputRefusal({ amountCents: 100, reason: 'OTHER', note: 'bad\u0007note' })).toMatchObject({ code: 'CUSTOM_REASON_REQUIRED' });
  });

  test('a removal amount as planRemoval refuses it: empty removes all of it', () => {
    for (const cents of [0, -1, 1.5]) {
      expect(removalInputRefusal({ amountCents: cents, reason: 'Entered in error' })).toEqual(planRemoval(wo(5000), 0, cents));
      expect(checkRemovalAmount(cents)).toEqual(planRemoval(wo(5000), 0, cents));
    }
    expect(removalInputRefusal({ amountCents: 0, reason: 'x' })!.message).toBe('Enter an amount greater than $0.00, or leave it empty to remove all of it.');
    expect(removalInputRefusal({ amountCents: null, reason: 'Entered in error' })).toBeNull();
    expect(checkRemovalAmount(undefined)).toBeNull();
    expect(removalInputRefusal({ reason: '   ' })).toEqual(cleanText('   ', { label: 'reason', field: ['input', 'reason'] }));
    // The amount before the reason.
    expect(removalInputRefusal({ amountCents: -1, reason: '   ' })).toMatchObject({ code: 'INVALID_AMOUNT' });
  });
});
