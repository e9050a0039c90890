import { Refusal, RefusalCode, refusal } from './codes';
import { formatCents } from './money';

/**
 * The upper bound of every list the API takes or returns, defined once. Inputs longer than their bound are refused
 * with TOO_MANY_ITEMS before anything else is checked; stored lists are capped where rows are added, so the API
 * never has to cut a list short to honour a bound it states. The schema states each bound in the field's
 * description and as the field extension `maxItems`, which the query cost model reads.
 */

/**
 * PR lines one charge can hold, cancelled ones included: those entered with it (createCharge), those created by
 * up-front and self-pay payments, and those from remittances. A visit has a handful; 20 is ample and bounds
 * `Charge.responsibilities`.
 */
export const MAX_LINES_PER_CHARGE = 20;

/** Allocations in one recordPayment: a payment spread over a patient's open lines, one screen of them. */
export const MAX_ALLOCATIONS_PER_PAYMENT = 50;

/** Adjustments in one recordRemittance: a real 835 service line carries a handful of CAS adjustments. */
export const MAX_ADJUSTMENTS_PER_REMITTANCE = 30;

/** Write-offs one PR line can hold, fully removed ones included; bounds `Responsibility.writeOffs`. */
export const MAX_WRITE_OFFS_PER_LINE = 20;

/**
 * Removals one write-off can have, those of removeWriteOff and the one a remittance makes when it supersedes the
 * write-off's line; bounds `WriteOff.reversals`. A remittance cannot be refused for a full write-off, so the last
 * removal staff make must take all that is still written off: then no remittance has anything left to remove.
 */
export const MAX_REMOVALS_PER_WRITE_OFF = 20;

/** Refunds one payment can have; bounds `Payment.refunds`. */
export const MAX_REFUNDS_PER_PAYMENT = 20;

/**
 * PR lines one payment can sit on at once: `Payment.allocations`, which lists them line by line. A balance payment
 * starts on at most MAX_ALLOCATIONS_PER_PAYMENT lines and an up-front one on one; only a remittance moving money off
 * a superseded estimate spreads a payment further, and it never spreads one beyond this (what would have to go
 * further stays with the payment as credit).
 */
export const MAX_LINES_PER_PAYMENT = 100;

/** `Charge.timeline` returns the oldest `first` entries: this many unless asked, never more than the maximum. */
export const DEFAULT_TIMELINE_ENTRIES = 100;
export const MAX_TIMELINE_ENTRIES = 200;

/** Patients one `patientBalancesChanged` subscription may watch (a dashboard on one socket). */
export const MAX_WATCHED_PATIENTS = 500;

/** Rows in one page of a connection (`first`): patients, charges, payments, audit events. */
export const MAX_PAGE_SIZE = 100;

/**
 * `AuditEvent.entityIds`: a read records the rows one root field returned (one object, or one page of a connection);
 * a mutation the ids it returns (at most 2) or, refused, those its input names: at most a patient, a charge and
 * MAX_ALLOCATIONS_PER_PAYMENT lines, since a longer input is refused before anything about it is looked up.
 */
export const MAX_AUDIT_ENTITY_IDS = MAX_PAGE_SIZE;

/** A refused mutation answers with one userError: the first rule that fails. */
export const MAX_USER_ERRORS = 1;

/**
 * `UserError.field` is a path into the input: at its deepest a batch entry's allocation,
 * `["input", "entries", <index>, "payment", "allocations", <index>, "amountCents"]`.
 */
export const MAX_FIELD_PATH_SEGMENTS = 8;

/** Posting batches (docs/design.md §8.1): entries one call may add (a day's deposit of 500 payments), and a batch may hold. */
export const MAX_ENTRIES_PER_ADD = 500;
export const MAX_ENTRIES_PER_BATCH = 2_000;
/** What an ERA import could not post, kept on its batch: at most one issue per claim it read. */
export const MAX_ISSUES_PER_BATCH = MAX_ENTRIES_PER_BATCH;
/** A preview lists every refusal: at most one per entry, and the batch's own. */
export const MAX_PREVIEW_USER_ERRORS = MAX_ENTRIES_PER_BATCH + 1;
/**
 * A preview lists every line the batch touches, so a batch may touch at most this many: each entry is counted at the
 * most it can touch when it is added (`lineBudget`, src/posting/posting.service.ts), and a batch over the budget
 * refuses more entries.
 */
export const MAX_PREVIEW_LINES = 10_000;
/** The most lines one remittance or reversal entry can touch: the lines it adds and those of its charge it empties. */
export const MAX_LINES_PER_REMITTANCE_ENTRY = 2 * MAX_LINES_PER_CHARGE;
/** Applying credit draws on at most this many of the patient's payments at once (oldest first); the rest stays credit. */
export const MAX_PAYMENTS_PER_CREDIT = 50;
/** Applying credit without allocations pays at most this many lines at once (oldest first); the rest stays credit. */
export const MAX_LINES_PER_CREDIT = MAX_ALLOCATIONS_PER_PAYMENT;

const count = (n: number) => n.toLocaleString('en-US');

function tooMany(message: string, field: readonly string[]): Refusal {
  return refusal(RefusalCode.TOO_MANY_ITEMS, message, field);
}

/**
 * Refuses a charge that would have more than MAX_LINES_PER_CHARGE PR lines. `lineCount` is how many it would have:
 * those of the request alone for a new charge, or those stored plus those the request adds.
 */
export function checkLinesPerCharge(lineCount: number, field: readonly string[]): Refusal | null {
  if (lineCount <= MAX_LINES_PER_CHARGE) return null;
  return tooMany(`A charge can have at most ${MAX_LINES_PER_CHARGE} PR lines, cancelled ones included; this one would have ${count(lineCount)}.`, field);
}

export function checkAllocationCount(allocationCount: number): Refusal | null {
  if (allocationCount <= MAX_ALLOCATIONS_PER_PAYMENT) return null;
  return tooMany(
    `A payment can have at most ${MAX_ALLOCATIONS_PER_PAYMENT} allocations; this one has ${count(allocationCount)}. Record the rest as another payment.`,
    ['input', 'allocations'],
  );
}

export function checkAdjustmentCount(adjustmentCount: number): Refusal | null {
  if (adjustmentCount <= MAX_ADJUSTMENTS_PER_REMITTANCE) return null;
  return tooMany(`A remittance can have at most ${MAX_ADJUSTMENTS_PER_REMITTANCE} adjustments; this one has ${count(adjustmentCount)}.`, ['input', 'adjustments']);
}

/** Refuses another write-off on a line that already holds MAX_WRITE_OFFS_PER_LINE (removed ones count). */
export function writeOffsFull(writeOffCount: number): Refusal | null {
  if (writeOffCount < MAX_WRITE_OFFS_PER_LINE) return null;
  return tooMany(`This PR line already has ${writeOffCount} write-offs, the most one line can hold.`, ['input', 'responsibilityId']);
}

/**
 * Refuses a removal that would give the write-off its MAX_REMOVALS_PER_WRITE_OFF-th removal (or a later one) and still
 * leave money written off. `removalCount`: its removals so far; `leftCents`: what would still be written off after it.
 */
export function checkRemovalCount(removalCount: number, activeCents: number, leftCents: number): Refusal | null {
  if (removalCount + 1 < MAX_REMOVALS_PER_WRITE_OFF || leftCents === 0) return null;
  return tooMany(
    `This write-off already has ${count(removalCount)} removals; the last one it can hold must remove all that is still written off (${formatCents(activeCents)}). Leave the amount empty to remove all of it.`,
    ['input', 'amountCents'],
  );
}

/** Refuses another refund of a payment that already has MAX_REFUNDS_PER_PAYMENT. */
export function refundsFull(refundCount: number): Refusal | null {
  if (refundCount < MAX_REFUNDS_PER_PAYMENT) return null;
  return tooMany(`This payment already has ${refundCount} refunds, the most one payment can hold.`, ['input', 'paymentId']);
}

/**
 * Write-off rules (docs/design.md §9.2): rules one practice can hold, deactivated ones included (rules are never
 * deleted), which bounds `Query.writeOffRules`; the PR kinds a rule can name (each kind once); the largest minimum age
 * a rule can ask for, in days (about a hundred years).
 */
export const MAX_WRITE_OFF_RULES_PER_PRACTICE = 100;
export const MAX_RULE_KINDS = 7;
export const MAX_RULE_MIN_DAYS = 36_500;

/**
 * An 835 import (docs/design.md §9.1): the DRAFT batches one file may become (one per payment, or the parts of a
 * payment too large for one batch), which bounds `ImportRemittanceFilePayload.batches`.
 */
export const MAX_BATCHES_PER_IMPORT = 50;
