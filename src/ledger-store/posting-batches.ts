import type { SqlRunner, Transaction } from '../db/database';
import { toCents } from '../db/columns';
import { inChunks, insertRows, marks, updateRows } from '../db/sql';

/** The SQL of posting batches and their entries (docs/design.md §8.1): the ledger store is the one place it is written. */

export interface BatchRow {
  id: string;
  kind: string;
  status: string;
  reference: string;
  expectedTotalCents: number | null;
  paymentTotalCents: number;
}

export interface EntryRow {
  id: string;
  position: number;
  kind: string;
  patientId: string;
  input: Record<string, unknown>;
  amountCents: number;
  /** What posting it did: its command's result (the ids of the rows it created and named); empty while DRAFT. */
  created: Record<string, unknown>;
}

export interface NewEntry {
  id: string;
  kind: string;
  patientId: string;
  input: Record<string, unknown>;
  amountCents: number;
  chargeId: string | null;
  responsibilityId: string | null;
  paymentId: string | null;
  writeOffId: string | null;
  created?: Record<string, unknown>;
}

/** The batch as committed, taking no lock: what a read (a preview) or a check before the unit of work sees. */
export function batchRow(sql: SqlRunner, practiceId: string, batchId: string): Promise<BatchRow | null> {
  return readBatch(sql, practiceId, batchId, '');
}

/**
 * The batch inside a unit of work that changes it or depends on its status, with its row lock (PostgreSQL
 * `FOR UPDATE`, as `lockPatient`; on SQLite the one writer already holds every lock).
 */
export function lockBatch(tx: Transaction, practiceId: string, batchId: string): Promise<BatchRow | null> {
  return readBatch(tx, practiceId, batchId, tx.kind === 'postgres' ? ' FOR UPDATE' : '');
}

async function readBatch(sql: SqlRunner, practiceId: string, batchId: string, lock: string): Promise<BatchRow | null> {
  const [row] = await sql.query(
    `SELECT id, kind, status, reference, expected_total_cents, payment_total_cents FROM posting_batches WHERE id = ? AND practice_id = ?${lock}`,
    [batchId, practiceId],
  );
  if (!row) return null;
  return {
    id: String(row.id),
    kind: String(row.kind),
    status: String(row.status),
    reference: String(row.reference),
    expectedTotalCents: row.expected_total_cents === null ? null : toCents(row.expected_total_cents),
    paymentTotalCents: toCents(row.payment_total_cents),
  };
}

/** A batch's entries in the order they post. */
export async function entriesOf(sql: SqlRunner, practiceId: string, batchId: string): Promise<EntryRow[]> {
  const rows = await sql.query('SELECT id, position, kind, patient_id, input, amount_cents, created_ids FROM posting_entries WHERE batch_id = ? AND practice_id = ? ORDER BY position, id', [
    batchId,
    practiceId,
  ]);
  return rows.map((r) => ({
    id: String(r.id),
    position: Number(r.position),
    kind: String(r.kind),
    patientId: String(r.patient_id),
    input: JSON.parse(String(r.input)) as Record<string, unknown>,
    amountCents: toCents(r.amount_cents),
    created: createdOf(r.created_ids),
  }));
}

function createdOf(stored: unknown): Record<string, unknown> {
  const parsed: unknown = JSON.parse(String(stored));
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

export async function insertBatch(
  tx: Transaction,
  batch: {
    id: string;
    practiceId: string;
    kind: string;
    status: string;
    reference: string;
    payerName: string | null;
    depositDate: string | null;
    expectedTotalCents: number | null;
    createdAt: string;
    createdBy: string;
    createdRole: string;
    negatesId?: string | null;
    /** What an 835 import could not propose (docs/design.md §9.1), kept as JSON. */
    issues?: readonly { code: string; message: string; claimNumber: string | null; payerClaimNumber: string | null; segment: number | null }[];
  },
): Promise<void> {
  await insertRows(tx, 'posting_batches', [
    {
      id: batch.id,
      practice_id: batch.practiceId,
      kind: batch.kind,
      status: batch.status,
      reference: batch.reference,
      payer_name: batch.payerName,
      deposit_date: batch.depositDate,
      expected_total_cents: batch.expectedTotalCents,
      payment_total_cents: 0,
      issues: JSON.stringify(batch.issues ?? []),
      created_at: batch.createdAt,
      created_by: batch.createdBy,
      created_role: batch.createdRole,
      posted_at: batch.status === 'DRAFT' ? null : batch.createdAt,
      posted_by: batch.status === 'DRAFT' ? null : batch.createdBy,
      posted_role: batch.status === 'DRAFT' ? null : batch.createdRole,
      negates_id: batch.negatesId ?? null,
      negated_by_id: null,
    },
  ]);
}

/** Appends entries after the batch's last one, and keeps its payment total (the sum of its payment entries). */
export async function appendEntries(tx: Transaction, practiceId: string, batchId: string, entries: readonly NewEntry[], now: string): Promise<void> {
  const [last] = await tx.query('SELECT MAX(position) AS position FROM posting_entries WHERE batch_id = ? AND practice_id = ?', [batchId, practiceId]);
  const start = last?.position === null || last?.position === undefined ? 0 : Number(last.position) + 1;
  await insertRows(
    tx,
    'posting_entries',
    entries.map((e, i) => ({
      id: e.id,
      practice_id: practiceId,
      batch_id: batchId,
      position: start + i,
      kind: e.kind,
      patient_id: e.patientId,
      input: JSON.stringify(e.input),
      amount_cents: e.amountCents,
      charge_id: e.chargeId,
      responsibility_id: e.responsibilityId,
      payment_id: e.paymentId,
      write_off_id: e.writeOffId,
      created_ids: JSON.stringify(e.created ?? {}),
      created_at: now,
    })),
  );
  await refreshPaymentTotal(tx, practiceId, batchId);
}

/** The batch an entry belongs to and the patient it is about, or null when the practice has no such entry. */
export async function entryOwner(sql: SqlRunner, practiceId: string, entryId: string): Promise<{ batchId: string; patientId: string } | null> {
  const [row] = await sql.query('SELECT batch_id, patient_id FROM posting_entries WHERE id = ? AND practice_id = ?', [entryId, practiceId]);
  return row ? { batchId: String(row.batch_id), patientId: String(row.patient_id) } : null;
}

export async function deleteEntry(tx: Transaction, practiceId: string, batchId: string, entryId: string): Promise<void> {
  await tx.query('DELETE FROM posting_entries WHERE id = ? AND batch_id = ? AND practice_id = ?', [entryId, batchId, practiceId]);
  await refreshPaymentTotal(tx, practiceId, batchId);
}

async function refreshPaymentTotal(tx: Transaction, practiceId: string, batchId: string): Promise<void> {
  const [sum] = await tx.query("SELECT COALESCE(SUM(amount_cents), 0) AS cents FROM posting_entries WHERE batch_id = ? AND practice_id = ? AND kind = 'PAYMENT'", [batchId, practiceId]);
  await updateRows(tx, 'posting_batches', [{ id: batchId, payment_total_cents: toCents(sum.cents) }], { practice_id: practiceId });
}

/** Marks a batch posted (or negated), and records what each entry created. */
export async function markBatch(
  tx: Transaction,
  practiceId: string,
  batch: { id: string; status: string; at?: string; by?: string; role?: string; negatedById?: string },
  created: readonly { entryId: string; result: Record<string, unknown> }[] = [],
): Promise<void> {
  const fields: Record<string, unknown> = { id: batch.id, status: batch.status };
  if (batch.at) Object.assign(fields, { posted_at: batch.at, posted_by: batch.by, posted_role: batch.role });
  if (batch.negatedById) fields.negated_by_id = batch.negatedById;
  await updateRows(tx, 'posting_batches', [fields as { id: string }], { practice_id: practiceId });
  await updateRows(
    tx,
    'posting_entries',
    created.map((c) => ({
      id: c.entryId,
      created_ids: JSON.stringify(c.result),
      // The payment or write-off an entry created, for the batch screen.
      payment_id: typeof c.result.paymentId === 'string' ? c.result.paymentId : null,
      write_off_id: typeof c.result.writeOffId === 'string' ? c.result.writeOffId : null,
    })),
    { practice_id: practiceId },
  );
}

/** The original amounts of allocations (applied-credit entries'), by id, to tell whether they can still be undone exactly. */
export async function allocationAmounts(sql: SqlRunner, practiceId: string, ids: readonly string[]): Promise<Map<string, number>> {
  const rows = await inChunks(ids, (chunk) => sql.query(`SELECT id, amount_cents FROM allocations WHERE practice_id = ? AND id IN (${marks(chunk)})`, [practiceId, ...chunk]));
  return new Map(rows.map((r) => [String(r.id), toCents(r.amount_cents)]));
}

/** A removal and the write-off it removed from: what a negation writes off again. */
export interface RemovalRow {
  amountCents: number;
  lineId: string;
  reason: string;
  customReason: string | null;
}

/** Removals by id, each with the write-off it removed from. */
export async function removalsOf(sql: SqlRunner, practiceId: string, removalIds: readonly string[]): Promise<Map<string, RemovalRow>> {
  const rows = await inChunks(removalIds, (chunk) =>
    sql.query(
      `SELECT v.id, v.amount_cents, w.responsibility_id, w.reason, w.custom_reason FROM write_off_reversals v JOIN write_offs w ON w.id = v.write_off_id
       WHERE v.practice_id = ? AND v.id IN (${marks(chunk)})`,
      [practiceId, ...chunk],
    ),
  );
  return new Map(
    rows.map((r) => [
      String(r.id),
      { amountCents: toCents(r.amount_cents), lineId: String(r.responsibility_id), reason: String(r.reason), customReason: r.custom_reason === null ? null : String(r.custom_reason) },
    ]),
  );
}

/** A recorded remittance's charge, external id and adjustments: what a negation reverses or records again. */
export interface RemittanceRow {
  chargeId: string;
  externalId: string;
  adjustments: unknown[];
}

/** Recorded remittances by their row id. */
export async function remittancesOf(sql: SqlRunner, practiceId: string, recordIds: readonly string[]): Promise<Map<string, RemittanceRow>> {
  const rows = await inChunks(recordIds, (chunk) =>
    sql.query(`SELECT id, charge_id, external_id, adjustments FROM remittances WHERE practice_id = ? AND id IN (${marks(chunk)})`, [practiceId, ...chunk]),
  );
  return new Map(rows.map((r) => [String(r.id), { chargeId: String(r.charge_id), externalId: String(r.external_id), adjustments: JSON.parse(String(r.adjustments)) as unknown[] }]));
}
