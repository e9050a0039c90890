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
 * Rows found before, by practice, table and id. A row never changes patient and is never deleted (docs/design.md §2),
 * so what was found stays true on every instance; ids not found are not kept.
 */
const owners = new Map<string, string>();
const OWNERS_CAPACITY = 20_000;

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
  const key = `${practiceId}\u0000${table}\u0000${id}`;
  const known = owners.get(key);
  if (known) return known;
  const rows = await sql.query(`SELECT ${column} AS patient_id FROM ${table} WHERE id = ? AND practice_id = ?`, [id, practiceId]);
  if (rows.length !== 1) return notFound(what, field);
  const patientId = String(rows[0].patient_id);
  owners.set(key, patientId);
  if (owners.size > OWNERS_CAPACITY) owners.delete(owners.keys().next().value!);
  return patientId;
}

/** Which input field names which kind of row, in the order a mutation's input is read. */
const INPUT_REFERENCES: [string, keyof typeof OWNED_TABLES][] = [
  ['patientId', 'patients'],
  ['chargeId', 'charges'],
  ['responsibilityId', 'responsibilities'],
  ['paymentId', 'payments'],
  ['writeOffId', 'write_offs'],
];

/**
 * The patient and row a mutation's input names, when it names one of the caller's practice: for the audit event of
 * an attempt refused before it ran (FORBIDDEN), so that it shows in that patient's trail.
 */
export async function patientNamedBy(sql: SqlRunner, practiceId: string, input: unknown): Promise<{ patientId: string; rowId: string } | null> {
  if (input === null || typeof input !== 'object') return null;
  for (const [field, table] of INPUT_REFERENCES) {
    const id = (input as Record<string, unknown>)[field];
    if (typeof id !== 'string' || id.length > 64) continue;
    const patientId = await patientOwning(sql, table, id, practiceId, []);
    if (typeof patientId === 'string') return { patientId, rowId: id };
  }
  return null;
}
