import type { SqlRunner } from '../db/database';
import { toCents } from '../db/columns';
import { creditOf, MAX_TIMELINE_ENTRIES, openCents } from '../ledger';
import type {
  AllocationView,
  BalanceView,
  ChargeView,
  LineView,
  PatientView,
  PaymentView,
  PostingBatchKind,
  PostingBatchStatus,
  PostingBatchView,
  PostingEntryView,
  RefundView,
  RemittanceIssueView,
  TimelineEntry,
  WriteOffRemovalView,
  WriteOffView,
} from './views';

type Row = Record<string, unknown>;

export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const centsOrNull = (v: unknown) => (v === null || v === undefined ? null : toCents(v));

function balanceOf(r: Row): BalanceView {
  return {
    patientId: String(r.id),
    responsibilityCents: toCents(r.responsibility_cents),
    paidCents: toCents(r.paid_cents),
    writtenOffCents: toCents(r.written_off_cents),
    outstandingCents: toCents(r.outstanding_cents),
    creditCents: toCents(r.credit_cents),
    version: Number(r.version),
    updatedAt: String(r.balance_updated_at),
  };
}

function patientOf(r: Row): PatientView {
  return {
    id: String(r.id),
    firstName: String(r.first_name),
    lastName: String(r.last_name),
    dateOfBirth: str(r.date_of_birth),
    mrn: str(r.mrn),
    createdAt: String(r.created_at),
    balance: balanceOf(r),
  };
}

function chargeOf(r: Row): ChargeView {
  return {
    id: String(r.id),
    patientId: String(r.patient_id),
    serviceDate: String(r.service_date),
    procedureCode: String(r.procedure_code),
    description: str(r.description),
    billedCents: toCents(r.billed_cents),
    claimNumber: str(r.claim_number),
    lineControlNumber: str(r.line_control_number),
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
  };
}

function lineOf(r: Row): LineView {
  return {
    id: String(r.id),
    patientId: String(r.patient_id),
    chargeId: String(r.charge_id),
    kind: r.kind as LineView['kind'],
    origin: r.origin as LineView['origin'],
    status: r.status as LineView['status'],
    amountCents: toCents(r.amount_cents),
    paidCents: toCents(r.paid_cents),
    writtenOffCents: toCents(r.written_off_cents),
    remittanceId: str(r.remittance_id),
    reasonCode: str(r.reason_code),
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
    cancelledAt: str(r.cancelled_at),
    cancelledBy: str(r.cancelled_by),
    cancelReason: str(r.cancel_reason),
  };
}

function writeOffOf(r: Row): WriteOffView {
  return {
    id: String(r.id),
    patientId: String(r.patient_id),
    responsibilityId: String(r.responsibility_id),
    amountCents: toCents(r.amount_cents),
    activeCents: toCents(r.active_cents),
    reason: r.reason as WriteOffView['reason'],
    customReason: str(r.custom_reason),
    note: str(r.note),
    batchId: str(r.batch_id),
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
  };
}

function removalOf(r: Row): WriteOffRemovalView {
  return {
    id: String(r.id),
    writeOffId: String(r.write_off_id),
    amountCents: toCents(r.amount_cents),
    reason: String(r.reason),
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
  };
}

function refundOf(r: Row): RefundView {
  return {
    id: String(r.id),
    paymentId: String(r.payment_id),
    patientId: String(r.patient_id),
    amountCents: toCents(r.amount_cents),
    returnedCents: toCents(r.returned_cents),
    method: r.method as RefundView['method'],
    reason: String(r.reason),
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
  };
}

function issueOf(issue: Partial<RemittanceIssueView>): RemittanceIssueView {
  return {
    code: String(issue.code),
    message: String(issue.message),
    claimNumber: issue.claimNumber ?? null,
    payerClaimNumber: issue.payerClaimNumber ?? null,
    segment: issue.segment ?? null,
  };
}

function batchOf(r: Row): PostingBatchView {
  return {
    id: String(r.id),
    kind: r.kind as PostingBatchKind,
    status: r.status as PostingBatchStatus,
    reference: String(r.reference),
    payerName: str(r.payer_name),
    depositDate: str(r.deposit_date),
    expectedTotalCents: centsOrNull(r.expected_total_cents),
    paymentTotalCents: toCents(r.payment_total_cents),
    issues: (JSON.parse(String(r.issues)) as Partial<RemittanceIssueView>[]).map(issueOf),
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
    createdRole: String(r.created_role),
    postedAt: str(r.posted_at),
    postedBy: str(r.posted_by),
    postedRole: str(r.posted_role),
    negatesId: str(r.negates_id),
    negatedById: str(r.negated_by_id),
  };
}

/** The columns of an entry the API shows: not its input, nor the ids posting created. */
const ENTRY_COLUMNS = ['id', 'batch_id', 'position', 'kind', 'patient_id', 'amount_cents', 'charge_id', 'responsibility_id', 'payment_id', 'write_off_id']
  .map((c) => `e.${c}`)
  .join(', ');

function entryOf(r: Row): PostingEntryView {
  return {
    id: String(r.id),
    batchId: String(r.batch_id),
    position: Number(r.position),
    kind: r.kind as PostingEntryView['kind'],
    patientId: String(r.patient_id),
    amountCents: toCents(r.amount_cents),
    chargeId: str(r.charge_id),
    responsibilityId: str(r.responsibility_id),
    paymentId: str(r.payment_id),
    writeOffId: str(r.write_off_id),
  };
}

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor`; anything else is null. */
export function decodeCursor(cursor: string, length: number): string[] | null {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(values) && values.length === length && values.every((v) => typeof v === 'string') ? values : null;
  } catch {
    return null;
  }
}

/**
 * Reads committed ledger data for the API, always within one practice. Every method takes a batch of ids and answers
 * with a fixed number of statements, so a screen's query costs the same whatever the number of rows on it. Amounts are
 * the derived ones the ledger writer stores beside the facts: nothing here recomputes money.
 */
export class LedgerReader {
  constructor(private readonly sql: SqlRunner) {}

  /** Rows by id, or by a parent's id (`column`); a parent's rows come in ledger order, sequence then id. */
  private byIds(table: string, alias: string, practiceId: string, ids: readonly string[], column = 'id'): Promise<Row[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const order = column === 'id' ? '' : ` ORDER BY ${alias}.sequence, ${alias}.id`;
    return this.sql.query(`SELECT ${alias}.* FROM ${table} ${alias} WHERE ${alias}.practice_id = ? AND ${alias}.${column} IN (${placeholders(ids.length)})${order}`, [
      practiceId,
      ...ids,
    ]);
  }

  async patients(practiceId: string, ids: readonly string[]): Promise<PatientView[]> {
    return (await this.byIds('patients', 'p', practiceId, ids)).map(patientOf);
  }

  async balances(practiceId: string, ids: readonly string[]): Promise<BalanceView[]> {
    return (await this.byIds('patients', 'p', practiceId, ids)).map(balanceOf);
  }

  /** Balances that changed at or after `since`: what a subscriber may have missed during a delivery gap. */
  async balancesChangedSince(practiceId: string, since: string): Promise<BalanceView[]> {
    const rows = await this.sql.query('SELECT p.* FROM patients p WHERE p.practice_id = ? AND p.balance_updated_at >= ? ORDER BY p.balance_updated_at, p.id', [practiceId, since]);
    return rows.map(balanceOf);
  }

  /** Patients by last name, first name; `search` matches names (any part) or the exact MRN. */
  async listPatients(practiceId: string, first: number, after: string[] | null, search: string | null): Promise<Page<PatientView>> {
    const where = ['p.practice_id = ?'];
    const params: unknown[] = [practiceId];
    if (search) {
      const pattern = `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(`(LOWER(p.first_name || ' ' || p.last_name) LIKE ? ESCAPE '\\' OR LOWER(p.last_name || ', ' || p.first_name) LIKE ? ESCAPE '\\' OR p.mrn = ?)`);
      params.push(pattern, pattern, search);
    }
    if (after) {
      const [last, firstName, id] = after;
      where.push('(p.last_name > ? OR (p.last_name = ? AND (p.first_name > ? OR (p.first_name = ? AND p.id > ?))))');
      params.push(last, last, firstName, firstName, id);
    }
    const rows = await this.sql.query(
      `SELECT p.* FROM patients p WHERE ${where.join(' AND ')} ORDER BY p.last_name, p.first_name, p.id LIMIT ?`,
      [...params, first + 1],
    );
    return { rows: rows.slice(0, first).map(patientOf), hasNextPage: rows.length > first };
  }

  async charges(practiceId: string, ids: readonly string[]): Promise<ChargeView[]> {
    return (await this.byIds('charges', 'c', practiceId, ids)).map(chargeOf);
  }

  /** A patient's charges, newest date of service first. */
  async listCharges(practiceId: string, patientId: string, first: number, after: string[] | null): Promise<Page<ChargeView>> {
    const params: unknown[] = [practiceId, patientId];
    let keyset = '';
    if (after) {
      keyset = 'AND (c.service_date < ? OR (c.service_date = ? AND c.id < ?))';
      params.push(after[0], after[0], after[1]);
    }
    const rows = await this.sql.query(
      `SELECT c.* FROM charges c WHERE c.practice_id = ? AND c.patient_id = ? ${keyset} ORDER BY c.service_date DESC, c.id DESC LIMIT ?`,
      [...params, first + 1],
    );
    return { rows: rows.slice(0, first).map(chargeOf), hasNextPage: rows.length > first };
  }

  async lines(practiceId: string, ids: readonly string[]): Promise<LineView[]> {
    return (await this.byIds('responsibilities', 'r', practiceId, ids)).map(lineOf);
  }

  async linesOfCharges(practiceId: string, chargeIds: readonly string[]): Promise<LineView[]> {
    return (await this.byIds('responsibilities', 'r', practiceId, chargeIds, 'charge_id')).map(lineOf);
  }

  async writeOffs(practiceId: string, ids: readonly string[]): Promise<WriteOffView[]> {
    return (await this.byIds('write_offs', 'w', practiceId, ids)).map(writeOffOf);
  }

  async writeOffsOfLines(practiceId: string, lineIds: readonly string[]): Promise<WriteOffView[]> {
    return (await this.byIds('write_offs', 'w', practiceId, lineIds, 'responsibility_id')).map(writeOffOf);
  }

  /** The removals of each write-off, oldest first. */
  async removalsOfWriteOffs(practiceId: string, writeOffIds: readonly string[]): Promise<WriteOffRemovalView[]> {
    return (await this.byIds('write_off_reversals', 'v', practiceId, writeOffIds, 'write_off_id')).map(removalOf);
  }

  async payments(practiceId: string, ids: readonly string[]): Promise<PaymentView[]> {
    if (ids.length === 0) return [];
    const [paymentRows, allocationRows] = await Promise.all([
      this.byIds('payments', 'p', practiceId, ids),
      // What each payment still has on each line, lines in the order the payment last reached them.
      this.sql.query(
        `SELECT a.payment_id, a.responsibility_id, SUM(a.remaining_cents) AS cents FROM allocations a
         WHERE a.practice_id = ? AND a.payment_id IN (${placeholders(ids.length)})
         GROUP BY a.payment_id, a.responsibility_id HAVING SUM(a.remaining_cents) <> 0
         ORDER BY MAX(a.sequence), a.responsibility_id`,
        [practiceId, ...ids],
      ),
    ]);
    const allocations = new Map<string, AllocationView[]>();
    for (const r of allocationRows) {
      const list = allocations.get(String(r.payment_id)) ?? [];
      list.push({ paymentId: String(r.payment_id), responsibilityId: String(r.responsibility_id), amountCents: toCents(r.cents) });
      allocations.set(String(r.payment_id), list);
    }
    return paymentRows.map((r) => {
      const amounts = {
        amountCents: toCents(r.amount_cents),
        allocatedCents: toCents(r.allocated_cents),
        refundedCents: toCents(r.refunded_cents),
        voidedCents: toCents(r.voided_cents),
      };
      return {
        id: String(r.id),
        patientId: String(r.patient_id),
        ...amounts,
        unallocatedCents: creditOf(amounts),
        voidedAt: str(r.voided_at),
        method: r.method as PaymentView['method'],
        purpose: r.purpose as PaymentView['purpose'],
        chargeId: str(r.charge_id),
        receivedAt: String(r.received_at),
        batchId: str(r.batch_id),
        createdAt: String(r.created_at),
        createdBy: String(r.created_by),
        allocations: allocations.get(String(r.id)) ?? [],
      };
    });
  }

  /** Ids of a patient's payments, most recently received first. */
  async listPaymentIds(practiceId: string, patientId: string, first: number, after: string[] | null): Promise<Page<string>> {
    const params: unknown[] = [practiceId, patientId];
    let keyset = '';
    if (after) {
      keyset = 'AND (p.received_at < ? OR (p.received_at = ? AND p.id < ?))';
      params.push(after[0], after[0], after[1]);
    }
    const rows = await this.sql.query(
      `SELECT p.id FROM payments p WHERE p.practice_id = ? AND p.patient_id = ? ${keyset} ORDER BY p.received_at DESC, p.id DESC LIMIT ?`,
      [...params, first + 1],
    );
    return { rows: rows.slice(0, first).map((r) => String(r.id)), hasNextPage: rows.length > first };
  }

  /**
   * The history of each charge, oldest first (docs/design.md §2: every balance can be rebuilt from these rows): its oldest
   * MAX_TIMELINE_ENTRIES entries, the most `Charge.timeline` returns.
   */
  async timelines(practiceId: string, chargeIds: readonly string[]): Promise<TimelineEntry[]> {
    if (chargeIds.length === 0) return [];
    // The kind last, so no two entries tie: a line's PR_ADDED and its CANCELLATION or PR_REVERSED share the row id.
    const order = 't.at, COALESCE(t.seq, 0), t.id, t.kind';
    const sql = `SELECT * FROM (
        SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.charge_id ORDER BY ${order}) AS entry_number
        FROM (${TIMELINE_SQL.replace(/%IN%/g, placeholders(chargeIds.length))}) t
      ) t WHERE t.entry_number <= ? ORDER BY ${order}`;
    const params = [...Array.from({ length: TIMELINE_PARTS }, () => [practiceId, ...chargeIds]).flat(), MAX_TIMELINE_ENTRIES];
    const rows = await this.sql.query(sql, params);
    return rows.map((r) => ({
      // Unique per entry: a line's PR_ADDED and its CANCELLATION come from one row.
      id: `${r.kind}:${r.id}`,
      rowId: String(r.id),
      chargeId: String(r.charge_id),
      kind: r.kind as TimelineEntry['kind'],
      occurredAt: String(r.at),
      amountCents: r.amount === null || r.amount === undefined ? null : toCents(r.amount),
      responsibilityId: str(r.responsibility_id),
      actorId: String(r.actor),
      reason: str(r.reason),
      refundMethod: str(r.refund_method) as TimelineEntry['refundMethod'],
      note: str(r.note),
    }));
  }

  async refunds(practiceId: string, ids: readonly string[]): Promise<RefundView[]> {
    return (await this.byIds('refunds', 'f', practiceId, ids)).map(refundOf);
  }

  async refundsOfPayments(practiceId: string, paymentIds: readonly string[]): Promise<RefundView[]> {
    return (await this.byIds('refunds', 'f', practiceId, paymentIds, 'payment_id')).map(refundOf);
  }

  async batches(practiceId: string, ids: readonly string[]): Promise<PostingBatchView[]> {
    return (await this.byIds('posting_batches', 'b', practiceId, ids)).map(batchOf);
  }

  /** The practice's posting batches, newest first, of one status and kind when given. */
  async listBatches(
    practiceId: string,
    first: number,
    after: string[] | null,
    filter: { status?: PostingBatchStatus | null; kind?: PostingBatchKind | null } = {},
  ): Promise<Page<PostingBatchView>> {
    const where = ['b.practice_id = ?'];
    const params: unknown[] = [practiceId];
    if (filter.status) {
      where.push('b.status = ?');
      params.push(filter.status);
    }
    if (filter.kind) {
      where.push('b.kind = ?');
      params.push(filter.kind);
    }
    if (after) {
      where.push('(b.created_at < ? OR (b.created_at = ? AND b.id < ?))');
      params.push(after[0], after[0], after[1]);
    }
    const rows = await this.sql.query(
      `SELECT b.* FROM posting_batches b WHERE ${where.join(' AND ')} ORDER BY b.created_at DESC, b.id DESC LIMIT ?`,
      [...params, first + 1],
    );
    return { rows: rows.slice(0, first).map(batchOf), hasNextPage: rows.length > first };
  }

  /**
   * A batch's entries in batch order. The cursor is (position, id); one whose position is no integer column value
   * (at most 9 digits here) matches nothing.
   */
  async listEntries(practiceId: string, batchId: string, first: number, after: string[] | null): Promise<Page<PostingEntryView>> {
    const params: unknown[] = [practiceId, batchId];
    let keyset = '';
    if (after) {
      if (!/^\d{1,9}$/.test(after[0])) return { rows: [], hasNextPage: false };
      const position = Number(after[0]);
      keyset = 'AND (e.position > ? OR (e.position = ? AND e.id > ?))';
      params.push(position, position, after[1]);
    }
    const rows = await this.sql.query(
      `SELECT ${ENTRY_COLUMNS} FROM posting_entries e WHERE e.practice_id = ? AND e.batch_id = ? ${keyset} ORDER BY e.position, e.id LIMIT ?`,
      [...params, first + 1],
    );
    return { rows: rows.slice(0, first).map(entryOf), hasNextPage: rows.length > first };
  }
}

/**
 * Every event of a charge, as rows of one shape: (kind, id, charge, line, amount, when, ledger sequence, who, why, refund method,
 * note). `%IN%` stands for the charge-id list in each part. A released payment's who and why are the release's: the
 * refund, the void (a payment is voided once), or the line's cancellation or reversal; credit a negation took back has
 * neither on its row.
 */
const TIMELINE_SQL = `
  SELECT 'CHARGE_CREATED' AS kind, c.id, c.id AS charge_id, NULL AS responsibility_id, c.billed_cents AS amount, c.created_at AS at, c.sequence AS seq, c.created_by AS actor, NULL AS reason,
      NULL AS refund_method, NULL AS note
    FROM charges c WHERE c.practice_id = ? AND c.id IN (%IN%)
  UNION ALL SELECT 'PR_ADDED', r.id, r.charge_id, r.id, r.amount_cents, r.created_at, r.sequence, r.created_by, r.origin, NULL, NULL
    FROM responsibilities r WHERE r.practice_id = ? AND r.charge_id IN (%IN%)
  UNION ALL SELECT CASE r.status WHEN 'REVERSED' THEN 'PR_REVERSED' ELSE 'CANCELLATION' END, r.id, r.charge_id, r.id, r.amount_cents, r.cancelled_at, NULL, r.cancelled_by,
      r.cancel_reason, NULL, NULL
    FROM responsibilities r WHERE r.practice_id = ? AND r.charge_id IN (%IN%) AND r.status IN ('CANCELLED', 'REVERSED')
  UNION ALL SELECT 'REMITTANCE', m.id, m.charge_id, NULL, NULL, m.created_at, m.sequence, m.created_by, m.external_id, NULL, NULL
    FROM remittances m WHERE m.practice_id = ? AND m.charge_id IN (%IN%)
  UNION ALL SELECT CASE a.source WHEN 'PAYMENT' THEN 'PAYMENT' WHEN 'CREDIT' THEN 'CREDIT_APPLIED' ELSE 'PAYMENT_MOVED' END, a.id, r.charge_id, a.responsibility_id, a.amount_cents, a.created_at, a.sequence, p.created_by, p.method,
      NULL, NULL
    FROM allocations a JOIN responsibilities r ON r.id = a.responsibility_id JOIN payments p ON p.id = a.payment_id
    WHERE a.practice_id = ? AND r.charge_id IN (%IN%)
  UNION ALL SELECT CASE x.cause WHEN 'REFUND' THEN 'REFUND' WHEN 'ACCOUNT_CREDIT' THEN 'MOVED_TO_CREDIT' WHEN 'VOID' THEN 'PAYMENT_VOIDED'
        WHEN 'CREDIT_RETURNED' THEN 'CREDIT_RETURNED' ELSE 'PAYMENT_RELEASED' END,
      x.id, r.charge_id, x.responsibility_id, x.amount_cents, x.created_at, x.sequence,
      COALESCE(f.created_by, v.created_by, CASE WHEN x.cause IN ('CANCELLATION', 'SUPERSEDED', 'REVERSAL') THEN r.cancelled_by END, 'system'),
      COALESCE(f.reason, v.reason, CASE WHEN x.cause IN ('CANCELLATION', 'SUPERSEDED', 'REVERSAL') THEN r.cancel_reason END), f.method, NULL
    FROM allocation_reductions x JOIN responsibilities r ON r.id = x.responsibility_id LEFT JOIN refunds f ON f.id = x.refund_id
      LEFT JOIN payment_voids v ON x.cause = 'VOID' AND v.payment_id = x.payment_id
    WHERE x.practice_id = ? AND r.charge_id IN (%IN%)
  UNION ALL SELECT 'WRITE_OFF', w.id, r.charge_id, w.responsibility_id, w.amount_cents, w.created_at, w.sequence, w.created_by, COALESCE(w.custom_reason, w.reason), NULL, w.note
    FROM write_offs w JOIN responsibilities r ON r.id = w.responsibility_id WHERE w.practice_id = ? AND r.charge_id IN (%IN%)
  UNION ALL SELECT 'WRITE_OFF_REMOVAL', v.id, r.charge_id, v.responsibility_id, v.amount_cents, v.created_at, v.sequence, v.created_by, v.reason, NULL, NULL
    FROM write_off_reversals v JOIN responsibilities r ON r.id = v.responsibility_id WHERE v.practice_id = ? AND r.charge_id IN (%IN%)`;
const TIMELINE_PARTS = TIMELINE_SQL.split('%IN%').length - 1;

/** Open amount of a charge: Σ open over its active lines. */
export function chargeOpenCents(lines: readonly LineView[]): number {
  return lines.reduce((sum, line) => sum + Math.max(0, openCents(line)), 0);
}
