import {
  MAX_ADJUSTMENTS_PER_REMITTANCE,
  MAX_ALLOCATIONS_PER_PAYMENT,
  MAX_AUDIT_ENTITY_IDS,
  MAX_LINES_PER_CHARGE,
  MAX_LINES_PER_PAYMENT,
  MAX_PAGE_SIZE,
  MAX_REFUNDS_PER_PAYMENT,
  MAX_REMOVALS_PER_WRITE_OFF,
  MAX_TIMELINE_ENTRIES,
  DEFAULT_TIMELINE_ENTRIES,
  MAX_WRITE_OFFS_PER_LINE,
  checkAdjustmentCount,
  checkAllocationCount,
  checkLinesPerCharge,
  refundsFull,
  writeOffsFull,
} from './limits';
import { nextRefundBlocker, nextWriteOffBlocker } from './availability';
import { checkNewCharge } from './charge';
import { planBalancePayment, planLinePayment } from './payment';
import { planRefund } from './refund';
import { Adjustment, checkAdjustments, planRemittance } from './remittance';
import { planRemoval, planWriteOff } from './write-off';
import { AllocationState, LineState, PaymentState, WriteOffState } from './types';

function line(id: string, over: Partial<LineState> = {}): LineState {
  return { id, chargeId: 'C1', kind: 'COPAY', origin: 'STAFF', status: 'ACTIVE', amountCents: 100, paidCents: 0, writtenOffCents: 0, ...over };
}
/** `n` lines of charge C1, every third one cancelled: cancelled lines count against the cap too. */
function lines(n: number): LineState[] {
  return Array.from({ length: n }, (_, i) => line(`L${i}`, { status: i % 3 === 0 ? 'CANCELLED' : 'ACTIVE' }));
}
const adj = (groupCode: string, reasonCode: string, amountCents: number): Adjustment => ({ groupCode, reasonCode, amountCents });
const prAdjustments = (n: number) => Array.from({ length: n }, () => adj('PR', '2', 100));
const payment = (over: Partial<PaymentState> = {}): PaymentState => ({ id: 'P1', amountCents: 10000, refundedCents: 0, voidedCents: 0, allocations: [], ...over });

const linesRefusal = (field: string[], wouldHave: number) => ({
  code: 'TOO_MANY_ITEMS',
  message: `A charge can have at most 20 PR lines, cancelled ones included; this one would have ${wouldHave}.`,
  field,
});

describe('the bounds', () => {
  it('are the documented numbers', () => {
    expect({
      MAX_LINES_PER_CHARGE,
      MAX_ALLOCATIONS_PER_PAYMENT,
      MAX_ADJUSTMENTS_PER_REMITTANCE,
      MAX_WRITE_OFFS_PER_LINE,
      MAX_REFUNDS_PER_PAYMENT,
      MAX_REMOVALS_PER_WRITE_OFF,
      MAX_LINES_PER_PAYMENT,
      DEFAULT_TIMELINE_ENTRIES,
      MAX_TIMELINE_ENTRIES,
      MAX_PAGE_SIZE,
      MAX_AUDIT_ENTITY_IDS,
    }).toEqual({
      MAX_LINES_PER_CHARGE: 20,
      MAX_ALLOCATIONS_PER_PAYMENT: 50,
      MAX_ADJUSTMENTS_PER_REMITTANCE: 30,
      MAX_WRITE_OFFS_PER_LINE: 20,
      MAX_REFUNDS_PER_PAYMENT: 20,
      MAX_REMOVALS_PER_WRITE_OFF: 20,
      MAX_LINES_PER_PAYMENT: 100,
      DEFAULT_TIMELINE_ENTRIES: 100,
      MAX_TIMELINE_ENTRIES: 200,
      MAX_PAGE_SIZE: 100,
      MAX_AUDIT_ENTITY_IDS: 100,
    });
  });

  it('hold together: a balance payment starts below the lines-per-payment cap; a refused payment names few enough ids', () => {
    expect(MAX_ALLOCATIONS_PER_PAYMENT).toBeLessThanOrEqual(MAX_LINES_PER_PAYMENT);
    expect(MAX_ALLOCATIONS_PER_PAYMENT + 2).toBeLessThanOrEqual(MAX_AUDIT_ENTITY_IDS);
  });
});

describe('input lists: N accepted, N + 1 refused', () => {
  it('PR lines of a charge', () => {
    expect(checkLinesPerCharge(20, ['input', 'responsibilities'])).toBeNull();
    expect(checkLinesPerCharge(21, ['input', 'responsibilities'])).toEqual(linesRefusal(['input', 'responsibilities'], 21));
    expect(checkLinesPerCharge(20_000, ['input', 'responsibilities'])).toMatchObject({ message: 'A charge can have at most 20 PR lines, cancelled ones included; this one would have 20,000.' });
  });

  it('allocations of a payment', () => {
    expect(checkAllocationCount(0)).toBeNull();
    expect(checkAllocationCount(50)).toBeNull();
    expect(checkAllocationCount(51)).toEqual({
      code: 'TOO_MANY_ITEMS',
      message: 'A payment can have at most 50 allocations; this one has 51. Record the rest as another payment.',
      field: ['input', 'allocations'],
    });
  });

  it('adjustments of a remittance', () => {
    expect(checkAdjustmentCount(30)).toBeNull();
    expect(checkAdjustmentCount(31)).toEqual({
      code: 'TOO_MANY_ITEMS',
      message: 'A remittance can have at most 30 adjustments; this one has 31.',
      field: ['input', 'adjustments'],
    });
  });
});

describe('stored lists: up to the cap, then refused', () => {
  it('write-offs of a line, removed ones included', () => {
    expect(writeOffsFull(0)).toBeNull();
    expect(writeOffsFull(19)).toBeNull();
    expect(writeOffsFull(20)).toEqual({
      code: 'TOO_MANY_ITEMS',
      message: 'This PR line already has 20 write-offs, the most one line can hold.',
      field: ['input', 'responsibilityId'],
    });
  });

  it('refunds of a payment', () => {
    expect(refundsFull(19)).toBeNull();
    expect(refundsFull(20)).toEqual({
      code: 'TOO_MANY_ITEMS',
      message: 'This payment already has 20 refunds, the most one payment can hold.',
      field: ['input', 'paymentId'],
    });
  });
});

describe('order of checks: a too-long input is refused before anything else about it', () => {
  it('createCharge: the number of lines before the billed amount and each line', () => {
    const twentyOne = Array.from({ length: 21 }, () => 0);
    expect(checkNewCharge(0, twentyOne)).toEqual(linesRefusal(['input', 'responsibilities'], 21));
    expect(checkNewCharge(2000, Array.from({ length: 20 }, () => 100))).toBeNull();
    expect(checkNewCharge(0, Array.from({ length: 20 }, () => 100))).toMatchObject({ code: 'INVALID_AMOUNT', field: ['input', 'billedCents'] });
  });

  it('recordPayment: the number of allocations before the amount and each allocation', () => {
    const missing = (n: number) => Array.from({ length: n }, (_, i) => ({ responsibilityId: `nowhere-${i}`, amountCents: 0 }));
    expect(planBalancePayment(0, missing(51), new Map())).toMatchObject({ code: 'TOO_MANY_ITEMS', field: ['input', 'allocations'] });
    expect(planBalancePayment(0, missing(50), new Map())).toMatchObject({ code: 'INVALID_AMOUNT', field: ['input', 'amountCents'] });
    const fifty = Array.from({ length: 50 }, (_, i) => line(`L${i}`));
    const plan = planBalancePayment(5000, fifty.map((l) => ({ responsibilityId: l.id, amountCents: 100 })), new Map(fifty.map((l) => [l.id, l])));
    expect(plan).toMatchObject({ kind: 'BALANCE' });
  });

  it('recordRemittance: the number of adjustments before any adjustment', () => {
    const thirtyOneBad = Array.from({ length: 31 }, () => adj('XX', '!!', 0));
    expect(checkAdjustments(thirtyOneBad)).toMatchObject({ code: 'TOO_MANY_ITEMS', field: ['input', 'adjustments'] });
    expect(planRemittance({ billedCents: 1, lines: [] }, thirtyOneBad, [], [])).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(checkAdjustments(Array.from({ length: 30 }, () => adj('CO', '45', 100)))).toHaveLength(30);
  });
});

describe('PR lines per charge, as lines are added to a stored charge', () => {
  it('an up-front payment adds one line: refused on a full charge, after the payment’s own checks', () => {
    const room = { billedCents: 100_000 };
    expect(planLinePayment('COPAY', 100, { ...room, lines: lines(19) }, false)).toMatchObject({ kind: 'NEW_LINE' });
    expect(planLinePayment('COPAY', 100, { ...room, lines: lines(20) }, false)).toEqual(linesRefusal(['input', 'chargeId'], 21));
    // the payment itself is checked first...
    expect(planLinePayment('COPAY', 0, { ...room, lines: lines(20) }, false)).toMatchObject({ code: 'INVALID_AMOUNT' });
    expect(planLinePayment('COPAY', 100, { ...room, lines: lines(20) }, true)).toMatchObject({ code: 'ALLOCATION_NOT_ALLOWED' });
    // ...then whether the charge can take a line at all, before whether the amount fits
    expect(planLinePayment('COPAY', 1_000_000, { ...room, lines: lines(20) }, false)).toMatchObject({ code: 'TOO_MANY_ITEMS' });
  });

  it('a remittance adds a line per PR adjustment: up to 20 in all, cancelled and superseded lines included', () => {
    const charge = { billedCents: 100_000, lines: lines(17) };
    expect(planRemittance(charge, [...prAdjustments(3), adj('CO', '45', 50_000)], [], [])).toMatchObject({ newLines: expect.any(Array) });
    expect(planRemittance(charge, prAdjustments(4), [], [])).toEqual(linesRefusal(['input', 'adjustments'], 21));
    const estimated = { billedCents: 100_000, lines: [...lines(19), line('E', { origin: 'ESTIMATED' })] };
    expect(planRemittance(estimated, prAdjustments(1), [], [])).toEqual(linesRefusal(['input', 'adjustments'], 21));
  });

  it('a remittance: each adjustment is checked before the line count, the line count before the billed amount', () => {
    const charge = { billedCents: 100_000, lines: lines(20) };
    expect(planRemittance(charge, [adj('PR', '2', 100), adj('XX', '2', 100)], [], [])).toMatchObject({ code: 'INVALID_REMITTANCE' });
    expect(planRemittance(charge, [adj('PR', '2', 1_000_000)], [], [])).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(planRemittance(charge, [adj('CO', '45', 1_000_000)], [], [])).toMatchObject({ newLines: [] });
  });
});

describe('write-offs per line', () => {
  it('the 20th is accepted, the 21st refused; the line’s own state is told first', () => {
    expect(planWriteOff(line('L'), 19, 1)).toBe(1);
    expect(planWriteOff(line('L'), 20, 1)).toMatchObject({ code: 'TOO_MANY_ITEMS', message: 'This PR line already has 20 write-offs, the most one line can hold.' });
    expect(planWriteOff(line('L'), 20, 0)).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(planWriteOff(line('L', { status: 'CANCELLED' }), 20, 1)).toMatchObject({ code: 'PR_CANCELLED' });
    expect(planWriteOff(line('L', { writtenOffCents: 100 }), 10, 1)).toMatchObject({ code: 'PR_ALREADY_WRITTEN_OFF' });
  });

  it('canWriteOff says the same, after FORBIDDEN', () => {
    expect(nextWriteOffBlocker(line('L'), 9, true)).toBeNull();
    expect(nextWriteOffBlocker(line('L'), 20, true)).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(nextWriteOffBlocker(line('L'), 20, false)).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('refunds per payment', () => {
  it('the 20th is accepted, the 21st refused; a fully refunded payment is told first', () => {
    const byCard = (over: Partial<PaymentState> = {}) => ({ ...payment(over), method: 'CARD' as const });
    expect(planRefund(byCard(), 19, 'ORIGINAL_CARD', 1)).toMatchObject({ amountCents: 1 });
    expect(planRefund(byCard(), 20, 'ORIGINAL_CARD', 1)).toMatchObject({ code: 'TOO_MANY_ITEMS', message: 'This payment already has 20 refunds, the most one payment can hold.' });
    expect(planRefund(byCard(), 20, 'ACCOUNT_CREDIT', -1)).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(planRefund(byCard({ refundedCents: 10000 }), 20, 'ORIGINAL_CARD', 1)).toMatchObject({ code: 'NOTHING_TO_REFUND' });
  });

  it('canRefund says the same, after FORBIDDEN', () => {
    expect(nextRefundBlocker(payment(), 19, true)).toBeNull();
    expect(nextRefundBlocker(payment(), 20, true)).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(nextRefundBlocker(payment(), 20, false)).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('removals per write-off', () => {
  const writeOff = (activeCents: number): WriteOffState => ({ id: 'W', responsibilityId: 'L', amountCents: 5000, activeCents });
  const lastMustBeWhole = {
    code: 'TOO_MANY_ITEMS',
    message: 'This write-off already has 19 removals; the last one it can hold must remove all that is still written off ($30.00). Leave the amount empty to remove all of it.',
    field: ['input', 'amountCents'],
  };

  it('up to the 19th may be partial; the 20th must take all that is still written off', () => {
    expect(planRemoval(writeOff(3000), 18, 1)).toBe(1);
    expect(planRemoval(writeOff(3000), 19, 2999)).toEqual(lastMustBeWhole);
    expect(planRemoval(writeOff(3000), 19, 3000)).toBe(3000);
    expect(planRemoval(writeOff(3000), 19, null)).toBe(3000);
  });

  it('so a full write-off has nothing left for a remittance to remove', () => {
    expect(planRemoval(writeOff(0), 20, null)).toMatchObject({ code: 'NOTHING_TO_REMOVE' });
    expect(planRemittance({ billedCents: 10_000, lines: [line('E', { origin: 'ESTIMATED', amountCents: 3000, writtenOffCents: 0 })] }, prAdjustments(1), [], [writeOff(0)])).toMatchObject({
      reversals: [],
    });
  });

  it('the amount is checked before the count', () => {
    expect(planRemoval(writeOff(3000), 19, 0)).toMatchObject({ code: 'INVALID_AMOUNT' });
    expect(planRemoval(writeOff(3000), 19, 3001)).toMatchObject({ code: 'REMOVAL_EXCEEDS_ACTIVE' });
  });
});

describe('lines per payment: a remittance never spreads a payment beyond MAX_LINES_PER_PAYMENT', () => {
  type Allocation = AllocationState & { paymentId: string };
  let sequence = 0;
  const alloc = (paymentId: string, responsibilityId: string, remainingCents: number): Allocation => ({
    id: `A-${paymentId}-${responsibilityId}`,
    paymentId,
    responsibilityId,
    remainingCents,
    sequence: ++sequence,
  });
  /** Payment P on `n` lines of other charges, and on the estimate E of this charge with 300 cents. */
  const spread = (n: number) => [...Array.from({ length: n }, (_, i) => alloc('P', `elsewhere-${i}`, 1)), alloc('P', 'E', 300)];
  const charge = (...more: LineState[]) => ({ billedCents: 10_000, lines: [line('E', { origin: 'ESTIMATED', amountCents: 300, paidCents: 300 }), ...more] });

  it('moves onto as many new lines as the payment has room for; the rest stays with it as credit', () => {
    const onto = (n: number) => planRemittance(charge(), prAdjustments(3), spread(n), []);
    expect(onto(97)).toMatchObject({ reductions: [{ cents: 300 }], moves: [{ cents: 100 }, { cents: 100 }, { cents: 100 }] });
    expect(onto(98)).toMatchObject({ moves: [{ paymentId: 'P', target: { newLine: 0 }, cents: 100 }, { paymentId: 'P', target: { newLine: 1 }, cents: 100 }] });
    expect(onto(99)).toMatchObject({ reductions: [{ cents: 300 }], moves: [{ target: { newLine: 0 }, cents: 100 }] });
  });

  it('a line the payment already sits on can always take more', () => {
    const kept = line('K', { amountCents: 500, paidCents: 1 });
    const plan = planRemittance(charge(kept), prAdjustments(1), [...spread(99), alloc('P', 'K', 1)], []);
    expect(plan).toMatchObject({ moves: [{ target: { responsibilityId: 'K' }, cents: 300 }] });
  });

  it('other payments are not held back by this one', () => {
    const plan = planRemittance(charge(), prAdjustments(3), [...spread(99).map((a) => ({ ...a, remainingCents: a.responsibilityId === 'E' ? 100 : 1 })), alloc('Q', 'E', 200)], []);
    expect(plan).toMatchObject({ moves: [{ paymentId: 'P', cents: 100 }, { paymentId: 'Q', cents: 100 }, { paymentId: 'Q', cents: 100 }] });
  });
});
