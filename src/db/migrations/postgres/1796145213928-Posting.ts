import { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_ONLY_TABLES_BY_MIGRATION, NEVER_DELETED_TABLES_BY_MIGRATION } from '../append-only';

const APPEND_ONLY_TABLES = APPEND_ONLY_TABLES_BY_MIGRATION.Posting;
const NEVER_DELETED_TABLES = NEVER_DELETED_TABLES_BY_MIGRATION.Posting;

/**
 * Posting batches and their entries, payment voids and remittance reversals, charges' claim and line control numbers,
 * payments' void (docs/design.md §8); generated from the entities for PostgreSQL. Voids and reversals are append-only
 * (TRUNCATE included) and batches never deleted, like the tables of the AppendOnly migration. Charges refuse every
 * UPDATE, so their new columns are facts; payments' update trigger names its fact columns (StoredAmounts), so the
 * void's derived columns are updatable as they are. An entry may be deleted only while its batch is a DRAFT.
 */
export class Posting1796145213928 implements MigrationInterface {
  name = 'Posting1796145213928';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"remittance_reversals\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"charge_id\" character varying(36) NOT NULL, \"remittance_record_id\" character varying(36) NOT NULL, \"reason\" character varying(255) NOT NULL, \"replaced_by_id\" character varying(36), \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_34dba966dd5aa8dfa3c296dd918\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"remittance_reversals_charge\" ON \"remittance_reversals\" (\"charge_id\") ");
    await queryRunner.query("CREATE INDEX \"remittance_reversals_patient\" ON \"remittance_reversals\" (\"patient_id\") ");
    await queryRunner.query("CREATE TABLE \"payment_voids\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"payment_id\" character varying(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"reason\" character varying(255) NOT NULL, \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_3e6c67c1b1c3af3d78ca3b3dfe5\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"payment_voids_patient\" ON \"payment_voids\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"payment_voids_payment\" ON \"payment_voids\" (\"payment_id\") ");
    await queryRunner.query("CREATE TABLE \"posting_batches\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"kind\" character varying(16) NOT NULL, \"status\" character varying(16) NOT NULL, \"reference\" character varying(255) NOT NULL, \"payer_name\" character varying(255), \"deposit_date\" character varying(10), \"expected_total_cents\" bigint, \"payment_total_cents\" bigint NOT NULL DEFAULT '0', \"issues\" text NOT NULL DEFAULT '[]', \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, \"created_role\" character varying(32) NOT NULL, \"posted_at\" character varying(24), \"posted_by\" character varying(255), \"posted_role\" character varying(32), \"negates_id\" character varying(36), \"negated_by_id\" character varying(36), CONSTRAINT \"PK_c5fe1e43a492e80f16521ab44a9\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"posting_batches_practice_status\" ON \"posting_batches\" (\"practice_id\", \"status\") ");
    await queryRunner.query("CREATE INDEX \"posting_batches_practice_time\" ON \"posting_batches\" (\"practice_id\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"posting_entries\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"batch_id\" character varying(36) NOT NULL, \"position\" integer NOT NULL, \"kind\" character varying(32) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"input\" text NOT NULL, \"amount_cents\" bigint NOT NULL, \"charge_id\" character varying(36), \"responsibility_id\" character varying(36), \"payment_id\" character varying(36), \"write_off_id\" character varying(36), \"created_ids\" text NOT NULL DEFAULT '[]', \"created_at\" character varying(24) NOT NULL, CONSTRAINT \"PK_45a63a46891da1ef29d6c445f34\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"posting_entries_batch\" ON \"posting_entries\" (\"batch_id\", \"position\") ");
    await queryRunner.query("ALTER TABLE \"charges\" ADD \"claim_number\" character varying(64)");
    await queryRunner.query("ALTER TABLE \"charges\" ADD \"line_control_number\" character varying(64)");
    await queryRunner.query("ALTER TABLE \"payments\" ADD \"voided_cents\" bigint NOT NULL DEFAULT '0'");
    await queryRunner.query("ALTER TABLE \"payments\" ADD \"voided_at\" character varying(24)");
    await queryRunner.query("CREATE INDEX \"charges_practice_line_control\" ON \"charges\" (\"practice_id\", \"line_control_number\") ");
    await queryRunner.query("CREATE INDEX \"charges_practice_claim\" ON \"charges\" (\"practice_id\", \"claim_number\") ");
    // ledger_refuse_change() comes from the AppendOnly migration.
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_append_only" BEFORE UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
      await queryRunner.query(`CREATE TRIGGER "${table}_no_truncate" BEFORE TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
    }
    for (const table of NEVER_DELETED_TABLES) {
      await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    }
    await queryRunner.query(`CREATE FUNCTION posting_entry_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT b.status FROM posting_batches b WHERE b.id = OLD.batch_id) IS DISTINCT FROM 'DRAFT' THEN
          RAISE EXCEPTION 'DELETE on posting_entries is not allowed: rows are never deleted once their batch is posted' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
      END $$`);
    await queryRunner.query('CREATE TRIGGER "posting_entries_draft_only" BEFORE DELETE ON "posting_entries" FOR EACH ROW EXECUTE FUNCTION posting_entry_refuse_delete()');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER "posting_entries_draft_only" ON "posting_entries"');
    await queryRunner.query('DROP FUNCTION posting_entry_refuse_delete()');
    for (const table of NEVER_DELETED_TABLES) await queryRunner.query(`DROP TRIGGER "${table}_no_delete" ON "${table}"`);
    for (const table of APPEND_ONLY_TABLES) {
      await queryRunner.query(`DROP TRIGGER "${table}_no_truncate" ON "${table}"`);
      await queryRunner.query(`DROP TRIGGER "${table}_append_only" ON "${table}"`);
    }
    await queryRunner.query("DROP INDEX \"public\".\"charges_practice_claim\"");
    await queryRunner.query("DROP INDEX \"public\".\"charges_practice_line_control\"");
    await queryRunner.query("ALTER TABLE \"payments\" DROP COLUMN \"voided_at\"");
    await queryRunner.query("ALTER TABLE \"payments\" DROP COLUMN \"voided_cents\"");
    await queryRunner.query("ALTER TABLE \"charges\" DROP COLUMN \"line_control_number\"");
    await queryRunner.query("ALTER TABLE \"charges\" DROP COLUMN \"claim_number\"");
    await queryRunner.query("DROP INDEX \"public\".\"posting_entries_batch\"");
    await queryRunner.query("DROP TABLE \"posting_entries\"");
    await queryRunner.query("DROP INDEX \"public\".\"posting_batches_practice_time\"");
    await queryRunner.query("DROP INDEX \"public\".\"posting_batches_practice_status\"");
    await queryRunner.query("DROP TABLE \"posting_batches\"");
    await queryRunner.query("DROP INDEX \"public\".\"payment_voids_payment\"");
    await queryRunner.query("DROP INDEX \"public\".\"payment_voids_patient\"");
    await queryRunner.query("DROP TABLE \"payment_voids\"");
    await queryRunner.query("DROP INDEX \"public\".\"remittance_reversals_patient\"");
    await queryRunner.query("DROP INDEX \"public\".\"remittance_reversals_charge\"");
    await queryRunner.query("DROP TABLE \"remittance_reversals\"");
  }
}
