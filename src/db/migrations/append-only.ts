import type { QueryRunner } from 'typeorm';

/**
 * Tables whose rows are never deleted, and never edited except for their DERIVED_COLUMNS (docs/design.md §2):
 * corrections are new rows.
 */
export const APPEND_ONLY_TABLES = [
  'charges',
  'remittances',
  'payments',
  'allocations',
  'allocation_reductions',
  'refunds',
  'write_offs',
  'write_off_reversals',
  'audit_events',
];
/** PR lines change status when cancelled, but are never deleted. */
export const NEVER_DELETED_TABLES = ['responsibilities'];

/**
 * The derived amounts stored beside the facts of append-only rows: the only columns an UPDATE may set. The triggers
 * name every other column (`BEFORE UPDATE OF`), so a migration that adds a fact column to one of these tables must
 * recreate its update trigger.
 */
export const DERIVED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  payments: ['allocated_cents', 'refunded_cents'],
  allocations: ['remaining_cents'],
  write_offs: ['active_cents'],
};

/** The columns of `table` an UPDATE must not set, quoted for a trigger's `UPDATE OF` list. */
export async function factColumns(queryRunner: QueryRunner, table: string): Promise<string> {
  const derived = DERIVED_COLUMNS[table] ?? [];
  const found = await queryRunner.getTable(table);
  if (!found) throw new Error(`table ${table} does not exist`);
  return found.columns
    .map((c) => c.name)
    .filter((name) => !derived.includes(name))
    .map((name) => `"${name}"`)
    .join(', ');
}
