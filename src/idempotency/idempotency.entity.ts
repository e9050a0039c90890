import { Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn, LongTextColumn, RefColumn, TextColumn } from '../db/columns';

/**
 * An accepted mutation's key (docs/design.md §3), written in the same transaction as its effect, so a crash can never
 * keep one without the other. `fingerprint` is a hash of the operation and its input; `result` holds the ids the
 * payload is rebuilt from.
 */
@Entity('idempotency_keys')
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'practice_id', type: 'varchar', length: 64 }) practiceId: string;
  @PrimaryColumn({ name: 'key', type: 'varchar', length: 255 }) key: string;
  @TextColumn('operation', 64) operation: string;
  @TextColumn('fingerprint', 64) fingerprint: string;
  @RefColumn('patient_id') patientId: string;
  @LongTextColumn('result') result: string;
  @InstantColumn('created_at') createdAt: string;
}
