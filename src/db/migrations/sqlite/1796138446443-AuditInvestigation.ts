import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Generated from the entities for SQLite, with one change: the generator adds `client_request_id` by rebuilding
 * audit_events (copy every row, drop the old table), which would copy the whole trail and drop its append-only
 * triggers with the old table. SQLite adds a nullable column in place, and the result is the same schema.
 */
export class AuditInvestigation1796138446443 implements MigrationInterface {
  name = 'AuditInvestigation1796138446443';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"audit_event_patients\" (\"event_id\" varchar(36) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"occurred_at\" varchar(24) NOT NULL, PRIMARY KEY (\"event_id\", \"patient_id\"))");
    await queryRunner.query("CREATE INDEX \"audit_event_patients_trail\" ON \"audit_event_patients\" (\"practice_id\", \"patient_id\", \"occurred_at\", \"event_id\") ");
    await queryRunner.query("ALTER TABLE \"audit_events\" ADD COLUMN \"client_request_id\" varchar(64)");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"audit_events\" DROP COLUMN \"client_request_id\"");
    await queryRunner.query("DROP INDEX \"audit_event_patients_trail\"");
    await queryRunner.query("DROP TABLE \"audit_event_patients\"");
  }
}
