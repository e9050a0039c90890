import { Refusal, RefusalCode, refusal, notFound } from './codes';
import { formatCents, isPositiveCents, sumCents } from './money';
import { openCents } from './lines';
import { chargeCapacityCents, exceedsCharge } from './charge';
import { checkAllocationCount, checkLinesPerCharge } from './limits';
import { LineState, PaymentPurpose, ResponsibilityKind, ResponsibilityOrigin } from './types';

export interface RequestedAllocation {
  responsibilityId: string;
  amountCents: number;
}

/** A balance payment: where its money goes. What is not allocated becomes the patient's credit. */
export interface BalancePaymentPlan {
  kind: 'BALANCE';
  allocations: RequestedAllocation[];
}

/** An up-front or self-pay payment: a new line of the payment's amount, fully paid by it. */
export interface LinePaymentPlan {
  kind: 'NEW_LINE';
  line: { kind: ResponsibilityKind; origin: ResponsibilityOrigin; amountCents: number };
}

const PURPOSE_LINES: Record<Exclude<PaymentPurpose, 'BALANCE'>, { kind: ResponsibilityKind; origin: ResponsibilityOrigin }> = {
  COPAY: { kind: 'COPAY', origin: 'ESTIMATED' },
  COINSURANCE: { kind: 'COINSURANCE', origin: 'ESTIMATED' },
  DEDUCTIBLE: { kind: 'DEDUCTIBLE', origin: 'ESTIMATED' },
  SELF_PAY: { kind: 'SELF_PAY', origin: 'SELF_PAY' },
};

export function checkPaymentAmount(amountCents: number): Refusal | null {
  return isPositiveCents(amountCents) ? null : refusal(RefusalCode.INVALID_AMOUNT, 'Enter a payment amount greater than $0.00.', ['input', 'amountCents']);
}

/** The amount of the allocation at `index` of a payment or of applied credit: whole cents, more than $0.00. */
export function checkAllocationAmount(amountCents: number, index: number): Refusal | null {
  if (isPositiveCents(amountCents)) return null;
  return refusal(RefusalCode.INVALID_AMOUNT, 'Each allocation must be greater than $0.00.', ['input', 'allocations', String(index), 'amountCents']);
}

/** The first allocation whose amount checkAllocationAmount refuses. */
export function checkAllocationAmounts(allocations: readonly RequestedAllocation[] | null | undefined): Refusal | null {
  for (const [index, allocation] of (allocations ?? []).entries()) {
    const bad = checkAllocationAmount(allocation.amountCents, index);
    if (bad) return bad;
  }
  return null;
}

/**
 * What recordPayment refuses about its input alone, before any row is read (docs/design.md §2.5, §8.1), in the order
 * the mutation checks it: the amount, then a balance payment's allocation amounts. (A payment that pays its own new
 * line takes no allocations at all: planLinePayment refuses them as such, against the charge.)
 */
export function paymentInputRefusal(input: { amountCents: number; purpose?: PaymentPurpose | null; allocations?: readonly RequestedAllocation[] | null }): Refusal | null {
  return checkPaymentAmount(input.amountCents) ?? ((input.purpose ?? 'BALANCE') === 'BALANCE' ? checkAllocationAmounts(input.allocations) : null);
}

/**
 * Plans a payment that creates its own line (docs/design.md §2.2): the charge must be given, must have room for one more
 * line, and the new line must fit within what the charge has room for. `charge.lines` are all of that charge's lines.
 */
export function planLinePayment(
  purpose: Exclude<PaymentPurpose, 'BALANCE'>,
  amountCents: number,
  charge: { billedCents: number; lines: readonly LineState[] } | null,
  hasAllocations: boolean,
): LinePaymentPlan | Refusal {
  const amountProblem = checkPaymentAmount(amountCents);
  if (amountProblem) return amountProblem;
  if (!charge) {
    return refusal(RefusalCode.CHARGE_REQUIRED, 'Choose the charge (visit) this payment is for.', ['input', 'chargeId']);
  }
  if (hasAllocations) {
    return refusal(
      RefusalCode.ALLOCATION_NOT_ALLOWED,
      'Allocations go only with balance payments; this payment pays the new line it creates.',
      ['input', 'allocations'],
    );
  }
  const full = checkLinesPerCharge(charge.lines.length + 1, ['input', 'chargeId']);
  if (full) return full;
  if (amountCents > chargeCapacityCents(charge.billedCents, charge.lines)) return exceedsCharge(charge.billedCents, ['input', 'amountCents']);
  return { kind: 'NEW_LINE', line: { ...PURPOSE_LINES[purpose], amountCents } };
}

/**
 * Plans a balance payment's allocations against the patient's lines (docs/design.md §2.2). Several allocations to the same
 * line are added together. `lines` holds every line of the patient, by id.
 */
export function planBalancePayment(
  amountCents: number,
  requested: readonly RequestedAllocation[],
  lines: ReadonlyMap<string, LineState>,
): BalancePaymentPlan | Refusal {
  const tooMany = checkAllocationCount(requested.length);
  if (tooMany) return tooMany;
  const amountProblem = checkPaymentAmount(amountCents);
  if (amountProblem) return amountProblem;
  const perLine = new Map<string, number>();
  for (const [index, allocation] of requested.entries()) {
    const field = ['input', 'allocations', String(index)];
    const line = lines.get(allocation.responsibilityId);
    if (!line) return notFound('PR line', [...field, 'responsibilityId']);
    const badAmount = checkAllocationAmount(allocation.amountCents, index);
    if (badAmount) return badAmount;
    const total = (perLine.get(line.id) ?? 0) + allocation.amountCents;
    const open = openCents(line);
    if (total > open) {
      const why = line.status === 'CANCELLED' ? 'this PR was cancelled' : line.status === 'REVERSED' ? 'this PR was reversed' : `only ${formatCents(open)} is open on this PR`;
      return refusal(RefusalCode.ALLOCATION_EXCEEDS_OPEN, `You can't put ${formatCents(total)} on this PR: ${why}.`, [...field, 'amountCents']);
    }
    perLine.set(line.id, total);
  }
  const allocated = sumCents(perLine.values());
  if (allocated > amountCents) {
    return refusal(
      RefusalCode.ALLOCATIONS_EXCEED_PAYMENT,
      `The allocations add up to ${formatCents(allocated)}, more than the ${formatCents(amountCents)} payment.`,
      ['input', 'allocations'],
    );
  }
  return { kind: 'BALANCE', allocations: [...perLine].map(([responsibilityId, cents]) => ({ responsibilityId, amountCents: cents })) };
}
