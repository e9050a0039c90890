import { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_ONLY_TABLES_BY_MIGRATION, NEVER_DELETED_TABLES_BY_MIGRATION } from '../append-only';

const APPEND_ONLY_TABLES = APPEND_ONLY_TABLES_BY_MIGRATION.AppendOnly;
const NEVER_DELETED_TABLES = NEVER_DELETED_TABLES_BY_MIGRATION.AppendOnly;

/** The database itself refuses to edit or delete ledger and audit rows. */
export class AppendOnly1795763274750 implements MigrationInterface {
  name = 'AppendOnly1795763274750';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_update" BEFORE UPDATE ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are append-only'); END`);
    }
    for (const table of [...APPEND_ONLY_TABLES, ...NEVER_DELETED_TABLES]) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are never deleted'); END`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of APPEND_ONLY_TABLES) await queryRunner.query(`DROP TRIGGER IF EXISTS "${table}_no_update"`);
    for (const table of [...APPEND_ONLY_TABLES, ...NEVER_DELETED_TABLES]) await queryRunner.query(`DROP TRIGGER IF EXISTS "${table}_no_delete"`);
  }
}
