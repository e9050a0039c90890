import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * audit_event_patients is append-only like audit_events, and starts with the trail so far: each event's own patient,
 * and each patient an earlier `patients` list read returned (its entity ids).
 */
export class AuditEventPatients1796138446444 implements MigrationInterface {
  name = 'AuditEventPatients1796138446444';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`INSERT INTO "audit_event_patients" ("event_id", "patient_id", "practice_id", "occurred_at")
      SELECT "id", "patient_id", "practice_id", "occurred_at" FROM "audit_events" WHERE "patient_id" IS NOT NULL`);
    await queryRunner.query(`INSERT OR IGNORE INTO "audit_event_patients" ("event_id", "patient_id", "practice_id", "occurred_at")
      SELECT e."id", j."value", e."practice_id", e."occurred_at" FROM "audit_events" e, json_each(e."entity_ids") j
      WHERE e."operation" = 'patients' AND e."outcome" = 'READ'`);
    await queryRunner.query(`CREATE TRIGGER "audit_event_patients_no_update" BEFORE UPDATE ON "audit_event_patients" BEGIN SELECT RAISE(ABORT, 'audit_event_patients rows are append-only'); END`);
    await queryRunner.query(`CREATE TRIGGER "audit_event_patients_no_delete" BEFORE DELETE ON "audit_event_patients" BEGIN SELECT RAISE(ABORT, 'audit_event_patients rows are never deleted'); END`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER IF EXISTS "audit_event_patients_no_delete"');
    await queryRunner.query('DROP TRIGGER IF EXISTS "audit_event_patients_no_update"');
  }
}
