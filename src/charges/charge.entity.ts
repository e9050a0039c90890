import { Entity, Index } from 'typeorm';
import { CentsColumn, SequenceColumn, IdColumn, InstantColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';

/** A billed visit: date of service, procedure and billed amount. Its PR lines hang off it. */
@Entity('charges')
@Index('charges_patient_date', ['patientId', 'serviceDate', 'id'])
@Index('charges_practice_claim', ['practiceId', 'claimNumber'])
@Index('charges_practice_line_control', ['practiceId', 'lineControlNumber'])
export class ChargeEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @RefColumn('patient_id') patientId: string;
  @SequenceColumn() sequence: number;
  @TextColumn('service_date', 10) serviceDate: string;
  @TextColumn('procedure_code', 32) procedureCode: string;
  @TextColumn('description', 255, { nullable: true }) description: string | null;
  @CentsColumn('billed_cents') billedCents: number;
  /** The claim's patient control number and the service line's control number sent to the payer: what an 835 matches. */
  @TextColumn('claim_number', 64, { nullable: true }) claimNumber: string | null;
  @TextColumn('line_control_number', 64, { nullable: true }) lineControlNumber: string | null;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}
