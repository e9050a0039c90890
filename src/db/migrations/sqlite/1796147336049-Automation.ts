import { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_ONLY_TABLES_BY_MIGRATION, NEVER_DELETED_TABLES_BY_MIGRATION } from '../append-only';

const APPEND_ONLY_TABLES = APPEND_ONLY_TABLES_BY_MIGRATION.Automation;
const NEVER_DELETED_TABLES = NEVER_DELETED_TABLES_BY_MIGRATION.Automation;

/**
 * Write-off rules and the record of imported 835 payments (docs/design.md §9); the tables generated from the entities
 * for SQLite. A rule is edited and deactivated but never deleted; an import row is append-only, and a payer's trace
 * number is imported once per practice.
 */
export class Automation1796147336049 implements MigrationInterface {
  name = 'Automation1796147336049';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"write_off_rules\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"name\" varchar(255) NOT NULL, \"reason\" varchar(32) NOT NULL, \"custom_reason\" varchar(255), \"max_open_cents\" bigint NOT NULL, \"min_days_since_service\" integer NOT NULL DEFAULT (0), \"kinds\" text, \"active\" boolean NOT NULL DEFAULT (1), \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL, \"updated_at\" varchar(24) NOT NULL, \"updated_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"write_off_rules_practice\" ON \"write_off_rules\" (\"practice_id\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"remittance_imports\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"payer_key\" varchar(255) NOT NULL, \"trace_number\" varchar(64) NOT NULL, \"file_hash\" varchar(64) NOT NULL, \"batch_id\" varchar(36) NOT NULL, \"imported_at\" varchar(24) NOT NULL, \"imported_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"remittance_imports_file\" ON \"remittance_imports\" (\"practice_id\", \"file_hash\") ");
    await queryRunner.query("CREATE UNIQUE INDEX \"remittance_imports_payment\" ON \"remittance_imports\" (\"practice_id\", \"payer_key\", \"trace_number\") ");
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_update" BEFORE UPDATE ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are append-only'); END`);
    }
    for (const table of [...APPEND_ONLY_TABLES, ...NEVER_DELETED_TABLES]) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are never deleted'); END`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...APPEND_ONLY_TABLES, ...NEVER_DELETED_TABLES]) await queryRunner.query(`DROP TRIGGER "${table}_no_delete"`);
    for (const table of APPEND_ONLY_TABLES) await queryRunner.query(`DROP TRIGGER "${table}_no_update"`);
    await queryRunner.query("DROP INDEX \"remittance_imports_payment\"");
    await queryRunner.query("DROP INDEX \"remittance_imports_file\"");
    await queryRunner.query("DROP TABLE \"remittance_imports\"");
    await queryRunner.query("DROP INDEX \"write_off_rules_practice\"");
    await queryRunner.query("DROP TABLE \"write_off_rules\"");
  }
}
