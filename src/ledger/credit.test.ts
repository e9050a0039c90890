import { CreditAllocation, CreditLine, creditInputRefusal, planApplyCredit } from './credit';
import { MAX_ALLOCATIONS_PER_PAYMENT, MAX_LINES_PER_PAYMENT, MAX_PAYMENTS_PER_CREDIT } from './limits';
import { MAX_INPUT_CENTS } from './money';
import { AllocationState, LineState, PaymentState } from './types';

function cline(id: string, serviceDate: string, sequence: number, over: Partial<LineState> = {}): CreditLine {
  return { id, chargeId: `C-${serviceDate}`, kind: 'COPAY', origin: 'STAFF', status: 'ACTIVE', amountCents: 1000, paidCents: 0, writtenOffCents: 0, serviceDate, sequence, ...over };
}
function alloc(id: string, responsibilityId: string, remainingCents: number, sequence = 1): AllocationState {
  return { id, responsibilityId, remainingCents, sequence };
}
/** A payment with `credit` unallocated on top of its allocations and refunds. */
function pay(id: string, credit: number, allocations: AllocationState[] = [], refundedCents = 0, voidedCents = 0): PaymentState {
  const allocated = allocations.reduce((s, a) => s + a.remainingCents, 0);
  return { id, amountCents: credit + allocated + refundedCents + voidedCents, refundedCents, voidedCents, allocations };
}
const take = (paymentId: string, responsibilityId: string, cents: number): CreditAllocation => ({ paymentId, responsibilityId, cents });
const ask = (responsibilityId: string, amountCents: number) => ({ responsibilityId, amountCents });
const total = (plan: CreditAllocation[] | { code: string }) => {
  if (!Array.isArray(plan)) throw new Error(`refused: ${plan.code}`);
  return plan.reduce((s, a) => s + a.cents, 0);
};

const FIELD = ['input', 'allocations'];
const NO_CREDIT = { code: 'NO_CREDIT', message: 'This patient has no credit to apply.' };
const NOTHING_OPEN = { code: 'NOTHING_OPEN', message: "Nothing is open on this patient's PR lines, so there is nothing to apply credit to." };
const SPREAD = {
  code: 'TOO_MANY_ITEMS',
  message: `The credit is spread over more than ${MAX_PAYMENTS_PER_CREDIT} payments, or its payments are each on ${MAX_LINES_PER_PAYMENT} lines already: apply it in smaller parts, or refund some first.`,
  field: FIELD,
};
const exceedsOpen = (index: number, open: string) => ({
  code: 'ALLOCATION_EXCEEDS_OPEN',
  message: `Only ${open} is open on this PR.`,
  field: [...FIELD, String(index), 'amountCents'],
});

describe('planApplyCredit: NO_CREDIT and NOTHING_OPEN (docs/design.md §8.4)', () => {
  const open = [cline('L1', '2026-01-05', 1)];

  it('NO_CREDIT with no payments at all', () => {
    expect(planApplyCredit([], open, null)).toEqual(NO_CREDIT);
    expect(planApplyCredit([], open, [ask('L1', 100)])).toEqual(NO_CREDIT);
  });

  it('NO_CREDIT when every payment is allocated, refunded or voided', () => {
    const payments = [pay('P1', 0, [alloc('A1', 'X', 500)]), pay('P2', 0, [], 700), pay('P3', 0, [], 0, 900), pay('P4', 0, [alloc('A2', 'X', 100)], 200, 0)];
    expect(planApplyCredit(payments, open, null)).toEqual(NO_CREDIT);
    expect(planApplyCredit(payments, open, [ask('L1', 1)])).toEqual(NO_CREDIT);
  });

  it('a voided payment’s money is no credit, even if its allocations were released', () => {
    // The void took everything: amount = allocated 0 + unallocated 0 + refunded 0 + voided 5000.
    expect(planApplyCredit([pay('P1', 0, [alloc('A1', 'L1', 0)], 0, 5000)], open, null)).toEqual(NO_CREDIT);
  });

  it('NO_CREDIT comes before NOTHING_OPEN and before any check of the allocations', () => {
    expect(planApplyCredit([], [], null)).toEqual(NO_CREDIT);
    expect(planApplyCredit([], [], [ask('nope', 0)])).toEqual(NO_CREDIT);
  });

  it('TOO_MANY_ITEMS for more allocations than one payment may have comes before everything, NO_CREDIT included', () => {
    const lines = Array.from({ length: MAX_ALLOCATIONS_PER_PAYMENT + 1 }, (_, i) => cline(`L${i}`, '2026-01-05', i));
    const tooMany = lines.map((l) => ask(l.id, 1));
    const refusal = {
      code: 'TOO_MANY_ITEMS',
      message: `A payment can have at most ${MAX_ALLOCATIONS_PER_PAYMENT} allocations; this one has ${MAX_ALLOCATIONS_PER_PAYMENT + 1}. Record the rest as another payment.`,
      field: FIELD,
    };
    expect(planApplyCredit([], lines, tooMany)).toEqual(refusal);
    expect(planApplyCredit([pay('P1', 10000)], lines, tooMany)).toEqual(refusal);
    expect(planApplyCredit([pay('P1', 10000)], lines, tooMany.slice(1))).toHaveLength(MAX_ALLOCATIONS_PER_PAYMENT);
  });

  it('NOTHING_OPEN without allocations when no line has anything open: paid, written off, cancelled, reversed, or none at all', () => {
    const closed = [
      cline('L1', '2026-01-05', 1, { paidCents: 1000 }),
      cline('L2', '2026-01-05', 2, { writtenOffCents: 1000 }),
      cline('L3', '2026-01-05', 3, { paidCents: 400, writtenOffCents: 600 }),
      cline('L4', '2026-01-05', 4, { status: 'CANCELLED' }),
      cline('L5', '2026-01-05', 5, { status: 'REVERSED', origin: 'REMITTANCE' }),
      cline('L6', '2026-01-05', 6, { paidCents: 900, writtenOffCents: 200 }), // over-covered (broken): nothing open
    ];
    expect(planApplyCredit([pay('P1', 5000)], closed, null)).toEqual(NOTHING_OPEN);
    expect(planApplyCredit([pay('P1', 5000)], [], null)).toEqual(NOTHING_OPEN);
  });

  it('null, undefined and an empty list all mean “apply it automatically”', () => {
    const expected = [take('P1', 'L1', 1000)];
    expect(planApplyCredit([pay('P1', 5000)], open, null)).toEqual(expected);
    expect(planApplyCredit([pay('P1', 5000)], open, undefined)).toEqual(expected);
    expect(planApplyCredit([pay('P1', 5000)], open, [])).toEqual(expected);
    expect(planApplyCredit([pay('P1', 5000)], [], [])).toEqual(NOTHING_OPEN);
  });
});

describe('planApplyCredit without allocations: oldest date of service first, then oldest line', () => {
  it('pays the oldest date of service first, even when its line is newer and listed later', () => {
    const lines = [cline('NEW-DATE', '2026-03-01', 1), cline('OLD-DATE', '2026-01-15', 5)];
    expect(planApplyCredit([pay('P1', 1500)], lines, null)).toEqual([take('P1', 'OLD-DATE', 1000), take('P1', 'NEW-DATE', 500)]);
  });

  it('compares dates across months and years, not by how the ids or the list sort', () => {
    const lines = [cline('A', '2026-02-01', 1), cline('B', '2025-12-31', 2), cline('C', '2026-01-31', 3), cline('D', '2026-10-01', 4)];
    expect(planApplyCredit([pay('P1', 10000)], lines, null)).toEqual([take('P1', 'B', 1000), take('P1', 'C', 1000), take('P1', 'A', 1000), take('P1', 'D', 1000)]);
  });

  it('on the same date of service, the oldest line (smallest sequence, compared as a number) first', () => {
    const lines = [cline('S10', '2026-01-05', 10), cline('S9', '2026-01-05', 9), cline('S100', '2026-01-05', 100), cline('S2', '2026-01-05', 2)];
    expect(planApplyCredit([pay('P1', 2500)], lines, null)).toEqual([take('P1', 'S2', 1000), take('P1', 'S9', 1000), take('P1', 'S10', 500)]);
  });

  it('date first, then sequence: an older date with a newer line beats a newer date with an older line', () => {
    const lines = [cline('D2-S1', '2026-01-06', 1), cline('D1-S3', '2026-01-05', 3), cline('D1-S2', '2026-01-05', 2), cline('D2-S0', '2026-01-06', 0)];
    expect(planApplyCredit([pay('P1', 10000)], lines, null)).toEqual([
      take('P1', 'D1-S2', 1000),
      take('P1', 'D1-S3', 1000),
      take('P1', 'D2-S0', 1000),
      take('P1', 'D2-S1', 1000),
    ]);
  });

  it('puts on each line only what is open on it and skips lines with nothing open', () => {
    const lines = [
      cline('PAID', '2026-01-01', 1, { paidCents: 1000 }),
      cline('PART', '2026-01-02', 2, { paidCents: 300, writtenOffCents: 200 }),
      cline('CANC', '2026-01-03', 3, { status: 'CANCELLED' }),
      cline('REV', '2026-01-03', 4, { status: 'REVERSED', origin: 'REMITTANCE' }),
      cline('WO', '2026-01-04', 5, { writtenOffCents: 999 }),
      cline('OVER', '2026-01-04', 6, { paidCents: 800, writtenOffCents: 300 }),
    ];
    expect(planApplyCredit([pay('P1', 10000)], lines, null)).toEqual([take('P1', 'PART', 500), take('P1', 'WO', 1)]);
  });

  it('stops when the credit runs out: exactly enough fills every line; one cent less leaves the last one short', () => {
    const lines = [cline('L1', '2026-01-01', 1), cline('L2', '2026-01-02', 2), cline('L3', '2026-01-03', 3)];
    expect(planApplyCredit([pay('P1', 3000)], lines, null)).toEqual([take('P1', 'L1', 1000), take('P1', 'L2', 1000), take('P1', 'L3', 1000)]);
    expect(planApplyCredit([pay('P1', 2999)], lines, null)).toEqual([take('P1', 'L1', 1000), take('P1', 'L2', 1000), take('P1', 'L3', 999)]);
    expect(planApplyCredit([pay('P1', 1000)], lines, null)).toEqual([take('P1', 'L1', 1000)]);
    expect(planApplyCredit([pay('P1', 1)], lines, null)).toEqual([take('P1', 'L1', 1)]);
  });

  it('stops when the open PR runs out: the rest stays credit', () => {
    const lines = [cline('L1', '2026-01-01', 1), cline('L2', '2026-01-02', 2, { paidCents: 250 })];
    const plan = planApplyCredit([pay('P1', 10000)], lines, null);
    expect(plan).toEqual([take('P1', 'L1', 1000), take('P1', 'L2', 750)]);
    expect(total(plan)).toBe(1750);
  });

  it('draws the money from the payments oldest first, across several payments, skipping those without credit', () => {
    const payments = [
      pay('P0', 0, [alloc('A0', 'X', 500)]),
      pay('P1', 200),
      pay('P2', 500, [alloc('A2', 'X', 300)]),
      pay('P3', 0, [], 400),
      pay('P4', 600, [], 100),
    ];
    const lines = [cline('L1', '2026-01-01', 1, { amountCents: 400 }), cline('L2', '2026-01-02', 2, { amountCents: 900 })];
    expect(planApplyCredit(payments, lines, null)).toEqual([take('P1', 'L1', 200), take('P2', 'L1', 200), take('P2', 'L2', 300), take('P4', 'L2', 600)]);
  });

  it('never draws more than a payment’s credit, nor more than the total credit', () => {
    const payments = [pay('P1', 150, [alloc('A1', 'L1', 850)], 0), pay('P2', 50, [], 950)];
    const lines = [cline('L1', '2026-01-01', 1, { amountCents: 5000, paidCents: 850 })];
    expect(planApplyCredit(payments, lines, null)).toEqual([take('P1', 'L1', 150), take('P2', 'L1', 50)]);
  });
});

describe('planApplyCredit with allocations', () => {
  const lines = [
    cline('OLD', '2026-01-01', 1),
    cline('NEW', '2026-03-01', 2, { amountCents: 2000, paidCents: 500 }),
    cline('CANC', '2026-01-02', 3, { status: 'CANCELLED' }),
    cline('REV', '2026-01-02', 4, { status: 'REVERSED', origin: 'REMITTANCE' }),
    cline('CLOSED', '2026-01-02', 5, { paidCents: 600, writtenOffCents: 400 }),
    cline('OVER', '2026-01-02', 6, { paidCents: 900, writtenOffCents: 300 }),
  ];

  it('places exactly the amounts asked, on those lines, in the order asked, whatever their dates', () => {
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('NEW', 300), ask('OLD', 100)])).toEqual([take('P1', 'NEW', 300), take('P1', 'OLD', 100)]);
  });

  it('draws each amount from the payments oldest first, splitting it between them when one runs out', () => {
    const payments = [pay('P1', 100), pay('P2', 0, [], 500), pay('P3', 500)];
    expect(planApplyCredit(payments, lines, [ask('OLD', 400), ask('NEW', 200)])).toEqual([take('P1', 'OLD', 100), take('P3', 'OLD', 300), take('P3', 'NEW', 200)]);
  });

  it('takes up to exactly what is open on a line', () => {
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 1000), ask('NEW', 1500)])).toEqual([take('P1', 'OLD', 1000), take('P1', 'NEW', 1500)]);
  });

  it('ALLOCATION_EXCEEDS_OPEN one cent over what is open, pointing at the allocation', () => {
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 1000), ask('NEW', 1501)])).toEqual(exceedsOpen(1, '$15.00'));
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 1001)])).toEqual(exceedsOpen(0, '$10.00'));
  });

  it('two allocations to the same line add up against what is open on it', () => {
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 600), ask('OLD', 400)])).toEqual([take('P1', 'OLD', 600), take('P1', 'OLD', 400)]);
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 600), ask('NEW', 1), ask('OLD', 401)])).toEqual(exceedsOpen(2, '$4.00'));
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 1000), ask('OLD', 1)])).toEqual(exceedsOpen(1, '$0.00'));
  });

  it.each(['CANC', 'REV', 'CLOSED', 'OVER'])('a line with nothing open (%s) takes nothing: “$0.00 is open”', (id) => {
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask(id, 1)])).toEqual(exceedsOpen(0, '$0.00'));
  });

  it('NOT_FOUND for a line that is not the patient’s, pointing at the allocation', () => {
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 100), ask('nope', 100)])).toEqual({
      code: 'NOT_FOUND',
      message: 'No PR line for this patient with that id was found.',
      field: [...FIELD, '1', 'responsibilityId'],
    });
  });

  it.each([0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_INPUT_CENTS + 1])('INVALID_AMOUNT for %p', (amount) => {
    expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 100), ask('NEW', amount)])).toEqual({
      code: 'INVALID_AMOUNT',
      message: 'Each allocation must be greater than $0.00.',
      field: [...FIELD, '1', 'amountCents'],
    });
  });

  it('CREDIT_EXCEEDED when the allocations add up to more than all the credit, with both amounts', () => {
    const payments = [pay('P1', 400), pay('P2', 600, [alloc('A2', 'X', 100)])];
    expect(planApplyCredit(payments, lines, [ask('OLD', 600), ask('NEW', 400)])).toEqual([take('P1', 'OLD', 400), take('P2', 'OLD', 200), take('P2', 'NEW', 400)]);
    expect(planApplyCredit(payments, lines, [ask('OLD', 600), ask('NEW', 401)])).toEqual({
      code: 'CREDIT_EXCEEDED',
      message: "The allocations add up to $10.01, more than the patient's credit of $10.00.",
      field: FIELD,
    });
    expect(planApplyCredit([pay('P1', 123456)], [cline('BIG', '2026-01-01', 1, { amountCents: 200000 })], [ask('BIG', 123457)])).toMatchObject({
      code: 'CREDIT_EXCEEDED',
      message: "The allocations add up to $1,234.57, more than the patient's credit of $1,234.56.",
    });
  });

  describe('evaluation order: first failure wins', () => {
    it('allocations are checked one by one in order: NOT_FOUND before a later bad amount or a later closed line', () => {
      expect(planApplyCredit([pay('P1', 5000)], lines, [ask('nope', 100), ask('OLD', 0)])).toMatchObject({ code: 'NOT_FOUND' });
      expect(planApplyCredit([pay('P1', 5000)], lines, [ask('OLD', 0), ask('nope', 100)])).toMatchObject({ code: 'INVALID_AMOUNT' });
      expect(planApplyCredit([pay('P1', 5000)], lines, [ask('CANC', 1), ask('nope', 100)])).toMatchObject({ code: 'ALLOCATION_EXCEEDS_OPEN' });
    });

    it('within one allocation: NOT_FOUND, then INVALID_AMOUNT, then ALLOCATION_EXCEEDS_OPEN', () => {
      expect(planApplyCredit([pay('P1', 5000)], lines, [ask('nope', 0)])).toMatchObject({ code: 'NOT_FOUND' });
      expect(planApplyCredit([pay('P1', 5000)], lines, [ask('CANC', 0)])).toMatchObject({ code: 'INVALID_AMOUNT' });
    });

    it('a per-allocation problem beats CREDIT_EXCEEDED', () => {
      expect(planApplyCredit([pay('P1', 100)], lines, [ask('OLD', 1000), ask('NEW', 1501)])).toEqual(exceedsOpen(1, '$15.00'));
      expect(planApplyCredit([pay('P1', 100)], lines, [ask('OLD', 1000), ask('nope', 1)])).toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});

describe('planApplyCredit: a payment sits on at most MAX_LINES_PER_PAYMENT lines', () => {
  /** P1 with `credit` left, sitting on `count` lines X0… (1 cent each); X0 has 500 open, the others none. */
  function full(count: number, credit: number) {
    const allocations = Array.from({ length: count }, (_, i) => alloc(`A${i}`, `X${i}`, 1, i));
    const lines = Array.from({ length: count }, (_, i) => cline(`X${i}`, '2026-02-01', 100 + i, { amountCents: i === 0 ? 501 : 1, paidCents: 1 }));
    return { payment: pay('P1', credit, allocations), lines };
  }
  const fresh = cline('FRESH', '2026-01-01', 1, { amountCents: 500 });

  it('refuses to put a full payment’s credit on a new line when no other payment can (TOO_MANY_ITEMS)', () => {
    const { payment, lines } = full(MAX_LINES_PER_PAYMENT, 1000);
    expect(planApplyCredit([payment], [fresh, ...lines], [ask('FRESH', 100)])).toEqual(SPREAD);
  });

  it('a full payment may still pay a line it already sits on', () => {
    const { payment, lines } = full(MAX_LINES_PER_PAYMENT, 1000);
    expect(planApplyCredit([payment], [fresh, ...lines], [ask('X0', 100)])).toEqual([take('P1', 'X0', 100)]);
  });

  it('one line short of full, it may take one new line', () => {
    const { payment, lines } = full(MAX_LINES_PER_PAYMENT - 1, 1000);
    expect(planApplyCredit([payment], [fresh, ...lines], [ask('FRESH', 100)])).toEqual([take('P1', 'FRESH', 100)]);
  });

  it('emptied allocations do not count as lines it sits on', () => {
    const { payment, lines } = full(MAX_LINES_PER_PAYMENT, 1000);
    payment.allocations[MAX_LINES_PER_PAYMENT - 1] = alloc('A-last', 'X-last', 0, 999);
    const withCredit = { ...payment, amountCents: payment.amountCents - 1 }; // keep its credit at 1000
    expect(planApplyCredit([withCredit], [fresh, ...lines], [ask('FRESH', 100)])).toEqual([take('P1', 'FRESH', 100)]);
  });

  it('the money then comes from the next payment that may take the line', () => {
    const { payment, lines } = full(MAX_LINES_PER_PAYMENT, 1000);
    expect(planApplyCredit([payment, pay('P2', 300)], [fresh, ...lines], [ask('FRESH', 100)])).toEqual([take('P2', 'FRESH', 100)]);
    expect(planApplyCredit([payment, pay('P2', 300)], [fresh, ...lines], [ask('FRESH', 400)])).toEqual(SPREAD);
  });

  it('without allocations, what a full payment cannot place stays credit; it still pays the lines it sits on', () => {
    const { payment, lines } = full(MAX_LINES_PER_PAYMENT, 1000);
    expect(planApplyCredit([payment], [fresh, ...lines], null)).toEqual([take('P1', 'X0', 500)]);
    expect(planApplyCredit([payment, pay('P2', 200)], [fresh, ...lines], null)).toEqual([take('P2', 'FRESH', 200), take('P1', 'X0', 500)]);
  });

  // docs/design.md §8.4: "until credit or open PR runs out". P1 (full, 500 credit) sits on X0 (500 open); P2 has 500.
  // FRESH (older, 600 open) can only take P2's 500; X0 could take all of P1's 500, but is offered only the 400 left of
  // the total credit after FRESH's share, so 100 of P1 stays credit while 100 stays open on X0, where P1 may go.
  it('without allocations, credit a full payment could not place on an earlier line is still offered to the lines it may pay', () => {
    const { payment, lines } = full(MAX_LINES_PER_PAYMENT, 500);
    const older = cline('FRESH', '2026-01-01', 1, { amountCents: 600 });
    expect(planApplyCredit([payment, pay('P2', 500)], [older, ...lines], null)).toEqual([take('P2', 'FRESH', 500), take('P1', 'X0', 500)]);
  });
});

describe('planApplyCredit: draws on at most MAX_PAYMENTS_PER_CREDIT payments', () => {
  const many = (n: number, credit = 100) => Array.from({ length: n }, (_, i) => pay(`P${i + 1}`, credit));
  const big = [cline('BIG', '2026-01-01', 1, { amountCents: 1_000_000 }), cline('BIG2', '2026-01-02', 2, { amountCents: 1_000_000 })];

  it('exactly that many payments is fine', () => {
    const plan = planApplyCredit(many(MAX_PAYMENTS_PER_CREDIT), big, [ask('BIG', MAX_PAYMENTS_PER_CREDIT * 100)]);
    expect(plan).toEqual(many(MAX_PAYMENTS_PER_CREDIT).map((p) => take(p.id, 'BIG', 100)));
  });

  it('with allocations, an amount that would need one payment more is TOO_MANY_ITEMS', () => {
    expect(planApplyCredit(many(MAX_PAYMENTS_PER_CREDIT + 1), big, [ask('BIG', MAX_PAYMENTS_PER_CREDIT * 100)])).toHaveLength(MAX_PAYMENTS_PER_CREDIT);
    expect(planApplyCredit(many(MAX_PAYMENTS_PER_CREDIT + 1), big, [ask('BIG', MAX_PAYMENTS_PER_CREDIT * 100 + 1)])).toEqual(SPREAD);
  });

  it('a payment drawn for several lines counts once; payments without credit do not count', () => {
    const payments = [pay('P0', 0, [alloc('A0', 'X', 100)]), ...many(MAX_PAYMENTS_PER_CREDIT)];
    const plan = planApplyCredit(payments, big, [ask('BIG', 2550), ask('BIG2', 2450)]);
    expect(total(plan)).toBe(5000);
    expect(new Set((plan as CreditAllocation[]).map((a) => a.paymentId)).size).toBe(MAX_PAYMENTS_PER_CREDIT);
    expect((plan as CreditAllocation[]).filter((a) => a.paymentId === 'P26')).toEqual([take('P26', 'BIG', 50), take('P26', 'BIG2', 50)]);
  });

  it('without allocations, the oldest ones are drawn and the rest stays credit', () => {
    const plan = planApplyCredit(many(MAX_PAYMENTS_PER_CREDIT + 5), big, null);
    expect(plan).toEqual(many(MAX_PAYMENTS_PER_CREDIT).map((p) => take(p.id, 'BIG', 100)));
  });
});

describe('planApplyCredit does not modify its inputs', () => {
  it('leaves payments, allocations and lines as they were', () => {
    const payments = Object.freeze([Object.freeze({ ...pay('P1', 1000), allocations: Object.freeze([Object.freeze(alloc('A1', 'L2', 0))]) })]) as unknown as PaymentState[];
    const lines = Object.freeze([Object.freeze(cline('L2', '2026-03-01', 2)), Object.freeze(cline('L1', '2026-01-01', 1))]);
    expect(planApplyCredit(payments, lines, null)).toEqual([take('P1', 'L1', 1000)]);
    expect(planApplyCredit(payments, lines, Object.freeze([Object.freeze(ask('L2', 10))]))).toEqual([take('P1', 'L2', 10)]);
    expect(lines.map((l) => l.id)).toEqual(['L2', 'L1']);
    expect(lines[1].paidCents).toBe(0);
  });
});

// A batch entry is refused as it is added with the code, message and field its single mutation gives (docs/design.md §8.1).
describe('the input refusal of applyCredit', () => {
  test('the allocation amounts, when it names any', () => {
    expect(creditInputRefusal({ allocations: [{ responsibilityId: 'L1', amountCents: 0 }] })).toEqual({
      code: 'INVALID_AMOUNT',
      message: 'Each allocation must be greater than $0.00.',
      field: ['input', 'allocations', '0', 'amountCents'],
    });
    expect(creditInputRefusal({})).toBeNull();
    expect(creditInputRefusal({ allocations: null })).toBeNull();
    expect(creditInputRefusal({ allocations: [{ responsibilityId: 'L1', amountCents: 100 }] })).toBeNull();
  });
});
