/**
 * Stable refusal codes (docs/design.md §2.5). Clients switch on `code`; `message` is what staff read.
 * Codes never change meaning; new ones may be added.
 */
export const RefusalCode = {
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_AMOUNT: 'INVALID_AMOUNT',
  INVALID_TEXT: 'INVALID_TEXT',
  INVALID_DATE: 'INVALID_DATE',
  PR_CANCELLED: 'PR_CANCELLED',
  PR_ALREADY_PAID: 'PR_ALREADY_PAID',
  PR_ALREADY_WRITTEN_OFF: 'PR_ALREADY_WRITTEN_OFF',
  NOTHING_TO_WRITE_OFF: 'NOTHING_TO_WRITE_OFF',
  PR_FROM_REMITTANCE: 'PR_FROM_REMITTANCE',
  PR_HAS_WRITE_OFFS: 'PR_HAS_WRITE_OFFS',
  NOTHING_TO_REMOVE: 'NOTHING_TO_REMOVE',
  NOTHING_TO_REFUND: 'NOTHING_TO_REFUND',
  WRITE_OFF_EXCEEDS_OPEN: 'WRITE_OFF_EXCEEDS_OPEN',
  REMOVAL_EXCEEDS_ACTIVE: 'REMOVAL_EXCEEDS_ACTIVE',
  ALLOCATION_EXCEEDS_OPEN: 'ALLOCATION_EXCEEDS_OPEN',
  ALLOCATIONS_EXCEED_PAYMENT: 'ALLOCATIONS_EXCEED_PAYMENT',
  ALLOCATION_NOT_ALLOWED: 'ALLOCATION_NOT_ALLOWED',
  REFUND_EXCEEDS_REFUNDABLE: 'REFUND_EXCEEDS_REFUNDABLE',
  PR_EXCEEDS_CHARGE: 'PR_EXCEEDS_CHARGE',
  CHARGE_REQUIRED: 'CHARGE_REQUIRED',
  CUSTOM_REASON_REQUIRED: 'CUSTOM_REASON_REQUIRED',
  CUSTOM_REASON_NOT_ALLOWED: 'CUSTOM_REASON_NOT_ALLOWED',
  DUPLICATE_REMITTANCE: 'DUPLICATE_REMITTANCE',
  INVALID_REMITTANCE: 'INVALID_REMITTANCE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** Another patient of the practice already has this MRN. */
  DUPLICATE_MRN: 'DUPLICATE_MRN',
  /** A refund method that does not fit how the payment was made: ORIGINAL_CARD for a payment not made by card. */
  REFUND_METHOD_NOT_ALLOWED: 'REFUND_METHOD_NOT_ALLOWED',
  /** A list over its bound (./limits): too long an input list, or a charge, line or payment that is full. */
  TOO_MANY_ITEMS: 'TOO_MANY_ITEMS',
  // Posting, corrections and credit (docs/design.md §8).
  /** The line's remittance was reversed by the insurer: it is out of every balance. */
  PR_REVERSED: 'PR_REVERSED',
  PAYMENT_HAS_REFUNDS: 'PAYMENT_HAS_REFUNDS',
  PAYMENT_VOIDED: 'PAYMENT_VOIDED',
  REMITTANCE_NOT_FOUND: 'REMITTANCE_NOT_FOUND',
  ALREADY_REVERSED: 'ALREADY_REVERSED',
  NO_CREDIT: 'NO_CREDIT',
  NOTHING_OPEN: 'NOTHING_OPEN',
  CREDIT_EXCEEDED: 'CREDIT_EXCEEDED',
  BATCH_NOT_DRAFT: 'BATCH_NOT_DRAFT',
  INVALID_ENTRY: 'INVALID_ENTRY',
  ENTRY_NOT_ALLOWED: 'ENTRY_NOT_ALLOWED',
  PREVIEW_STALE: 'PREVIEW_STALE',
  BATCH_OUT_OF_BALANCE: 'BATCH_OUT_OF_BALANCE',
  ALREADY_NEGATED: 'ALREADY_NEGATED',
  BATCH_NOT_POSTED: 'BATCH_NOT_POSTED',
  BATCH_HAS_DEPENDENTS: 'BATCH_HAS_DEPENDENTS',
  // Write-off rules (docs/design.md §9.2).
  /** The write-off rule is deactivated: reactivate it (updateWriteOffRule with active: true) to run it. */
  RULE_INACTIVE: 'RULE_INACTIVE',
  /** No open PR line qualifies for the write-off rule now: there is nothing to propose. */
  NOTHING_QUALIFIES: 'NOTHING_QUALIFIES',
  // ERA import (docs/design.md §9.1).
  /** The file is not a well-formed X12 835: the message says what is wrong and at which segment. */
  INVALID_X12: 'INVALID_X12',
  /** The file is larger than an 835 import takes (5 MiB). */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
} as const;
export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];

/** A business-rule refusal: returned, never thrown, so callers must look at it. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
  /** Path to the input field at fault, e.g. `['input', 'amountCents']`. */
  readonly field?: readonly string[];
}

export function refusal(code: RefusalCode, message: string, field?: readonly string[]): Refusal {
  return field ? { code, message, field } : { code, message };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value && !('id' in value);
}

/** The refusal a check returned, or null when it passed (whatever value it returned then). */
export function refusalOf(checked: unknown): Refusal | null {
  return isRefusal(checked) ? checked : null;
}

/** The tooltip texts of docs/design.md §2.5, word for word. */
export const Tooltip = {
  FORBIDDEN: "You don't have permission to do this.",
  WRITE_OFF_CANCELLED: 'This PR was cancelled, so there is nothing to write off.',
  ALREADY_PAID: 'This PR has already been paid. Refund the payment before writing it off.',
  ALREADY_WRITTEN_OFF: 'This PR has already been fully written off. Remove the write-off to change it.',
  FROM_REMITTANCE: "PR from an insurance remittance can't be cancelled. Write it off, or post a corrected remittance.",
  HAS_WRITE_OFFS: 'Remove the write-off before cancelling this PR.',
  ALREADY_CANCELLED: 'This PR is already cancelled.',
  NOTHING_TO_REMOVE: 'This write-off has already been fully removed.',
  NOTHING_TO_REFUND: 'This payment has already been fully refunded.',
  WRITE_OFF_REVERSED: 'This PR was reversed by the insurer, so there is nothing to write off.',
  CANCEL_REVERSED: 'This PR was reversed by the insurer; it is already out of the balance.',
  PAYMENT_VOIDED: 'This payment was voided.',
  PAYMENT_HAS_REFUNDS: 'Money was already refunded from this payment, so it cannot be voided.',
} as const;

export function notFound(what: string, field?: readonly string[]): Refusal {
  return refusal(RefusalCode.NOT_FOUND, `No ${what} with that id was found.`, field);
}
