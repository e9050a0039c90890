import { Refusal, RefusalCode, notFound, refusal } from './codes';
import { formatCents, sumCents } from './money';
import { RequestedAllocation, checkAllocationAmounts, checkAllocationAmount } from './payment';
import { MAX_LINES_PER_CREDIT, MAX_LINES_PER_PAYMENT, MAX_PAYMENTS_PER_CREDIT, checkAllocationCount } from './limits';
import { openCents, unallocatedCents } from './lines';
import { AllocationState, LineState, PaymentState } from './types';

export interface CreditAllocation {
  paymentId: string;
  responsibilityId: string;
  cents: number;
}

/** A line as applying credit sees it: with its charge's date of service and its place in the ledger. */
export type CreditLine = LineState & { serviceDate: string; sequence: number };

const ALLOCATIONS_FIELD = ['input', 'allocations'];

/**
 * Plans applying a patient's credit to open lines (docs/design.md §8.4). `payments` are the patient's, oldest first:
 * the money comes from them in that order. Without `requested`, the oldest date of service first, then the oldest
 * line, until the credit or the open PR runs out; with it, exactly those amounts on those lines.
 */
export function planApplyCredit(
  payments: readonly (PaymentState & { allocations: readonly AllocationState[] })[],
  lines: readonly CreditLine[],
  requested: readonly { responsibilityId: string; amountCents: number }[] | null | undefined,
): CreditAllocation[] | Refusal {
  if (requested) {
    const tooMany = checkAllocationCount(requested.length);
    if (tooMany) return tooMany;
  }
  const credit = payments.map((p) => ({ payment: p, left: unallocatedCents(p), lines: new Set(p.allocations.filter((a) => a.remainingCents > 0).map((a) => a.responsibilityId)) }));
  const totalCredit = sumCents(credit.map((c) => c.left));
  if (totalCredit <= 0) return refusal(RefusalCode.NO_CREDIT, 'This patient has no credit to apply.');

  let wanted: { line: CreditLine; cents: number }[];
  if (requested && requested.length > 0) {
    const byId = new Map(lines.map((l) => [l.id, l]));
    const open = new Map(lines.map((l) => [l.id, openCents(l)]));
    wanted = [];
    for (const [index, r] of requested.entries()) {
      const field = [...ALLOCATIONS_FIELD, String(index)];
      const line = byId.get(r.responsibilityId);
      if (!line) return notFound('PR line for this patient', [...field, 'responsibilityId']);
      const badAmount = checkAllocationAmount(r.amountCents, index);
      if (badAmount) return badAmount;
      const room = open.get(line.id)!;
      if (r.amountCents > room) {
        return refusal(RefusalCode.ALLOCATION_EXCEEDS_OPEN, `Only ${formatCents(Math.max(0, room))} is open on this PR.`, [...field, 'amountCents']);
      }
      open.set(line.id, room - r.amountCents);
      wanted.push({ line, cents: r.amountCents });
    }
    const asked = sumCents(wanted.map((w) => w.cents));
    if (asked > totalCredit) {
      return refusal(RefusalCode.CREDIT_EXCEEDED, `The allocations add up to ${formatCents(asked)}, more than the patient's credit of ${formatCents(totalCredit)}.`, ALLOCATIONS_FIELD);
    }
  } else {
    const open = lines
      .filter((l) => openCents(l) > 0)
      .sort((a, b) => (a.serviceDate < b.serviceDate ? -1 : a.serviceDate > b.serviceDate ? 1 : a.sequence - b.sequence));
    if (open.length === 0) return refusal(RefusalCode.NOTHING_OPEN, 'Nothing is open on this patient\'s PR lines, so there is nothing to apply credit to.');
    // Each line asks for all it has open; what its eligible payments cannot give stays open, and their credit goes on.
    wanted = open.slice(0, MAX_LINES_PER_CREDIT).map((line) => ({ line, cents: openCents(line) }));
  }
  const explicit = Boolean(requested && requested.length > 0);

  // The money comes from the payments oldest first; a payment stays within the lines one payment may hold.
  const allocations: CreditAllocation[] = [];
  const drawn = new Set<string>();
  for (const { line, cents } of wanted) {
    let toPlace = cents;
    for (const source of credit) {
      if (toPlace === 0) break;
      if (source.left === 0 || (!source.lines.has(line.id) && source.lines.size >= MAX_LINES_PER_PAYMENT)) continue;
      if (!drawn.has(source.payment.id) && drawn.size >= MAX_PAYMENTS_PER_CREDIT) continue;
      drawn.add(source.payment.id);
      const take = Math.min(toPlace, source.left);
      allocations.push({ paymentId: source.payment.id, responsibilityId: line.id, cents: take });
      source.left -= take;
      source.lines.add(line.id);
      toPlace -= take;
    }
    if (toPlace > 0 && explicit) return creditCannotReach();
  }
  // Without allocations, what cannot be placed stays credit for a later application; but something must move.
  if (allocations.length === 0) return creditCannotReach();
  return allocations;
}

/**
 * What applyCredit refuses about its input alone, before any row is read (docs/design.md §2.5, §8.1): the amounts of
 * the allocations it names, if any.
 */
export function creditInputRefusal(input: { allocations?: readonly RequestedAllocation[] | null }): Refusal | null {
  return checkAllocationAmounts(input.allocations);
}

function creditCannotReach(): Refusal {
  return refusal(
    RefusalCode.TOO_MANY_ITEMS,
    `The credit is spread over more than ${MAX_PAYMENTS_PER_CREDIT} payments, or its payments are each on ${MAX_LINES_PER_PAYMENT} lines already: apply it in smaller parts, or refund some first.`,
    ALLOCATIONS_FIELD,
  );
}
