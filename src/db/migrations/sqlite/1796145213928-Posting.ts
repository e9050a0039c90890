import { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_ONLY_TABLES_BY_MIGRATION, NEVER_DELETED_TABLES_BY_MIGRATION } from '../append-only';

const APPEND_ONLY_TABLES = APPEND_ONLY_TABLES_BY_MIGRATION.Posting;
const NEVER_DELETED_TABLES = NEVER_DELETED_TABLES_BY_MIGRATION.Posting;
const NEW_COLUMNS: readonly (readonly [table: string, column: string, definition: string])[] = [
  ['charges', 'claim_number', 'varchar(64)'],
  ['charges', 'line_control_number', 'varchar(64)'],
  ['payments', 'voided_cents', 'bigint NOT NULL DEFAULT (0)'],
  ['payments', 'voided_at', 'varchar(24)'],
];

/**
 * Posting batches and their entries, payment voids and remittance reversals, charges' claim and line control numbers,
 * payments' void (docs/design.md §8). The tables as generated from the entities for SQLite; the columns hand-written:
 * the generator adds one by rebuilding the table, which would copy every row and drop its append-only triggers, while
 * SQLite adds a nullable column, or one with a constant default, in place (the same schema). Charges refuse every
 * UPDATE, so their new columns are facts; payments' update trigger names its fact columns (StoredAmounts), so the
 * void's derived columns are updatable as they are. An entry may be deleted only while its batch is a DRAFT.
 */
export class Posting1796145213928 implements MigrationInterface {
  name = 'Posting1796145213928';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"remittance_reversals\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"charge_id\" varchar(36) NOT NULL, \"remittance_record_id\" varchar(36) NOT NULL, \"reason\" varchar(255) NOT NULL, \"replaced_by_id\" varchar(36), \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"remittance_reversals_charge\" ON \"remittance_reversals\" (\"charge_id\") ");
    await queryRunner.query("CREATE INDEX \"remittance_reversals_patient\" ON \"remittance_reversals\" (\"patient_id\") ");
    await queryRunner.query("CREATE TABLE \"payment_voids\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"payment_id\" varchar(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"reason\" varchar(255) NOT NULL, \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"payment_voids_patient\" ON \"payment_voids\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"payment_voids_payment\" ON \"payment_voids\" (\"payment_id\") ");
    await queryRunner.query("CREATE TABLE \"posting_batches\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"kind\" varchar(16) NOT NULL, \"status\" varchar(16) NOT NULL, \"reference\" varchar(255) NOT NULL, \"payer_name\" varchar(255), \"deposit_date\" varchar(10), \"expected_total_cents\" bigint, \"payment_total_cents\" bigint NOT NULL DEFAULT (0), \"issues\" text NOT NULL DEFAULT ('[]'), \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL, \"created_role\" varchar(32) NOT NULL, \"posted_at\" varchar(24), \"posted_by\" varchar(255), \"posted_role\" varchar(32), \"negates_id\" varchar(36), \"negated_by_id\" varchar(36))");
    await queryRunner.query("CREATE INDEX \"posting_batches_practice_status\" ON \"posting_batches\" (\"practice_id\", \"status\") ");
    await queryRunner.query("CREATE INDEX \"posting_batches_practice_time\" ON \"posting_batches\" (\"practice_id\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"posting_entries\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"batch_id\" varchar(36) NOT NULL, \"position\" integer NOT NULL, \"kind\" varchar(32) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"input\" text NOT NULL, \"amount_cents\" bigint NOT NULL, \"charge_id\" varchar(36), \"responsibility_id\" varchar(36), \"payment_id\" varchar(36), \"write_off_id\" varchar(36), \"created_ids\" text NOT NULL DEFAULT ('[]'), \"created_at\" varchar(24) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"posting_entries_batch\" ON \"posting_entries\" (\"batch_id\", \"position\") ");
    for (const [table, column, definition] of NEW_COLUMNS) await queryRunner.query(`ALTER TABLE "${table}" ADD COLUMN "${column}" ${definition}`);
    await queryRunner.query("CREATE INDEX \"charges_practice_line_control\" ON \"charges\" (\"practice_id\", \"line_control_number\") ");
    await queryRunner.query("CREATE INDEX \"charges_practice_claim\" ON \"charges\" (\"practice_id\", \"claim_number\") ");
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_update" BEFORE UPDATE ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are append-only'); END`);
    }
    for (const table of [...APPEND_ONLY_TABLES, ...NEVER_DELETED_TABLES]) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" BEGIN SELECT RAISE(ABORT, '${table} rows are never deleted'); END`);
    }
    await queryRunner.query(`CREATE TRIGGER "posting_entries_draft_only" BEFORE DELETE ON "posting_entries"
      WHEN (SELECT b."status" FROM "posting_batches" b WHERE b."id" = OLD."batch_id") IS NOT 'DRAFT'
      BEGIN SELECT RAISE(ABORT, 'posting_entries rows are never deleted once their batch is posted'); END`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER "posting_entries_draft_only"');
    for (const table of [...APPEND_ONLY_TABLES, ...NEVER_DELETED_TABLES]) await queryRunner.query(`DROP TRIGGER "${table}_no_delete"`);
    for (const table of APPEND_ONLY_TABLES) await queryRunner.query(`DROP TRIGGER "${table}_no_update"`);
    await queryRunner.query("DROP INDEX \"charges_practice_claim\"");
    await queryRunner.query("DROP INDEX \"charges_practice_line_control\"");
    for (const [table, column] of [...NEW_COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "${column}"`);
    await queryRunner.query("DROP INDEX \"posting_entries_batch\"");
    await queryRunner.query("DROP TABLE \"posting_entries\"");
    await queryRunner.query("DROP INDEX \"posting_batches_practice_time\"");
    await queryRunner.query("DROP INDEX \"posting_batches_practice_status\"");
    await queryRunner.query("DROP TABLE \"posting_batches\"");
    await queryRunner.query("DROP INDEX \"payment_voids_payment\"");
    await queryRunner.query("DROP INDEX \"payment_voids_patient\"");
    await queryRunner.query("DROP TABLE \"payment_voids\"");
    await queryRunner.query("DROP INDEX \"remittance_reversals_patient\"");
    await queryRunner.query("DROP INDEX \"remittance_reversals_charge\"");
    await queryRunner.query("DROP TABLE \"remittance_reversals\"");
  }
}
