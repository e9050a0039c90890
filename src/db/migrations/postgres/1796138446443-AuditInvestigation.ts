import { MigrationInterface, QueryRunner } from 'typeorm';

/** Generated from the entities for PostgreSQL. */
export class AuditInvestigation1796138446443 implements MigrationInterface {
  name = 'AuditInvestigation1796138446443';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"audit_event_patients\" (\"event_id\" character varying(36) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"occurred_at\" character varying(24) NOT NULL, CONSTRAINT \"PK_23524a103f401357b477aa99371\" PRIMARY KEY (\"event_id\", \"patient_id\"))");
    await queryRunner.query("CREATE INDEX \"audit_event_patients_trail\" ON \"audit_event_patients\" (\"practice_id\", \"patient_id\", \"occurred_at\", \"event_id\") ");
    await queryRunner.query("ALTER TABLE \"audit_events\" ADD \"client_request_id\" character varying(64)");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"audit_events\" DROP COLUMN \"client_request_id\"");
    await queryRunner.query("DROP INDEX \"public\".\"audit_event_patients_trail\"");
    await queryRunner.query("DROP TABLE \"audit_event_patients\"");
  }
}
