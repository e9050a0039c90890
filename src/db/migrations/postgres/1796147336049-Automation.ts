import { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_ONLY_TABLES_BY_MIGRATION, NEVER_DELETED_TABLES_BY_MIGRATION } from '../append-only';

const APPEND_ONLY_TABLES = APPEND_ONLY_TABLES_BY_MIGRATION.Automation;
const NEVER_DELETED_TABLES = NEVER_DELETED_TABLES_BY_MIGRATION.Automation;

/**
 * Write-off rules and the record of imported 835 payments (docs/design.md §9); generated from the entities for
 * PostgreSQL. A rule is edited and deactivated but never deleted; an import row is append-only (TRUNCATE included),
 * and a payer's trace number is imported once per practice.
 */
export class Automation1796147336049 implements MigrationInterface {
  name = 'Automation1796147336049';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"write_off_rules\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"name\" character varying(255) NOT NULL, \"reason\" character varying(32) NOT NULL, \"custom_reason\" character varying(255), \"max_open_cents\" bigint NOT NULL, \"min_days_since_service\" integer NOT NULL DEFAULT '0', \"kinds\" text, \"active\" boolean NOT NULL DEFAULT true, \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, \"updated_at\" character varying(24) NOT NULL, \"updated_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_90affe6a1b586f6dbe93c125e74\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"write_off_rules_practice\" ON \"write_off_rules\" (\"practice_id\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"remittance_imports\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"payer_key\" character varying(255) NOT NULL, \"trace_number\" character varying(64) NOT NULL, \"file_hash\" character varying(64) NOT NULL, \"batch_id\" character varying(36) NOT NULL, \"imported_at\" character varying(24) NOT NULL, \"imported_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_db7fed9d38823e320e7667b277f\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"remittance_imports_file\" ON \"remittance_imports\" (\"practice_id\", \"file_hash\") ");
    await queryRunner.query("CREATE UNIQUE INDEX \"remittance_imports_payment\" ON \"remittance_imports\" (\"practice_id\", \"payer_key\", \"trace_number\") ");
    // ledger_refuse_change() comes from the AppendOnly migration.
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_append_only" BEFORE UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
      await queryRunner.query(`CREATE TRIGGER "${table}_no_truncate" BEFORE TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
    }
    for (const table of NEVER_DELETED_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of NEVER_DELETED_TABLES) await queryRunner.query(`DROP TRIGGER "${table}_no_delete" ON "${table}"`);
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`DROP TRIGGER "${table}_no_truncate" ON "${table}"`);
      await queryRunner.query(`DROP TRIGGER "${table}_append_only" ON "${table}"`);
    }
    await queryRunner.query("DROP INDEX \"public\".\"remittance_imports_payment\"");
    await queryRunner.query("DROP INDEX \"public\".\"remittance_imports_file\"");
    await queryRunner.query("DROP TABLE \"remittance_imports\"");
    await queryRunner.query("DROP INDEX \"public\".\"write_off_rules_practice\"");
    await queryRunner.query("DROP TABLE \"write_off_rules\"");
  }
}
