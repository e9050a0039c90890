import type { SqlRunner } from '../db/database';
import { loadCommittedLedger } from './patient-ledger';

export interface BalanceSnapshot {
  patientId: string;
  version: number;
  responsibilityCents: number;
  paidCents: number;
  writtenOffCents: number;
  outstandingCents: number;
  creditCents: number;
}

/**
 * A patient's balance as of an instant (docs/design.md §8.5): rebuilt from the rows recorded up to then, with the
 * version the patient had then — the number of changes accepted by then, each of which left exactly one ACCEPTED
 * audit event stamped with its own commit time (replays carry a code and do not count; creating the patient is
 * version 0).
 */
export class BalanceHistory {
  constructor(private readonly sql: SqlRunner) {}

  async asOf(practiceId: string, patientId: string, at: string): Promise<BalanceSnapshot> {
    const [changes] = await this.sql.query(
      `SELECT COUNT(*) AS n FROM audit_event_patients p JOIN audit_events e ON e.id = p.event_id
       WHERE p.practice_id = ? AND p.patient_id = ? AND p.occurred_at <= ? AND e.outcome = 'ACCEPTED' AND e.code IS NULL AND e.operation <> 'createPatient'
         AND e.operation NOT IN ('createPostingBatch', 'addPostingEntries', 'removePostingEntry')`,
      [practiceId, patientId, at],
    );
    const ledger = await loadCommittedLedger(this.sql, practiceId, patientId, at);
    if (!ledger) throw new Error('balance as of an instant for a patient the resolver did not find');
    return { patientId, version: Number(changes.n), ...ledger.totals };
  }
}
