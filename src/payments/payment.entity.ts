import { Entity, Index } from 'typeorm';
import { CentsColumn, DerivedCentsColumn, SequenceColumn, IdColumn, InstantColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';
import type { AllocationReductionCause, PaymentMethod, PaymentPurpose, RefundMethod } from '../ledger';

/**
 * Money a patient paid. Its facts are never edited: where its cents sit is told by allocation, reduction and refund
 * rows, and stored as derived amounts (docs/design.md §2.2).
 */
@Entity('payments')
@Index('payments_patient', ['patientId', 'receivedAt'])
export class PaymentEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @CentsColumn('amount_cents') amountCents: number;
  /** Σ remaining of its allocations. */
  @DerivedCentsColumn('allocated_cents') allocatedCents: number;
  /** Σ returned of its refunds. */
  @DerivedCentsColumn('refunded_cents') refundedCents: number;
  @TextColumn('method', 16) method: PaymentMethod;
  @TextColumn('purpose', 16) purpose: PaymentPurpose;
  @RefColumn('charge_id', { nullable: true }) chargeId: string | null;
  @InstantColumn('received_at') receivedAt: string;
  /** The posting batch (deposit, remittance) that posted it, if one did. */
  @RefColumn('batch_id', { nullable: true }) batchId: string | null;
  /** What left the ledger when it was voided (docs/design.md §8.2), and when: 0 and null while it stands. */
  @DerivedCentsColumn('voided_cents') voidedCents: number;
  @InstantColumn('voided_at', { nullable: true }) voidedAt: string | null;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}

/**
 * Part of a payment put on a PR line; `source` says why it exists. Refunds take money back newest `sequence` first.
 */
@Entity('allocations')
@Index('allocations_payment', ['paymentId'])
@Index('allocations_responsibility', ['responsibilityId'])
@Index('allocations_patient', ['patientId'])
export class AllocationEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('payment_id') paymentId: string;
  @RefColumn('responsibility_id') responsibilityId: string;
  @CentsColumn('amount_cents') amountCents: number;
  /** Amount less its reductions. */
  @DerivedCentsColumn('remaining_cents') remainingCents: number;
  /** PAYMENT: paid with the payment; REMITTANCE_MOVE: moved from a superseded or reversed line; CREDIT: credit applied. */
  @TextColumn('source', 16) source: 'PAYMENT' | 'REMITTANCE_MOVE' | 'CREDIT';
  @InstantColumn('created_at') createdAt: string;
}

/**
 * Cents taken back off an allocation, and why: a refund, a move to credit, a cancelled, superseded or reversed line, a
 * void, applied credit taken back by a negation.
 */
@Entity('allocation_reductions')
@Index('allocation_reductions_allocation', ['allocationId'])
@Index('allocation_reductions_responsibility', ['responsibilityId'])
@Index('allocation_reductions_patient', ['patientId'])
export class AllocationReductionEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('allocation_id') allocationId: string;
  @RefColumn('payment_id') paymentId: string;
  @RefColumn('responsibility_id') responsibilityId: string;
  @CentsColumn('amount_cents') amountCents: number;
  @TextColumn('cause', 16) cause: AllocationReductionCause;
  @RefColumn('refund_id', { nullable: true }) refundId: string | null;
  @InstantColumn('created_at') createdAt: string;
}

/** A refund of one payment. `returnedCents` is what left the practice (0 for ACCOUNT_CREDIT). */
@Entity('refunds')
@Index('refunds_payment', ['paymentId'])
@Index('refunds_patient', ['patientId'])
export class RefundEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('payment_id') paymentId: string;
  @CentsColumn('amount_cents') amountCents: number;
  @CentsColumn('returned_cents') returnedCents: number;
  @TextColumn('method', 32) method: RefundMethod;
  @TextColumn('reason', 255) reason: string;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}

/** A payment voided (entered in error, bounced check): `amountCents` is what left the ledger (docs/design.md §8.2). */
@Entity('payment_voids')
@Index('payment_voids_payment', ['paymentId'])
@Index('payment_voids_patient', ['patientId'])
export class PaymentVoidEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('payment_id') paymentId: string;
  @CentsColumn('amount_cents') amountCents: number;
  @TextColumn('reason', 255) reason: string;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}
