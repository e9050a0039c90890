import { Entity, Index } from 'typeorm';
import { CentsColumn, IdColumn, InstantColumn, IntColumn, PracticeColumn, TextColumn } from '../db/columns';

/**
 * A patient, with the projection of its balance (docs/design.md §2.6) kept in step by the ledger unit of work:
 * every accepted money mutation recomputes it from the ledger rows and raises `version` by one.
 */
@Entity('patients')
@Index('patients_practice_name', ['practiceId', 'lastName', 'firstName', 'id'])
// An MRN names one patient of a practice; patients without one (NULL) are not compared.
@Index('patients_practice_mrn', ['practiceId', 'mrn'], { unique: true })
export class PatientEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @TextColumn('first_name', 255) firstName: string;
  @TextColumn('last_name', 255) lastName: string;
  @TextColumn('date_of_birth', 10, { nullable: true }) dateOfBirth: string | null;
  @TextColumn('mrn', 255, { nullable: true }) mrn: string | null;
  @IntColumn('version') version: number;
  @CentsColumn('responsibility_cents') responsibilityCents: number;
  @CentsColumn('paid_cents') paidCents: number;
  @CentsColumn('written_off_cents') writtenOffCents: number;
  @CentsColumn('outstanding_cents') outstandingCents: number;
  @CentsColumn('credit_cents') creditCents: number;
  @InstantColumn('balance_updated_at') balanceUpdatedAt: string;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
}
