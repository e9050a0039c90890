import { Entity, Index } from 'typeorm';
import { CentsColumn, DerivedCentsColumn, SequenceColumn, IdColumn, InstantColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';
import type { ResponsibilityKind, ResponsibilityOrigin, ResponsibilityStatus } from '../ledger';

/**
 * A PR line. Its amount never changes; cancelling is the one status change, recorded with who, when and why.
 * What is paid and written off is derived from allocation and write-off rows (docs/design.md §2.1); the ledger writer
 * keeps it current here.
 */
@Entity('responsibilities')
@Index('responsibilities_charge', ['chargeId'])
@Index('responsibilities_patient', ['patientId'])
export class ResponsibilityEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('charge_id') chargeId: string;
  @TextColumn('kind', 16) kind: ResponsibilityKind;
  @TextColumn('origin', 16) origin: ResponsibilityOrigin;
  @TextColumn('status', 16) status: ResponsibilityStatus;
  @CentsColumn('amount_cents') amountCents: number;
  /** Allocations net of their reductions. */
  @DerivedCentsColumn('paid_cents') paidCents: number;
  /** Write-offs net of their reversals. */
  @DerivedCentsColumn('written_off_cents') writtenOffCents: number;
  /** The remittance that created a REMITTANCE line, and its claim adjustment reason code. */
  @RefColumn('remittance_id', { nullable: true }) remittanceId: string | null;
  @TextColumn('reason_code', 5, { nullable: true }) reasonCode: string | null;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
  @InstantColumn('cancelled_at', { nullable: true }) cancelledAt: string | null;
  @TextColumn('cancelled_by', 255, { nullable: true }) cancelledBy: string | null;
  @TextColumn('cancel_reason', 255, { nullable: true }) cancelReason: string | null;
}
