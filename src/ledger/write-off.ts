import { Refusal, RefusalCode, isRefusal, refusal, refusalOf } from './codes';
import { nextWriteOffBlocker, removalBlocker } from './availability';
import { formatCents, isPositiveCents } from './money';
import { checkRemovalCount } from './limits';
import { openCents } from './lines';
import { MAX_NOTE_LENGTH, cleanOptionalText, cleanReason } from './text';
import { LineState, WriteOffState } from './types';

/** The standard write-off reasons (docs/design.md §2.3), served to the dropdown in this order. */
export const WRITE_OFF_REASONS = [
  { code: 'SMALL_BALANCE', label: 'Small balance', requiresCustomReason: false },
  { code: 'BAD_DEBT', label: 'Bad debt', requiresCustomReason: false },
  { code: 'FINANCIAL_HARDSHIP', label: 'Financial hardship', requiresCustomReason: false },
  { code: 'PROFESSIONAL_COURTESY', label: 'Professional courtesy', requiresCustomReason: false },
  { code: 'PROMPT_PAY_DISCOUNT', label: 'Prompt-pay discount', requiresCustomReason: false },
  { code: 'PATIENT_EXPERIENCE', label: 'Patient experience', requiresCustomReason: false },
  { code: 'DECEASED', label: 'Patient deceased', requiresCustomReason: false },
  { code: 'BANKRUPTCY', label: 'Bankruptcy', requiresCustomReason: false },
  { code: 'COLLECTION_AGENCY', label: 'Sent to a collection agency', requiresCustomReason: false },
  { code: 'BILLING_ERROR', label: 'Billing error', requiresCustomReason: false },
  { code: 'OTHER', label: 'Other (type a reason)', requiresCustomReason: true },
] as const;
export type WriteOffReason = (typeof WRITE_OFF_REASONS)[number]['code'];
export const WriteOffReasons = WRITE_OFF_REASONS.map((r) => r.code) as WriteOffReason[];

const AMOUNT_FIELD = ['input', 'amountCents'] as const;
const CUSTOM_REASON_FIELD = ['input', 'customReason'] as const;

/** OTHER needs a custom reason; a standard code must not carry one. Returns the cleaned custom reason. */
export function checkWriteOffReason(reason: WriteOffReason, customReason: string | null | undefined): string | null | Refusal {
  const custom = cleanOptionalText(customReason, { label: 'custom reason', field: CUSTOM_REASON_FIELD });
  if (isRefusal(custom)) return custom;
  if (reason === 'OTHER' && custom === null) {
    return refusal(RefusalCode.CUSTOM_REASON_REQUIRED, 'Type a reason when you choose "Other".', CUSTOM_REASON_FIELD);
  }
  if (reason !== 'OTHER' && custom !== null) {
    return refusal(
      RefusalCode.CUSTOM_REASON_NOT_ALLOWED,
      'A custom reason goes only with "Other". Choose "Other" or clear the custom reason.',
      CUSTOM_REASON_FIELD,
    );
  }
  return custom;
}

/** A write-off's note: optional, up to MAX_NOTE_LENGTH, line breaks allowed. Returns the cleaned note. */
export function cleanWriteOffNote(note: string | null | undefined): string | null | Refusal {
  return cleanOptionalText(note, { label: 'note', field: ['input', 'note'], max: MAX_NOTE_LENGTH, multiline: true });
}

/** A write-off amount: whole cents, more than $0.00. */
export function checkWriteOffAmount(amountCents: number): Refusal | null {
  return isPositiveCents(amountCents) ? null : refusal(RefusalCode.INVALID_AMOUNT, 'Enter an amount greater than $0.00.', AMOUNT_FIELD);
}

/** A removal amount: absent (all that is still active), or whole cents more than $0.00. */
export function checkRemovalAmount(amountCents: number | null | undefined): Refusal | null {
  if (amountCents === null || amountCents === undefined || isPositiveCents(amountCents)) return null;
  return refusal(RefusalCode.INVALID_AMOUNT, 'Enter an amount greater than $0.00, or leave it empty to remove all of it.', AMOUNT_FIELD);
}

/**
 * What writeOff refuses about its input alone, before any row is read (docs/design.md §2.5, §8.1), in the order the
 * mutation checks it: the amount (as planWriteOff), the reason (checkWriteOffReason), the note.
 */
export function writeOffInputRefusal(input: { amountCents: number; reason: WriteOffReason; customReason?: string | null; note?: string | null }): Refusal | null {
  return checkWriteOffAmount(input.amountCents) ?? refusalOf(checkWriteOffReason(input.reason, input.customReason)) ?? refusalOf(cleanWriteOffNote(input.note));
}

/** What removeWriteOff refuses about its input alone, in the order the mutation checks it: the amount (as planRemoval), the reason. */
export function removalInputRefusal(input: { amountCents?: number | null; reason: string }): Refusal | null {
  return checkRemovalAmount(input.amountCents) ?? refusalOf(cleanReason(input.reason));
}

/**
 * Checks a write-off of `amountCents` against the line (docs/design.md §2.3), which holds `writeOffCount` write-offs so far.
 * Returns the amount to write off.
 */
export function planWriteOff(line: LineState, writeOffCount: number, amountCents: number): number | Refusal {
  const blocker = nextWriteOffBlocker(line, writeOffCount, true);
  if (blocker) return blocker;
  const badAmount = checkWriteOffAmount(amountCents);
  if (badAmount) return badAmount;
  const open = openCents(line);
  if (amountCents > open) {
    return refusal(
      RefusalCode.WRITE_OFF_EXCEEDS_OPEN,
      `You can write off at most ${formatCents(open)}: that is what is still open on this PR.`,
      AMOUNT_FIELD,
    );
  }
  return amountCents;
}

/**
 * Checks removing `amountCents` (default: all still active) of a write-off that has had `removalCount` removals so far.
 * Returns the amount to remove.
 */
export function planRemoval(writeOff: WriteOffState, removalCount: number, amountCents: number | null | undefined): number | Refusal {
  const blocker = removalBlocker(writeOff, true);
  if (blocker) return blocker;
  const badAmount = checkRemovalAmount(amountCents);
  if (badAmount) return badAmount;
  // Removing all that is active always fits: it leaves nothing a remittance could still remove.
  if (amountCents === null || amountCents === undefined) return writeOff.activeCents;
  if (amountCents > writeOff.activeCents) {
    return refusal(
      RefusalCode.REMOVAL_EXCEEDS_ACTIVE,
      `You can remove at most ${formatCents(writeOff.activeCents)}: that is what is still written off.`,
      AMOUNT_FIELD,
    );
  }
  return checkRemovalCount(removalCount, writeOff.activeCents, writeOff.activeCents - amountCents) ?? amountCents;
}
