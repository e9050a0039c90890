import { Entity, Index } from 'typeorm';
import { CentsColumn, DerivedCentsColumn, IdColumn, InstantColumn, IntColumn, LongTextColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';
import type { PostingBatchKind, PostingBatchStatus, PostingEntryKind } from '../read-model/views';

/**
 * Money that arrived together (a deposit, an insurer's check or EFT) or corrections made together, posted at once
 * (docs/design.md §8). DRAFT until posted; a posted batch is never edited, only negated by another batch. Never deleted.
 */
@Entity('posting_batches')
@Index('posting_batches_practice_time', ['practiceId', 'createdAt', 'id'])
@Index('posting_batches_practice_status', ['practiceId', 'status'])
export class PostingBatchEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @TextColumn('kind', 16) kind: PostingBatchKind;
  @TextColumn('status', 16) status: PostingBatchStatus;
  /** Deposit slip, check or EFT trace number. */
  @TextColumn('reference', 255) reference: string;
  @TextColumn('payer_name', 255, { nullable: true }) payerName: string | null;
  @TextColumn('deposit_date', 10, { nullable: true }) depositDate: string | null;
  /** What a DEPOSIT's payments must add up to; on a REMITTANCE, the insurer's money (shown, not balanced). */
  @CentsColumn('expected_total_cents', { nullable: true }) expectedTotalCents: number | null;
  /** Σ of its payment entries. */
  @DerivedCentsColumn('payment_total_cents') paymentTotalCents: number;
  /** What an import could not match, as a JSON array of {code, message, claimNumber, payerClaimNumber, segment}. */
  @LongTextColumn('issues', { default: '[]' }) issues: string;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
  @TextColumn('created_role', 32) createdRole: string;
  @InstantColumn('posted_at', { nullable: true }) postedAt: string | null;
  @TextColumn('posted_by', 255, { nullable: true }) postedBy: string | null;
  @TextColumn('posted_role', 32, { nullable: true }) postedRole: string | null;
  /** The batch this one negates, and the batch that negated this one. */
  @RefColumn('negates_id', { nullable: true }) negatesId: string | null;
  @RefColumn('negated_by_id', { nullable: true }) negatedById: string | null;
}

/**
 * One deferred input of a batch, checked against the ledger only at preview and post. Editable, and deleted when
 * removed, while its batch is DRAFT; posting records the ids of the rows it created.
 */
@Entity('posting_entries')
@Index('posting_entries_batch', ['batchId', 'position'])
export class PostingEntryEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('batch_id') batchId: string;
  /** Order within the batch, from 0; removals leave gaps. */
  @IntColumn('position') position: number;
  @TextColumn('kind', 32) kind: PostingEntryKind;
  @RefColumn('patient_id') patientId: string;
  /** The entry's input as JSON, without an idempotency key. */
  @LongTextColumn('input') input: string;
  @CentsColumn('amount_cents') amountCents: number;
  @RefColumn('charge_id', { nullable: true }) chargeId: string | null;
  @RefColumn('responsibility_id', { nullable: true }) responsibilityId: string | null;
  @RefColumn('payment_id', { nullable: true }) paymentId: string | null;
  @RefColumn('write_off_id', { nullable: true }) writeOffId: string | null;
  /** JSON array of the ids of the rows posting it created. */
  @LongTextColumn('created_ids', { default: '[]' }) createdIds: string;
  @InstantColumn('created_at') createdAt: string;
}
