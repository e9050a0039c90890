/**
 * Shared checks for the concurrency and durability end-to-end tests: read a patient's ledger through GraphQL,
 * recompute it independently from the raw rows, and list every disagreement or broken invariant (docs/design.md §2.1, §2.2,
 * §2.6, and §8.2: amount = allocated + unallocated + refunded + voided). An empty list means the patient is consistent.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { ConcLedgerDocument, ConcLedgerQuery, ConcPaymentsDocument, ConcPaymentsQuery, BalanceFieldsFragment } from '../__generated__/graphql';

/** SQL with `?` placeholders against the server's database (read only). */
export type Sql = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
/** Sends one operation and returns `data`, throwing on any GraphQL error. */
export type Run = <R, V>(document: TypedDocumentNode<R, V>, variables: V) => Promise<R>;

export interface LineSnapshot {
  id: string;
  status: string;
  origin: string;
  amountCents: number;
  paidCents: number;
  writtenOffCents: number;
  openCents: number;
  writeOffs: { id: string; amountCents: number; activeCents: number }[];
}

export interface PaymentSnapshot {
  id: string;
  amountCents: number;
  allocatedCents: number;
  unallocatedCents: number;
  refundedCents: number;
  /** What left the ledger when the payment was voided (docs/design.md §8.2); 0 while it stands. */
  voidedCents: number;
  refunds: { id: string; amountCents: number }[];
}

export interface LedgerSnapshot {
  balance: BalanceFieldsFragment;
  lines: LineSnapshot[];
  payments: PaymentSnapshot[];
}

export type Totals = Pick<BalanceFieldsFragment, 'outstandingCents' | 'responsibilityCents' | 'paidCents' | 'writtenOffCents' | 'creditCents'>;

const n = (v: unknown) => Number(v ?? 0);

/** Every line (all charges, paged) and every payment (paged) of a patient, through the API. */
export async function readLedger(run: Run, patientId: string): Promise<LedgerSnapshot> {
  const lines: LineSnapshot[] = [];
  let balance: BalanceFieldsFragment | null = null;
  let after: string | null = null;
  do {
    const data: ConcLedgerQuery = await run(ConcLedgerDocument, { id: patientId, after });
    if (!data.patient) throw new Error(`patient ${patientId} not found`);
    balance ??= data.patient.balance;
    for (const edge of data.patient.charges.edges) lines.push(...edge.node.responsibilities);
    after = data.patient.charges.pageInfo.hasNextPage ? data.patient.charges.pageInfo.endCursor : null;
  } while (after);
  const payments: PaymentSnapshot[] = [];
  after = null;
  do {
    const data: ConcPaymentsQuery = await run(ConcPaymentsDocument, { id: patientId, after });
    if (!data.patient) throw new Error(`patient ${patientId} not found`);
    for (const edge of data.patient.payments.edges) payments.push(edge.node);
    after = data.patient.payments.pageInfo.hasNextPage ? data.patient.payments.pageInfo.endCursor : null;
  } while (after);
  return { balance: balance!, lines, payments };
}

/** §2.1 for one line as the API shows it. */
export function lineProblems(line: Pick<LineSnapshot, 'id' | 'status' | 'amountCents' | 'paidCents' | 'writtenOffCents' | 'openCents'>): string[] {
  const p: string[] = [];
  const { id, status, amountCents: amount, paidCents: paid, writtenOffCents: wo, openCents: open } = line;
  if (paid < 0 || wo < 0) p.push(`line ${id}: negative paid ${paid} or written off ${wo}`);
  if (status === 'ACTIVE') {
    if (paid + wo > amount) p.push(`line ${id}: paid ${paid} + written off ${wo} > amount ${amount}`);
    if (open !== amount - paid - wo) p.push(`line ${id}: open ${open} != ${amount} - ${paid} - ${wo}`);
  } else if (paid !== 0 || wo !== 0 || open !== 0) {
    p.push(`${status.toLowerCase()} line ${id}: paid ${paid}, written off ${wo}, open ${open}`);
  }
  return p;
}

/** §2.6 arithmetic inside one balance as the API shows it. */
export function balanceProblems(b: Totals, label = 'balance'): string[] {
  const p: string[] = [];
  for (const [k, v] of Object.entries(b)) if (!Number.isInteger(v) || (v as number) < 0) p.push(`${label}: ${k} = ${v}`);
  if (b.paidCents + b.writtenOffCents > b.responsibilityCents) p.push(`${label}: paid + written off > responsibility (${JSON.stringify(b)})`);
  if (b.outstandingCents !== b.responsibilityCents - b.paidCents - b.writtenOffCents) p.push(`${label}: outstanding != responsibility - paid - written off (${JSON.stringify(b)})`);
  return p;
}

export interface RowLedger {
  lines: Map<string, { status: string; amountCents: number; paidCents: number; writtenOffCents: number }>;
  payments: Map<string, { amountCents: number; allocatedCents: number; refundedCents: number; voidedCents: number; unallocatedCents: number }>;
  writeOffs: Map<string, { responsibilityId: string; amountCents: number; activeCents: number }>;
  refundIds: Set<string>;
  totals: Totals;
}

/** Recomputes a patient's ledger from the raw rows, without any of the server's code. */
export async function recomputeFromRows(sql: Sql, patientId: string): Promise<RowLedger> {
  const [lineRows, allocationRows, reductionRows, paymentRows, refundRows, writeOffRows, reversalRows, voidRows] = await Promise.all([
    sql('SELECT id, status, amount_cents FROM responsibilities WHERE patient_id = ?', [patientId]),
    sql('SELECT payment_id, responsibility_id, amount_cents FROM allocations WHERE patient_id = ?', [patientId]),
    sql('SELECT payment_id, responsibility_id, amount_cents FROM allocation_reductions WHERE patient_id = ?', [patientId]),
    sql('SELECT id, amount_cents FROM payments WHERE patient_id = ?', [patientId]),
    sql('SELECT id, payment_id, returned_cents FROM refunds WHERE patient_id = ?', [patientId]),
    sql('SELECT id, responsibility_id, amount_cents FROM write_offs WHERE patient_id = ?', [patientId]),
    sql('SELECT write_off_id, responsibility_id, amount_cents FROM write_off_reversals WHERE patient_id = ?', [patientId]),
    // docs/design.md §8.2: a void is its own row; what it took out of the ledger is its amount.
    sql('SELECT payment_id, amount_cents FROM payment_voids WHERE patient_id = ?', [patientId]),
  ]);
  const lines: RowLedger['lines'] = new Map();
  for (const r of lineRows) lines.set(String(r.id), { status: String(r.status), amountCents: n(r.amount_cents), paidCents: 0, writtenOffCents: 0 });
  const payments: RowLedger['payments'] = new Map();
  for (const r of paymentRows) payments.set(String(r.id), { amountCents: n(r.amount_cents), allocatedCents: 0, refundedCents: 0, voidedCents: 0, unallocatedCents: 0 });
  const line = (id: unknown) => {
    const found = lines.get(String(id));
    if (!found) throw new Error(`row references unknown line ${String(id)}`);
    return found;
  };
  const payment = (id: unknown) => {
    const found = payments.get(String(id));
    if (!found) throw new Error(`row references unknown payment ${String(id)}`);
    return found;
  };
  for (const r of allocationRows) {
    line(r.responsibility_id).paidCents += n(r.amount_cents);
    payment(r.payment_id).allocatedCents += n(r.amount_cents);
  }
  for (const r of reductionRows) {
    line(r.responsibility_id).paidCents -= n(r.amount_cents);
    payment(r.payment_id).allocatedCents -= n(r.amount_cents);
  }
  for (const r of refundRows) payment(r.payment_id).refundedCents += n(r.returned_cents);
  for (const r of voidRows) payment(r.payment_id).voidedCents += n(r.amount_cents);
  const writeOffs: RowLedger['writeOffs'] = new Map();
  for (const r of writeOffRows) {
    writeOffs.set(String(r.id), { responsibilityId: String(r.responsibility_id), amountCents: n(r.amount_cents), activeCents: n(r.amount_cents) });
    line(r.responsibility_id).writtenOffCents += n(r.amount_cents);
  }
  for (const r of reversalRows) {
    const w = writeOffs.get(String(r.write_off_id));
    if (!w) throw new Error(`reversal of unknown write-off ${String(r.write_off_id)}`);
    w.activeCents -= n(r.amount_cents);
    line(r.responsibility_id).writtenOffCents -= n(r.amount_cents);
  }
  for (const p of payments.values()) p.unallocatedCents = p.amountCents - p.allocatedCents - p.refundedCents - p.voidedCents;
  const active = [...lines.values()].filter((l) => l.status === 'ACTIVE');
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    lines,
    payments,
    writeOffs,
    refundIds: new Set(refundRows.map((r) => String(r.id))),
    totals: {
      responsibilityCents: sum(active.map((l) => l.amountCents)),
      paidCents: sum(active.map((l) => l.paidCents)),
      writtenOffCents: sum(active.map((l) => l.writtenOffCents)),
      outstandingCents: sum(active.map((l) => Math.max(0, l.amountCents - l.paidCents - l.writtenOffCents))),
      creditCents: sum([...payments.values()].map((p) => p.unallocatedCents)),
    },
  };
}

export const totalsOf = (b: Totals): Totals => ({
  outstandingCents: b.outstandingCents,
  responsibilityCents: b.responsibilityCents,
  paidCents: b.paidCents,
  writtenOffCents: b.writtenOffCents,
  creditCents: b.creditCents,
});

/**
 * Reads the patient through the API and from the rows, and lists every problem: a broken invariant on a line, a
 * payment or a write-off, or any disagreement between the API and the recomputation. Run it when the patient is quiet.
 */
export async function checkPatient(run: Run, sql: Sql, patientId: string): Promise<{ problems: string[]; snapshot: LedgerSnapshot; rows: RowLedger }> {
  const snapshot = await readLedger(run, patientId);
  const rows = await recomputeFromRows(sql, patientId);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const l of snapshot.lines) {
    seen.add(l.id);
    problems.push(...lineProblems(l));
    const r = rows.lines.get(l.id);
    if (!r) problems.push(`line ${l.id}: not in the rows`);
    else if (r.status !== l.status || r.amountCents !== l.amountCents || r.paidCents !== l.paidCents || r.writtenOffCents !== l.writtenOffCents) {
      problems.push(`line ${l.id}: API ${JSON.stringify([l.status, l.amountCents, l.paidCents, l.writtenOffCents])} != rows ${JSON.stringify([r.status, r.amountCents, r.paidCents, r.writtenOffCents])}`);
    }
    for (const w of l.writeOffs) {
      if (w.activeCents < 0 || w.activeCents > w.amountCents) problems.push(`write-off ${w.id}: active ${w.activeCents} of ${w.amountCents}`);
      const rw = rows.writeOffs.get(w.id);
      if (!rw || rw.activeCents !== w.activeCents || rw.amountCents !== w.amountCents || rw.responsibilityId !== l.id) problems.push(`write-off ${w.id}: API and rows disagree`);
    }
  }
  for (const id of rows.lines.keys()) if (!seen.has(id)) problems.push(`line ${id}: in the rows but not in the API`);
  for (const [id, r] of rows.lines) {
    const bad = r.paidCents < 0 || r.writtenOffCents < 0 || (r.status === 'ACTIVE' ? r.paidCents + r.writtenOffCents > r.amountCents : r.paidCents !== 0 || r.writtenOffCents !== 0);
    if (bad) problems.push(`rows of line ${id} break §2.1: ${JSON.stringify(r)}`);
  }
  const apiWriteOffs = snapshot.lines.reduce((k, l) => k + l.writeOffs.length, 0);
  if (apiWriteOffs !== rows.writeOffs.size) problems.push(`write-offs: API lists ${apiWriteOffs}, rows hold ${rows.writeOffs.size}`);

  const seenPayments = new Set<string>();
  for (const p of snapshot.payments) {
    seenPayments.add(p.id);
    if (p.amountCents !== p.allocatedCents + p.unallocatedCents + p.refundedCents + p.voidedCents) {
      problems.push(`payment ${p.id}: amount != allocated + unallocated + refunded + voided (${JSON.stringify(p)})`);
    }
    if (p.allocatedCents < 0 || p.unallocatedCents < 0 || p.refundedCents < 0 || p.voidedCents < 0) problems.push(`payment ${p.id}: negative part (${JSON.stringify(p)})`);
    // A voided payment left the ledger whole: nothing of it stays on a line or as credit (§8.2).
    if (p.voidedCents > 0 && (p.allocatedCents !== 0 || p.unallocatedCents !== 0)) problems.push(`voided payment ${p.id} still holds money (${JSON.stringify(p)})`);
    const r = rows.payments.get(p.id);
    if (!r) problems.push(`payment ${p.id}: not in the rows`);
    else if (r.amountCents !== p.amountCents || r.allocatedCents !== p.allocatedCents || r.refundedCents !== p.refundedCents || r.voidedCents !== p.voidedCents || r.unallocatedCents !== p.unallocatedCents) {
      problems.push(`payment ${p.id}: API ${JSON.stringify(p)} != rows ${JSON.stringify(r)}`);
    }
  }
  for (const [id, r] of rows.payments) {
    if (!seenPayments.has(id)) problems.push(`payment ${id}: in the rows but not in the API`);
    if (r.allocatedCents < 0 || r.unallocatedCents < 0 || r.refundedCents < 0 || r.voidedCents < 0) problems.push(`rows of payment ${id} break §2.2/§8.2: ${JSON.stringify(r)}`);
  }
  problems.push(...balanceProblems(totalsOf(snapshot.balance)));
  const api = totalsOf(snapshot.balance);
  if (JSON.stringify(api) !== JSON.stringify(totalsOf(rows.totals))) problems.push(`balance: API ${JSON.stringify(api)} != rows ${JSON.stringify(rows.totals)}`);
  return { problems, snapshot, rows };
}

/** Runs `tasks` with at most `concurrency` in flight, in order of the list. */
export async function pool<T>(concurrency: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}
