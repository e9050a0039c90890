import { MigrationInterface, QueryRunner } from 'typeorm';
import { DERIVED_COLUMNS, factColumns } from '../append-only';
import { backfillStoredAmounts, STORED_AMOUNT_COLUMNS } from '../stored-amounts';

/**
 * The derived amounts stored beside the facts (docs/design.md §2), filled from the fact rows. Hand-written: the
 * generator adds a column by rebuilding the table, which would copy every row and drop its append-only triggers;
 * SQLite adds a column with a constant default in place, and the result is the same schema. The update triggers of
 * payments, allocations and write-offs now name their fact columns only, so the derived ones can be kept current.
 */
export class StoredAmounts1796142795186 implements MigrationInterface {
  name = 'StoredAmounts1796142795186';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, column] of STORED_AMOUNT_COLUMNS) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD COLUMN "${column}" bigint NOT NULL DEFAULT (0)`);
    }
    for (const table of Object.keys(DERIVED_COLUMNS)) await queryRunner.query(`DROP TRIGGER "${table}_no_update"`);
    await backfillStoredAmounts(queryRunner);
    for (const table of Object.keys(DERIVED_COLUMNS)) {
      await queryRunner.query(
        `CREATE TRIGGER "${table}_no_update" BEFORE UPDATE OF ${await factColumns(queryRunner, table)} ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are append-only'); END`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of Object.keys(DERIVED_COLUMNS)) {
      await queryRunner.query(`DROP TRIGGER "${table}_no_update"`);
      await queryRunner.query(`CREATE TRIGGER "${table}_no_update" BEFORE UPDATE ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are append-only'); END`);
    }
    for (const [table, column] of [...STORED_AMOUNT_COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "${column}"`);
  }
}
