import { MigrationInterface, QueryRunner } from 'typeorm';
import { DERIVED_COLUMNS, factColumns } from '../append-only';
import { backfillStoredAmounts, STORED_AMOUNT_COLUMNS } from '../stored-amounts';

/**
 * The derived amounts stored beside the facts (docs/design.md §2), filled from the fact rows; the columns as the
 * generator writes them for PostgreSQL. The append-only triggers of payments, allocations and write-offs now refuse an
 * UPDATE of their fact columns only, so the derived ones can be kept current; DELETE and TRUNCATE stay refused.
 */
export class StoredAmounts1796142795186 implements MigrationInterface {
  name = 'StoredAmounts1796142795186';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, column] of STORED_AMOUNT_COLUMNS) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD "${column}" bigint NOT NULL DEFAULT '0'`);
    }
    for (const table of Object.keys(DERIVED_COLUMNS)) await queryRunner.query(`DROP TRIGGER "${table}_append_only" ON "${table}"`);
    await backfillStoredAmounts(queryRunner);
    // ledger_refuse_change() comes from the AppendOnly migration.
    for (const table of Object.keys(DERIVED_COLUMNS)) {
      await queryRunner.query(
        `CREATE TRIGGER "${table}_append_only" BEFORE UPDATE OF ${await factColumns(queryRunner, table)} OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of Object.keys(DERIVED_COLUMNS)) {
      await queryRunner.query(`DROP TRIGGER "${table}_append_only" ON "${table}"`);
      await queryRunner.query(`CREATE TRIGGER "${table}_append_only" BEFORE UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    }
    for (const [table, column] of [...STORED_AMOUNT_COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "${column}"`);
  }
}
