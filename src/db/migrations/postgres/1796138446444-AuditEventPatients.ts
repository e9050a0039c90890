import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * audit_event_patients is append-only like audit_events (TRUNCATE included), and starts with the trail so far: each
 * event's own patient, and each patient an earlier `patients` list read returned (its entity ids).
 */
export class AuditEventPatients1796138446444 implements MigrationInterface {
  name = 'AuditEventPatients1796138446444';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`INSERT INTO "audit_event_patients" ("event_id", "patient_id", "practice_id", "occurred_at")
      SELECT "id", "patient_id", "practice_id", "occurred_at" FROM "audit_events" WHERE "patient_id" IS NOT NULL`);
    await queryRunner.query(`INSERT INTO "audit_event_patients" ("event_id", "patient_id", "practice_id", "occurred_at")
      SELECT e."id", j.value, e."practice_id", e."occurred_at" FROM "audit_events" e CROSS JOIN LATERAL jsonb_array_elements_text(e."entity_ids"::jsonb) AS j(value)
      WHERE e."operation" = 'patients' AND e."outcome" = 'READ'
      ON CONFLICT DO NOTHING`);
    // ledger_refuse_change() comes from the AppendOnly migration.
    await queryRunner.query(`CREATE TRIGGER "audit_event_patients_append_only" BEFORE UPDATE OR DELETE ON "audit_event_patients" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    await queryRunner.query(`CREATE TRIGGER "audit_event_patients_no_truncate" BEFORE TRUNCATE ON "audit_event_patients" FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER IF EXISTS "audit_event_patients_no_truncate" ON "audit_event_patients"');
    await queryRunner.query('DROP TRIGGER IF EXISTS "audit_event_patients_append_only" ON "audit_event_patients"');
  }
}
