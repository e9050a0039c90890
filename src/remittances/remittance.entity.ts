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
