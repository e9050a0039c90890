import type { QueryRunner } from 'typeorm';

/**
 * Tables whose rows are never deleted, and never edited except for their DERIVED_COLUMNS (docs/design.md §2), by the
 * migration that made them so: a migration names only the tables that exist when it runs.
 */
export const APPEND_ONLY_TABLES_BY_MIGRATION = {
  AppendOnly: ['charges', 'remittances', 'payments', 'allocations', 'allocation_reductions', 'refunds', 'write_offs', 'write_off_reversals', 'audit_events'],
  Posting: ['payment_voids', 'remittance_reversals'],
  Automation: ['remittance_imports'],
} as const;
export const APPEND_ONLY_TABLES: readonly string[] = Object.values(APPEND_ONLY_TABLES_BY_MIGRATION).flat();
/**
 * PR lines change status when cancelled or reversed, posting batches when posted or negated, write-off rules when edited
 * or deactivated; none is ever deleted.
 */
export const NEVER_DELETED_TABLES_BY_MIGRATION = {
  AppendOnly: ['responsibilities'],
  Posting: ['posting_batches'],
  Automation: ['write_off_rules'],
} as const;

/**
 * The derived values stored beside the facts of append-only rows: the only columns an UPDATE may set. The triggers
 * name every other column (`BEFORE UPDATE OF`), so a migration that adds a fact column to one of these tables must
 * recreate its update trigger; a derived column added later is updatable as it is.
 */
export const DERIVED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  payments: ['allocated_cents', 'refunded_cents', 'voided_cents', 'voided_at'],
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
