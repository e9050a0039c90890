import { Entity, Index } from 'typeorm';
import { CentsColumn, DerivedCentsColumn, SequenceColumn, IdColumn, InstantColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';
import type { WriteOffReason } from '../ledger';

/** A decision not to collect part of a PR line. Its facts are never edited; undone only by reversal rows. */
@Entity('write_offs')
@Index('write_offs_responsibility', ['responsibilityId'])
@Index('write_offs_patient', ['patientId'])
export class WriteOffEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('responsibility_id') responsibilityId: string;
  @CentsColumn('amount_cents') amountCents: number;
  /** Amount less its reversals. */
  @DerivedCentsColumn('active_cents') activeCents: number;
  @TextColumn('reason', 32) reason: WriteOffReason;
  @TextColumn('custom_reason', 255, { nullable: true }) customReason: string | null;
  @TextColumn('note', 1000, { nullable: true }) note: string | null;
  @RefColumn('batch_id', { nullable: true }) batchId: string | null;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}

/** Removal of part or all of a write-off ("remove write-off"), with its reason. */
@Entity('write_off_reversals')
@Index('write_off_reversals_write_off', ['writeOffId'])
@Index('write_off_reversals_responsibility', ['responsibilityId'])
@Index('write_off_reversals_patient', ['patientId'])
export class WriteOffReversalEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('write_off_id') writeOffId: string;
  @RefColumn('responsibility_id') responsibilityId: string;
  @CentsColumn('amount_cents') amountCents: number;
  @TextColumn('reason', 255) reason: string;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}
