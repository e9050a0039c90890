import { RefusalCode, Tooltip, isRefusal, notFound, refusal, refusalOf } from './codes';

describe('RefusalCode', () => {
  it('maps every code to itself (clients switch on the string)', () => {
    for (const [key, value] of Object.entries(RefusalCode)) expect(value).toBe(key);
  });

  it('holds every code docs/design.md §2.5 names', () => {
    const design = [
      'FORBIDDEN',
      'PR_CANCELLED',
      'PR_ALREADY_PAID',
      'PR_ALREADY_WRITTEN_OFF',
      'NOTHING_TO_WRITE_OFF',
      'PR_FROM_REMITTANCE',
      'PR_HAS_WRITE_OFFS',
      'NOTHING_TO_REMOVE',
      'NOTHING_TO_REFUND',
      'NOT_FOUND',
      'INVALID_AMOUNT',
      'WRITE_OFF_EXCEEDS_OPEN',
      'REMOVAL_EXCEEDS_ACTIVE',
      'ALLOCATION_EXCEEDS_OPEN',
      'ALLOCATIONS_EXCEED_PAYMENT',
      'REFUND_EXCEEDS_REFUNDABLE',
      'PR_EXCEEDS_CHARGE',
      'CHARGE_REQUIRED',
      'CUSTOM_REASON_REQUIRED',
      'CUSTOM_REASON_NOT_ALLOWED',
      'INVALID_TEXT',
      'DUPLICATE_REMITTANCE',
      'IDEMPOTENCY_KEY_REUSED',
      'DUPLICATE_MRN',
      'REFUND_METHOD_NOT_ALLOWED',
      'TOO_MANY_ITEMS',
      // not named in §2.5 but returned by the payment and remittance rules
      'ALLOCATION_NOT_ALLOWED',
      'INVALID_REMITTANCE',
      'INVALID_DATE',
      // docs/design.md §8: posting batches, voids, corrected remittances, applied credit
      'PR_REVERSED',
      'PAYMENT_HAS_REFUNDS',
      'PAYMENT_VOIDED',
      'REMITTANCE_NOT_FOUND',
      'ALREADY_REVERSED',
      'NO_CREDIT',
      'NOTHING_OPEN',
      'CREDIT_EXCEEDED',
      'BATCH_NOT_DRAFT',
      'INVALID_ENTRY',
      'ENTRY_NOT_ALLOWED',
      'PREVIEW_STALE',
      'BATCH_OUT_OF_BALANCE',
      'ALREADY_NEGATED',
      'BATCH_NOT_POSTED',
      'BATCH_HAS_DEPENDENTS',
    ];
    const values = Object.values(RefusalCode) as string[];
    for (const code of design) expect(values).toContain(code);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('Tooltip: the §2.5 texts, word for word', () => {
  it.each([
    ['FORBIDDEN', "You don't have permission to do this."],
    ['WRITE_OFF_CANCELLED', 'This PR was cancelled, so there is nothing to write off.'],
    ['ALREADY_PAID', 'This PR has already been paid. Refund the payment before writing it off.'],
    ['ALREADY_WRITTEN_OFF', 'This PR has already been fully written off. Remove the write-off to change it.'],
    ['FROM_REMITTANCE', "PR from an insurance remittance can't be cancelled. Write it off, or post a corrected remittance."],
    ['HAS_WRITE_OFFS', 'Remove the write-off before cancelling this PR.'],
    ['ALREADY_CANCELLED', 'This PR is already cancelled.'],
    ['NOTHING_TO_REMOVE', 'This write-off has already been fully removed.'],
    ['NOTHING_TO_REFUND', 'This payment has already been fully refunded.'],
  ] as const)('%s', (key, text) => {
    expect(Tooltip[key]).toBe(text);
  });

  // docs/design.md §8.2, §8.3: a voided payment and a reversed line say why the button is off.
  it.each([
    ['WRITE_OFF_REVERSED', 'This PR was reversed by the insurer, so there is nothing to write off.'],
    ['CANCEL_REVERSED', 'This PR was reversed by the insurer; it is already out of the balance.'],
    ['PAYMENT_VOIDED', 'This payment was voided.'],
    ['PAYMENT_HAS_REFUNDS', 'Money was already refunded from this payment, so it cannot be voided.'],
  ] as const)('%s (§8)', (key, text) => {
    expect(Tooltip[key]).toBe(text);
  });

  it('has no other entries', () => {
    expect(Object.keys(Tooltip).sort()).toEqual(
      [
        'FORBIDDEN',
        'WRITE_OFF_CANCELLED',
        'ALREADY_PAID',
        'ALREADY_WRITTEN_OFF',
        'FROM_REMITTANCE',
        'HAS_WRITE_OFFS',
        'ALREADY_CANCELLED',
        'NOTHING_TO_REMOVE',
        'NOTHING_TO_REFUND',
        'WRITE_OFF_REVERSED',
        'CANCEL_REVERSED',
        'PAYMENT_VOIDED',
        'PAYMENT_HAS_REFUNDS',
      ].sort(),
    );
  });
});

describe('refusal', () => {
  it('carries code and message, and no field key when none is given', () => {
    const r = refusal(RefusalCode.INVALID_AMOUNT, 'Nope.');
    expect(r).toEqual({ code: 'INVALID_AMOUNT', message: 'Nope.' });
    expect('field' in r).toBe(false);
  });

  it('carries the field path when given', () => {
    expect(refusal(RefusalCode.INVALID_TEXT, 'Bad.', ['input', 'reason'])).toEqual({ code: 'INVALID_TEXT', message: 'Bad.', field: ['input', 'reason'] });
  });
});

describe('isRefusal', () => {
  it('recognises refusals', () => {
    expect(isRefusal(refusal(RefusalCode.NOT_FOUND, 'x'))).toBe(true);
    expect(isRefusal(notFound('payment'))).toBe(true);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'INVALID_AMOUNT'],
    ['a number', 3000],
    ['an array', []],
    ['a plan', { amountCents: 100, returnsMoney: true, takebacks: [] }],
    ['code only', { code: 'X' }],
    ['message only', { message: 'X' }],
    ['a record with an id (an entity, not a refusal)', { id: '1', code: 'X', message: 'Y' }],
  ])('rejects %s', (_name, value) => {
    expect(isRefusal(value)).toBe(false);
  });
});

describe('notFound', () => {
  it('says what was not found', () => {
    expect(notFound('PR line')).toEqual({ code: 'NOT_FOUND', message: 'No PR line with that id was found.' });
    expect(notFound('payment', ['input', 'paymentId'])).toEqual({
      code: 'NOT_FOUND',
      message: 'No payment with that id was found.',
      field: ['input', 'paymentId'],
    });
  });
});

describe('refusalOf', () => {
  test('the refusal a check returned, or null when it passed', () => {
    const refused = refusal(RefusalCode.INVALID_TEXT, 'Enter a reason.', ['input', 'reason']);
    expect(refusalOf(refused)).toBe(refused);
    for (const passed of ['text', null, 0, [], { id: 'x', code: 'C', message: 'm' }]) expect(refusalOf(passed)).toBeNull();
  });
});
