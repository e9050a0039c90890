import { registerEnumType } from 'type-graphql';
import { RefusalCode } from '../ledger';

/**
 * The refusal codes as GraphQL enums, so that generated client types are an exhaustive union. Every code says here
 * what it means and what a person can do about it; the code's message says it for the case at hand.
 */
const REFUSAL_CODE_MEANINGS: Record<RefusalCode, string> = {
  FORBIDDEN: 'Your role may not do this (tooltip: "You don\'t have permission to do this.").',
  NOT_FOUND: 'No row with that id in your practice (another practice\'s ids answer the same).',
  INVALID_AMOUNT: 'An amount that is not a positive whole number of cents, or out of range.',
  INVALID_TEXT: 'Free text that is blank, has control characters, or is too long (255 characters; notes 1,000).',
  INVALID_DATE: 'A date that is not a real calendar date (YYYY-MM-DD) or date-time.',
  PR_CANCELLED: 'The PR line is cancelled: it accepts nothing more.',
  PR_ALREADY_PAID: 'The PR line is fully paid: refund the payment before writing it off.',
  PR_ALREADY_WRITTEN_OFF: 'The PR line is fully written off: remove the write-off to change it.',
  NOTHING_TO_WRITE_OFF: 'Nothing is open on the PR line: the message says what is paid and written off.',
  PR_FROM_REMITTANCE: 'PR from an insurer\'s remittance cannot be cancelled: write it off, or post a corrected remittance.',
  PR_HAS_WRITE_OFFS: 'The PR line has an active write-off: remove it before cancelling.',
  NOTHING_TO_REMOVE: 'The write-off is already fully removed.',
  NOTHING_TO_REFUND: 'The payment is already fully refunded.',
  WRITE_OFF_EXCEEDS_OPEN: 'The write-off is larger than what is open on the line.',
  REMOVAL_EXCEEDS_ACTIVE: 'The removal is larger than what is still active on the write-off.',
  ALLOCATION_EXCEEDS_OPEN: 'An allocation is larger than what is open on its line.',
  ALLOCATIONS_EXCEED_PAYMENT: 'The allocations add up to more than the payment.',
  ALLOCATION_NOT_ALLOWED: 'Allocations were given for a payment purpose that creates its own line.',
  REFUND_EXCEEDS_REFUNDABLE: 'The refund is larger than what the method can take back from the payment.',
  PR_EXCEEDS_CHARGE: 'The charge\'s active PR would add up to more than its billed amount.',
  CHARGE_REQUIRED: 'An up-front or self-pay payment needs the charge it is for.',
  CUSTOM_REASON_REQUIRED: 'Reason OTHER needs a custom reason.',
  CUSTOM_REASON_NOT_ALLOWED: 'A standard reason takes no custom reason.',
  DUPLICATE_REMITTANCE: 'This remittance was already recorded for the charge; for an 835 file, a payment in it (payer and trace number) was already imported or appears twice, or the same file was already imported.',
  INVALID_REMITTANCE: 'The remittance\'s adjustments are not valid (group or reason code, amounts).',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was used for a different request: use a new key for a new request.',
  DUPLICATE_MRN: 'Another patient of your practice already has this MRN: open that patient, or check the number.',
  REFUND_METHOD_NOT_ALLOWED: 'ORIGINAL_CARD for a payment not made by card: refund it with EXTERNAL_CASH_OR_CARD or EXTERNAL_CHECK.',
  TOO_MANY_ITEMS: 'A list over its maximum: too long an input list, or a charge, line or payment that is full.',
  PR_REVERSED: 'The PR line\'s remittance was reversed by the insurer: the line is out of every balance and accepts nothing more.',
  PAYMENT_HAS_REFUNDS: 'Money was already refunded from the payment, so it cannot be voided.',
  PAYMENT_VOIDED: 'The payment was voided: it accepts nothing more.',
  REMITTANCE_NOT_FOUND: 'No remittance with that id was recorded for the charge.',
  ALREADY_REVERSED: 'The remittance was already reversed (or replaced by a corrected one).',
  NO_CREDIT: 'The patient has no credit to apply.',
  NOTHING_OPEN: 'Nothing is open on the patient\'s lines to apply credit to.',
  CREDIT_EXCEEDED: 'The allocations add up to more than the patient\'s credit.',
  BATCH_NOT_DRAFT: 'The batch is posted (or negated): its entries can no longer change, and it cannot be posted again.',
  INVALID_ENTRY: 'A batch entry sets none or more than one kind of input, or carries an idempotency key of its own.',
  ENTRY_NOT_ALLOWED: 'That kind of entry does not belong in this kind of batch.',
  PREVIEW_STALE: 'Something the preview saw changed (a patient, or the batch): preview again, then post.',
  BATCH_OUT_OF_BALANCE: 'The deposit\'s payments do not add up to its expected total: the message gives both amounts.',
  ALREADY_NEGATED: 'The batch was already negated.',
  BATCH_NOT_POSTED: 'Only a posted batch can be negated.',
  BATCH_HAS_DEPENDENTS: 'Later activity depends on an entry of the batch (the message names it): undo that first.',
  RULE_INACTIVE: 'The write-off rule is deactivated, so it cannot be run: reactivate it first (updateWriteOffRule with active: true).',
  NOTHING_QUALIFIES: 'No open PR line qualifies for the write-off rule as of the date asked (lines already in a DRAFT batch, and patients with credit, are skipped): no batch was made.',
  INVALID_X12: 'The file is not a well-formed X12 835 (005010X221A1): the message says what is wrong and at which segment (counting from ISA as 1). Nothing was imported.',
  FILE_TOO_LARGE: 'The file is larger than an 835 import takes (5 MiB): ask the clearinghouse to split it.',
};

export const RefusalCodeEnum = Object.fromEntries(Object.values(RefusalCode).map((code) => [code, code])) as { [K in RefusalCode]: K };
registerEnumType(RefusalCodeEnum, {
  name: 'RefusalCode',
  description: 'Why a business rule refused an action (a userError, or an Availability that is not allowed). Nothing was changed.',
  valuesConfig: Object.fromEntries(Object.entries(REFUSAL_CODE_MEANINGS).map(([code, description]) => [code, { description }])),
});

export const AuditOutcomeEnum = { ACCEPTED: 'ACCEPTED', REFUSED: 'REFUSED', FAILED: 'FAILED', READ: 'READ' } as const;
registerEnumType(AuditOutcomeEnum, {
  name: 'AuditOutcome',
  description: 'How an audited action ended.',
  valuesConfig: {
    ACCEPTED: { description: 'A mutation that committed (or an idempotent replay of one: code IDEMPOTENT_REPLAY).' },
    REFUSED: { description: 'A mutation attempt refused with `code`; nothing changed.' },
    FAILED: { description: 'A mutation attempt that failed on our side; nothing changed.' },
    READ: { description: 'A read of patient data.' },
  },
});

export const AuditCodeEnum = { ...RefusalCodeEnum, IDEMPOTENT_REPLAY: 'IDEMPOTENT_REPLAY' } as const;
registerEnumType(AuditCodeEnum, {
  name: 'AuditCode',
  description: 'The code of an audit event: the refusal code of a REFUSED attempt, or IDEMPOTENT_REPLAY.',
  valuesConfig: {
    ...Object.fromEntries(Object.entries(REFUSAL_CODE_MEANINGS).map(([code, description]) => [code, { description }])),
    IDEMPOTENT_REPLAY: { description: 'An accepted mutation retried with its idempotency key: the first result was returned, nothing changed.' },
  },
});
