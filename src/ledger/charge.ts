import { Refusal, RefusalCode, refusal } from './codes';
import { checkLinesPerCharge } from './limits';
import { formatCents, isPositiveCents, sumCents } from './money';
import { LineState } from './types';

/** What more PR this charge can take: billed less its active lines (PR_EXCEEDS_CHARGE, docs/design.md §2.1). */
export function chargeCapacityCents(billedCents: number, lines: readonly LineState[]): number {
  return billedCents - sumCents(lines.filter((l) => l.status === 'ACTIVE').map((l) => l.amountCents));
}

export function exceedsCharge(billedCents: number, field?: readonly string[]): Refusal {
  return refusal(
    RefusalCode.PR_EXCEEDS_CHARGE,
    `The patient's responsibility can't be more than the charge's billed amount of ${formatCents(billedCents)}.`,
    field,
  );
}

/** Checks a new charge: not too many lines, a positive billed amount, and lines that are positive and fit within it. */
export function checkNewCharge(billedCents: number, lineAmounts: readonly number[]): Refusal | null {
  const tooMany = checkLinesPerCharge(lineAmounts.length, ['input', 'responsibilities']);
  if (tooMany) return tooMany;
  if (!isPositiveCents(billedCents)) {
    return refusal(RefusalCode.INVALID_AMOUNT, 'Enter a billed amount greater than $0.00.', ['input', 'billedCents']);
  }
  const bad = lineAmounts.findIndex((a) => !isPositiveCents(a));
  if (bad >= 0) {
    return refusal(RefusalCode.INVALID_AMOUNT, 'Each responsibility amount must be greater than $0.00.', ['input', 'responsibilities', String(bad), 'amountCents']);
  }
  if (sumCents(lineAmounts) > billedCents) return exceedsCharge(billedCents, ['input', 'responsibilities']);
  return null;
}
