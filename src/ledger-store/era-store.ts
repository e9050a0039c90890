import type { SqlRunner, Transaction } from '../db/database';
import { inChunks, insertRows, marks } from '../db/sql';
import type { Adjustment } from '../ledger';

/**
 * The SQL of an 835 import (docs/design.md §9.1): the charges a file's claims may match, the remittances already
 * recorded on them, and the record of imported payments (`remittance_imports`).
 */

export interface RecordedRemittance {
  externalId: string;
  /** Every adjustment it recorded, PR or not, as recordRemittance normalised them. */
  adjustments: Adjustment[];
  /** Reversed by the insurer, or replaced by a corrected remittance (docs/design.md §8.3). */
  reversed: boolean;
}

export interface CandidateCharge {
  id: string;
  patientId: string;
  claimNumber: string | null;
  lineControlNumber: string | null;
  procedureCode: string;
  serviceDate: string;
  /** Oldest first. */
  remittances: RecordedRemittance[];
}

export interface ImportedPayment {
  payerKey: string;
  traceNumber: string;
  batchId: string;
  importedAt: string;
}

/**
 * The practice's charges whose claim number or line control number is among those given, each with the remittances
 * recorded on it: everything the matching of a file may pick from. Ordered by id, so both databases answer alike.
 */
export async function candidateCharges(sql: SqlRunner, practiceId: string, keys: { claimNumbers: readonly string[]; lineControlNumbers: readonly string[] }): Promise<CandidateCharge[]> {
  const columns = 'id, patient_id, claim_number, line_control_number, procedure_code, service_date';
  const byClaim = await inChunks(keys.claimNumbers, (chunk) =>
    sql.query(`SELECT ${columns} FROM charges WHERE practice_id = ? AND claim_number IN (${marks(chunk)})`, [practiceId, ...chunk]),
  );
  const byLine = await inChunks(keys.lineControlNumbers, (chunk) =>
    sql.query(`SELECT ${columns} FROM charges WHERE practice_id = ? AND line_control_number IN (${marks(chunk)})`, [practiceId, ...chunk]),
  );
  const charges = new Map<string, CandidateCharge>();
  for (const r of [...byClaim, ...byLine]) {
    const id = String(r.id);
    if (charges.has(id)) continue;
    charges.set(id, {
      id,
      patientId: String(r.patient_id),
      claimNumber: r.claim_number === null ? null : String(r.claim_number),
      lineControlNumber: r.line_control_number === null ? null : String(r.line_control_number),
      procedureCode: String(r.procedure_code),
      serviceDate: String(r.service_date),
      remittances: [],
    });
  }
  const remittances = await inChunks([...charges.keys()], (chunk) =>
    sql.query(
      `SELECT r.charge_id, r.external_id, r.adjustments,
              CASE WHEN EXISTS (SELECT 1 FROM remittance_reversals v WHERE v.charge_id = r.charge_id AND v.remittance_record_id = r.id) THEN 1 ELSE 0 END AS reversed
       FROM remittances r WHERE r.practice_id = ? AND r.charge_id IN (${marks(chunk)}) ORDER BY r.charge_id, r.sequence, r.id`,
      [practiceId, ...chunk],
    ),
  );
  for (const r of remittances) {
    charges.get(String(r.charge_id))?.remittances.push({
      externalId: String(r.external_id),
      adjustments: JSON.parse(String(r.adjustments)) as Adjustment[],
      reversed: Number(r.reversed) === 1,
    });
  }
  return [...charges.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The payments (payer key + trace number) among those given that the practice already imported. */
export async function importedPayments(sql: SqlRunner, practiceId: string, payments: readonly { payerKey: string; traceNumber: string }[]): Promise<ImportedPayment[]> {
  const rows = await inChunks(
    payments.map((p) => p.traceNumber),
    (chunk) =>
      sql.query(`SELECT payer_key, trace_number, batch_id, imported_at FROM remittance_imports WHERE practice_id = ? AND trace_number IN (${marks(chunk)}) ORDER BY imported_at, id`, [
        practiceId,
        ...chunk,
      ]),
  );
  const wanted = new Set(payments.map((p) => `${p.payerKey}\u0000${p.traceNumber}`));
  return rows
    .map((r) => ({ payerKey: String(r.payer_key), traceNumber: String(r.trace_number), batchId: String(r.batch_id), importedAt: String(r.imported_at) }))
    .filter((r) => wanted.has(`${r.payerKey}\u0000${r.traceNumber}`));
}

/** When a file with this hash was first imported by the practice, or null. */
export async function fileImportedAt(sql: SqlRunner, practiceId: string, fileHash: string): Promise<string | null> {
  const [row] = await sql.query('SELECT MIN(imported_at) AS imported_at FROM remittance_imports WHERE practice_id = ? AND file_hash = ?', [practiceId, fileHash]);
  return row?.imported_at === null || row?.imported_at === undefined ? null : String(row.imported_at);
}

/** Records each imported payment with the batch it became (its first, when it was split). */
export async function recordImports(
  tx: Transaction,
  practiceId: string,
  rows: readonly { id: string; payerKey: string; traceNumber: string; fileHash: string; batchId: string; importedAt: string; importedBy: string }[],
): Promise<void> {
  await insertRows(
    tx,
    'remittance_imports',
    rows.map((r) => ({
      id: r.id,
      practice_id: practiceId,
      payer_key: r.payerKey,
      trace_number: r.traceNumber,
      file_hash: r.fileHash,
      batch_id: r.batchId,
      imported_at: r.importedAt,
      imported_by: r.importedBy,
    })),
  );
}
