import { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillAuditVersions } from '../audit-versions';

/**
 * The version each accepted money mutation gave its patients, on the event's patient rows (docs/design.md §8.5), filled
 * for the rows before it; the column as the generator writes it for PostgreSQL. The append-only trigger is set aside
 * for the fill only: the version is a fact of the event, as append-only as the rest (TRUNCATE stays refused).
 */
export class AuditEventVersions1796151482306 implements MigrationInterface {
  name = 'AuditEventVersions1796151482306';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "audit_event_patients" ADD "version" integer');
    await queryRunner.query('DROP TRIGGER "audit_event_patients_append_only" ON "audit_event_patients"');
    await backfillAuditVersions(queryRunner);
    // ledger_refuse_change() comes from the AppendOnly migration.
    await queryRunner.query(`CREATE TRIGGER "audit_event_patients_append_only" BEFORE UPDATE OR DELETE ON "audit_event_patients" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "audit_event_patients" DROP COLUMN "version"');
  }
}
