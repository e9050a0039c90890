import type { SqlRunner } from '../db/database';
import { toCents } from '../db/columns';
import { LineState, MAX_WRITE_OFF_RULES_PER_PRACTICE, MAX_WRITE_OFFS_PER_LINE, ResponsibilityKind, ResponsibilityKinds, WriteOffReason, openCents } from '../ledger';

/**
 * The SQL of write-off rules (docs/design.md §9.2): the `write_off_rules` rows, and the PR lines a run may propose.
 * Lines are read with their stored amounts and their open amount is the ledger's own `openCents`: nothing here
 * derives money in SQL.
 */

type Row = Record<string, unknown>;

/** A rule as the API shows it. */
export interface WriteOffRuleView {
  id: string;
  name: string;
  reason: WriteOffReason;
  customReason: string | null;
  maxOpenCents: number;
  minDaysSinceService: number;
  /** null: every kind. */
  kinds: ResponsibilityKind[] | null;
  active: boolean;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** What a rule decides, as stored (the rule's editable facts). */
export interface RuleFields {
  name: string;
  reason: WriteOffReason;
  customReason: string | null;
  maxOpenCents: number;
  minDaysSinceService: number;
  kinds: ResponsibilityKind[] | null;
  active: boolean;
}

/** A line a run proposes to write off, with what is open on it now. */
export interface CandidateLine {
  lineId: string;
  patientId: string;
  chargeId: string;
  kind: ResponsibilityKind;
  serviceDate: string;
  openCents: number;
}

export interface CandidateCriteria {
  maxOpenCents: number;
  /** The latest date of service that is old enough, YYYY-MM-DD. */
  servedOnOrBefore: string;
  kinds: readonly ResponsibilityKind[] | null;
  limit: number;
}

/** Lines read per statement while looking for candidates. */
const CANDIDATE_PAGE = 1_000;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Kinds in the schema's order, each once; an empty list means every kind (null). */
export function normaliseKinds(kinds: readonly ResponsibilityKind[] | null | undefined): ResponsibilityKind[] | null {
  if (!kinds || kinds.length === 0) return null;
  return ResponsibilityKinds.filter((kind) => kinds.includes(kind));
}

function ruleOf(r: Row): WriteOffRuleView {
  const kinds = r.kinds === null || r.kinds === undefined ? null : (JSON.parse(String(r.kinds)) as ResponsibilityKind[]);
  return {
    id: String(r.id),
    name: String(r.name),
    reason: r.reason as WriteOffReason,
    customReason: r.custom_reason === null || r.custom_reason === undefined ? null : String(r.custom_reason),
    maxOpenCents: toCents(r.max_open_cents),
    minDaysSinceService: Number(r.min_days_since_service),
    kinds,
    // SQLite hands a boolean back as 0 or 1, PostgreSQL as true or false.
    active: r.active === true || Number(r.active) === 1,
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
    updatedAt: String(r.updated_at),
    updatedBy: String(r.updated_by),
  };
}

/** The practice's rules, oldest first (at most MAX_WRITE_OFF_RULES_PER_PRACTICE: creating more is refused). */
export async function rulesOf(sql: SqlRunner, practiceId: string, filter: { activeOnly?: boolean } = {}): Promise<WriteOffRuleView[]> {
  const active = filter.activeOnly ? ' AND w.active = ?' : '';
  const rows = await sql.query(`SELECT w.* FROM write_off_rules w WHERE w.practice_id = ?${active} ORDER BY w.created_at, w.id LIMIT ?`, [
    practiceId,
    ...(filter.activeOnly ? [true] : []),
    MAX_WRITE_OFF_RULES_PER_PRACTICE,
  ]);
  return rows.map(ruleOf);
}

export async function ruleById(sql: SqlRunner, practiceId: string, id: string): Promise<WriteOffRuleView | null> {
  const [row] = await sql.query('SELECT w.* FROM write_off_rules w WHERE w.practice_id = ? AND w.id = ?', [practiceId, id]);
  return row ? ruleOf(row) : null;
}

export async function ruleCount(sql: SqlRunner, practiceId: string): Promise<number> {
  const [row] = await sql.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM write_off_rules WHERE practice_id = ?', [practiceId]);
  return Number(row?.n ?? 0);
}

export async function insertRule(sql: SqlRunner, rule: RuleFields & { id: string; practiceId: string; at: string; by: string }): Promise<void> {
  await sql.query(
    `INSERT INTO write_off_rules (id, practice_id, name, reason, custom_reason, max_open_cents, min_days_since_service, kinds, active, created_at, created_by, updated_at, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      rule.id,
      rule.practiceId,
      rule.name,
      rule.reason,
      rule.customReason,
      rule.maxOpenCents,
      rule.minDaysSinceService,
      rule.kinds ? JSON.stringify(rule.kinds) : null,
      rule.active,
      rule.at,
      rule.by,
      rule.at,
      rule.by,
    ],
  );
}

export async function updateRule(sql: SqlRunner, practiceId: string, id: string, rule: RuleFields & { at: string; by: string }): Promise<void> {
  await sql.query(
    `UPDATE write_off_rules SET name = ?, reason = ?, custom_reason = ?, max_open_cents = ?, min_days_since_service = ?, kinds = ?, active = ?, updated_at = ?, updated_by = ?
     WHERE practice_id = ? AND id = ?`,
    [rule.name, rule.reason, rule.customReason, rule.maxOpenCents, rule.minDaysSinceService, rule.kinds ? JSON.stringify(rule.kinds) : null, rule.active, rule.at, rule.by, practiceId, id],
  );
}

/** On PostgreSQL, holds the practice's row until the unit ends, so that two rules created at once are counted in turn. */
export async function lockPractice(sql: SqlRunner & { kind: string }, practiceId: string): Promise<void> {
  if (sql.kind === 'postgres') await sql.query('SELECT id FROM practices WHERE id = ? FOR UPDATE', [practiceId]);
}

/** PR lines already named by a write-off entry of one of the practice's DRAFT batches: a run leaves them to that batch. */
export async function linesInDraftWriteOffs(sql: SqlRunner, practiceId: string): Promise<Set<string>> {
  const rows = await sql.query(
    `SELECT e.responsibility_id FROM posting_batches b JOIN posting_entries e ON e.batch_id = b.id
     WHERE b.practice_id = ? AND b.status = 'DRAFT' AND e.practice_id = ? AND e.kind = 'WRITE_OFF' AND e.responsibility_id IS NOT NULL`,
    [practiceId, practiceId],
  );
  return new Set(rows.map((r) => String(r.responsibility_id)));
}

/**
 * The practice's PR lines a rule proposes, oldest date of service first (then oldest line), at most `limit`: ACTIVE
 * lines with `0 < open ≤ maxOpenCents`, served on or before `servedOnOrBefore`, of one of `kinds` when given, whose
 * patient has no credit, that can still take a write-off (MAX_WRITE_OFFS_PER_LINE) and that no DRAFT batch already
 * writes off. The SQL narrows by stored facts and stored balances (a patient with nothing outstanding has no open
 * line); `openCents` decides what is open, page by page.
 */
export async function candidateLines(sql: SqlRunner, practiceId: string, criteria: CandidateCriteria): Promise<CandidateLine[]> {
  const taken = await linesInDraftWriteOffs(sql, practiceId);
  const kinds = criteria.kinds && criteria.kinds.length > 0 ? criteria.kinds : null;
  const found: CandidateLine[] = [];
  let after: [string, string, string] | null = null;
  while (found.length < criteria.limit) {
    const params: unknown[] = [practiceId, criteria.servedOnOrBefore, MAX_WRITE_OFFS_PER_LINE];
    let filters = '';
    if (kinds) {
      filters += ` AND r.kind IN (${placeholders(kinds.length)})`;
      params.push(...kinds);
    }
    if (after) {
      filters += ' AND (c.service_date > ? OR (c.service_date = ? AND (r.created_at > ? OR (r.created_at = ? AND r.id > ?))))';
      params.push(after[0], after[0], after[1], after[1], after[2]);
    }
    const rows = await sql.query(
      `SELECT r.id, r.patient_id, r.charge_id, r.kind, r.origin, r.status, r.amount_cents, r.paid_cents, r.written_off_cents, r.created_at, c.service_date
       FROM patients p
       JOIN responsibilities r ON r.patient_id = p.id AND r.practice_id = p.practice_id
       JOIN charges c ON c.id = r.charge_id AND c.practice_id = r.practice_id
       WHERE p.practice_id = ? AND p.outstanding_cents > 0 AND p.credit_cents = 0
         AND r.status = 'ACTIVE' AND c.service_date <= ?
         AND (SELECT COUNT(*) FROM write_offs w WHERE w.responsibility_id = r.id) < ?${filters}
       ORDER BY c.service_date, r.created_at, r.id
       LIMIT ?`,
      [...params, CANDIDATE_PAGE],
    );
    for (const r of rows) {
      const line: LineState = {
        id: String(r.id),
        chargeId: String(r.charge_id),
        kind: r.kind as ResponsibilityKind,
        origin: r.origin as LineState['origin'],
        status: r.status as LineState['status'],
        amountCents: toCents(r.amount_cents),
        paidCents: toCents(r.paid_cents),
        writtenOffCents: toCents(r.written_off_cents),
      };
      const open = openCents(line);
      if (open <= 0 || open > criteria.maxOpenCents || taken.has(line.id)) continue;
      found.push({ lineId: line.id, patientId: String(r.patient_id), chargeId: line.chargeId, kind: line.kind, serviceDate: String(r.service_date), openCents: open });
      if (found.length === criteria.limit) break;
    }
    if (rows.length < CANDIDATE_PAGE) break;
    const last = rows[rows.length - 1];
    after = [String(last.service_date), String(last.created_at), String(last.id)];
  }
  return found;
}
