import type { QueryRunner } from 'typeorm';

/** The derived-amount columns of the StoredAmounts migrations (bigint cents, NOT NULL, default 0). */
export const STORED_AMOUNT_COLUMNS: readonly (readonly [table: string, column: string])[] = [
  ['responsibilities', 'paid_cents'],
  ['responsibilities', 'written_off_cents'],
  ['write_offs', 'active_cents'],
  ['allocations', 'remaining_cents'],
  ['payments', 'allocated_cents'],
  ['payments', 'refunded_cents'],
];

/**
 * One-time fill of the derived-amount columns from the fact rows, so a database migrated with data keeps its balances
 * (the same SQL on SQLite and PostgreSQL). Allocations come before payments, whose allocated amount sums them.
 */
export async function backfillStoredAmounts(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`UPDATE "allocations" SET "remaining_cents" = "amount_cents"
    - (SELECT COALESCE(SUM(x."amount_cents"), 0) FROM "allocation_reductions" x WHERE x."allocation_id" = "allocations"."id")`);
  await queryRunner.query(`UPDATE "write_offs" SET "active_cents" = "amount_cents"
    - (SELECT COALESCE(SUM(v."amount_cents"), 0) FROM "write_off_reversals" v WHERE v."write_off_id" = "write_offs"."id")`);
  await queryRunner.query(`UPDATE "payments" SET
    "allocated_cents" = (SELECT COALESCE(SUM(a."remaining_cents"), 0) FROM "allocations" a WHERE a."payment_id" = "payments"."id"),
    "refunded_cents" = (SELECT COALESCE(SUM(f."returned_cents"), 0) FROM "refunds" f WHERE f."payment_id" = "payments"."id")`);
  await queryRunner.query(`UPDATE "responsibilities" SET
    "paid_cents" = (SELECT COALESCE(SUM(a."remaining_cents"), 0) FROM "allocations" a WHERE a."responsibility_id" = "responsibilities"."id"),
    "written_off_cents" = (SELECT COALESCE(SUM(w."active_cents"), 0) FROM "write_offs" w WHERE w."responsibility_id" = "responsibilities"."id")`);
}
