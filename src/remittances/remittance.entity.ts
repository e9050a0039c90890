import { Entity, Index } from 'typeorm';
import { IdColumn, SequenceColumn, InstantColumn, LongTextColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';

/** An insurer's adjudication of one charge, as received. `adjustments` keeps every group, PR or not, as JSON. */
@Entity('remittances')
@Index('remittances_charge_external', ['chargeId', 'externalId'], { unique: true })
export class RemittanceEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('charge_id') chargeId: string;
  @TextColumn('external_id', 255) externalId: string;
  @LongTextColumn('adjustments') adjustments: string;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}

/**
 * A remittance reversed by the insurer, or replaced by a corrected one (`replacedById`): its PR lines were reversed
 * with it (docs/design.md §8.3).
 */
@Entity('remittance_reversals')
@Index('remittance_reversals_patient', ['patientId'])
@Index('remittance_reversals_charge', ['chargeId'])
export class RemittanceReversalEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @RefColumn('charge_id') chargeId: string;
  /** The remittances row reversed. */
  @RefColumn('remittance_record_id') remittanceRecordId: string;
  @TextColumn('reason', 255) reason: string;
  /** The remittances row of the corrected remittance. */
  @RefColumn('replaced_by_id', { nullable: true }) replacedById: string | null;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}
