import { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillAuditVersions } from '../audit-versions';

/**
 * The version each accepted money mutation gave its patients, on the event's patient rows (docs/design.md §8.5), filled
 * for the rows before it. Hand-written: the generator adds a column by rebuilding the table, which would copy every row
 * and drop its append-only triggers; SQLite adds a nullable column in place, and the result is the same schema. The
 * update trigger is set aside for the fill only: the version is a fact of the event, as append-only as the rest.
 */
export class AuditEventVersions1796151482306 implements MigrationInterface {
  name = 'AuditEventVersions1796151482306';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "audit_event_patients" ADD COLUMN "version" integer');
    await queryRunner.query('DROP TRIGGER "audit_event_patients_no_update"');
    await backfillAuditVersions(queryRunner);
    await queryRunner.query(`CREATE TRIGGER "audit_event_patients_no_update" BEFORE UPDATE ON "audit_event_patients" BEGIN SELECT RAISE(ABORT, 'audit_event_patients rows are append-only'); END`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "audit_event_patients" DROP COLUMN "version"');
  }
}
