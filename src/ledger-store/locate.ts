import type { SqlRunner } from '../db/database';
import { Refusal, notFound } from '../ledger';

const OWNED_TABLES = {
  patients: { column: 'id', what: 'patient' },
  charges: { column: 'patient_id', what: 'charge' },
  responsibilities: { column: 'patient_id', what: 'PR line' },
  payments: { column: 'patient_id', what: 'payment' },
  write_offs: { column: 'patient_id', what: 'write-off' },
} as const;

/**
 * The patient a row belongs to, looked up only within the caller's practice: another practice's id answers exactly
 * like an id that does not exist.
 */
export async function patientOwning(
  sql: SqlRunner,
  table: keyof typeof OWNED_TABLES,
  id: string,
  practiceId: string,
  field: readonly string[],
): Promise<string | Refusal> {
  const { column, what } = OWNED_TABLES[table];
  const rows = await sql.query(`SELECT ${column} AS patient_id FROM ${table} WHERE id = ? AND practice_id = ?`, [id, practiceId]);
  return rows.length === 1 ? String(rows[0].patient_id) : notFound(what, field);
}
