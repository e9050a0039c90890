import { Entity, Index } from 'typeorm';
import { IdColumn, InstantColumn, LongTextColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';

/** Who did what to which rows, and how it ended. Append-only: the database refuses updates and deletes. */
@Entity('audit_events')
@Index('audit_events_practice_time', ['practiceId', 'occurredAt', 'id'])
@Index('audit_events_patient', ['practiceId', 'patientId', 'occurredAt'])
export class AuditEventEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @InstantColumn('occurred_at') occurredAt: string;
  @TextColumn('operation', 64) operation: string;
  /** ACCEPTED, REFUSED or FAILED. */
  @TextColumn('outcome', 16) outcome: string;
  @TextColumn('code', 64, { nullable: true }) code: string | null;
  @RefColumn('patient_id', { nullable: true }) patientId: string | null;
  @LongTextColumn('entity_ids') entityIds: string;
  @TextColumn('actor_id', 255) actorId: string;
  @TextColumn('actor_role', 32) actorRole: string;
  @TextColumn('request_id', 64) requestId: string;
}
