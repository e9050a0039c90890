import { Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumn, InstantColumn, IntColumn, LongTextColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';

/** Who did what to which rows, and how it ended. Append-only: the database refuses updates and deletes. */
@Entity('audit_events')
@Index('audit_events_practice_time', ['practiceId', 'occurredAt', 'id'])
@Index('audit_events_patient', ['practiceId', 'patientId', 'occurredAt'])
export class AuditEventEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @InstantColumn('occurred_at') occurredAt: string;
  @TextColumn('operation', 64) operation: string;
  /** ACCEPTED, REFUSED, FAILED or READ. */
  @TextColumn('outcome', 16) outcome: string;
  @TextColumn('code', 64, { nullable: true }) code: string | null;
  @RefColumn('patient_id', { nullable: true }) patientId: string | null;
  @LongTextColumn('entity_ids') entityIds: string;
  @TextColumn('actor_id', 255) actorId: string;
  @TextColumn('actor_role', 32) actorRole: string;
  /** Made by the server for every request: the key that ties the event to the request's log line. */
  @TextColumn('request_id', 64) requestId: string;
  /** The client's own `x-request-id`, kept beside the server's, never instead of it. */
  @TextColumn('client_request_id', 64, { nullable: true }) clientRequestId: string | null;
}

/**
 * Every patient an event concerns: its own `patient_id`, or each patient a list read returned. `auditTrail(patientId:)`
 * pages through this index, so a patient's trail costs the same however large the practice's trail grows.
 * Append-only like the events; `occurred_at` is copied from the event so the index alone orders and bounds a page.
 * `version` is the version an accepted money mutation gave the patient (docs/design.md §2.6, §8.5), written in the
 * same unit that raised it; null on every other event (a refusal, a replay, a read, a draft batch, an import).
 */
@Entity('audit_event_patients')
@Index('audit_event_patients_trail', ['practiceId', 'patientId', 'occurredAt', 'eventId'])
export class AuditEventPatientEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 36 }) eventId: string;
  @PrimaryColumn({ name: 'patient_id', type: 'varchar', length: 36 }) patientId: string;
  @PracticeColumn() practiceId: string;
  @InstantColumn('occurred_at') occurredAt: string;
  @IntColumn('version', { nullable: true }) version: number | null;
}
