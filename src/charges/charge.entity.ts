import { Entity, Index } from 'typeorm';
import { CentsColumn, SequenceColumn, IdColumn, InstantColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';

/** A billed visit: date of service, procedure and billed amount. Its PR lines hang off it. */
@Entity('charges')
@Index('charges_patient_date', ['patientId', 'serviceDate', 'id'])
export class ChargeEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @TextColumn('service_date', 10) serviceDate: string;
  @TextColumn('procedure_code', 32) procedureCode: string;
  @TextColumn('description', 255, { nullable: true }) description: string | null;
  @CentsColumn('billed_cents') billedCents: number;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}
