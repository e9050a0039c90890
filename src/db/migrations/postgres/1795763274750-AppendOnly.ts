import { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_ONLY_TABLES_BY_MIGRATION, NEVER_DELETED_TABLES_BY_MIGRATION } from '../append-only';

const APPEND_ONLY_TABLES = APPEND_ONLY_TABLES_BY_MIGRATION.AppendOnly;
const NEVER_DELETED_TABLES = NEVER_DELETED_TABLES_BY_MIGRATION.AppendOnly;

/** The database itself refuses to edit or delete ledger and audit rows (TRUNCATE included). */
export class AppendOnly1795763274750 implements MigrationInterface {
  name = 'AppendOnly1795763274750';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION '% on % is not allowed: rows are append-only', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$`);
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_append_only" BEFORE UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
      await queryRunner.query(`CREATE TRIGGER "${table}_no_truncate" BEFORE TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
    }
    for (const table of NEVER_DELETED_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS "${table}_append_only" ON "${table}"`);
      await queryRunner.query(`DROP TRIGGER IF EXISTS "${table}_no_truncate" ON "${table}"`);
    }
    for (const table of NEVER_DELETED_TABLES) await queryRunner.query(`DROP TRIGGER IF EXISTS "${table}_no_delete" ON "${table}"`);
    await queryRunner.query('DROP FUNCTION IF EXISTS ledger_refuse_change()');
  }
}
