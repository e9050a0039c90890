import type { SqlRunner } from '../db/database';
import type { BalanceSnapshot } from '../ledger';
import { loadCommittedLedger } from './patient-ledger';

/**
 * A patient's balance as of an instant (docs/design.md §8.5): rebuilt from the rows recorded up to then, with the
 * version the patient had then. Every accepted money mutation keeps the version it gave each of its patients on its
 * audit event's patient rows (`audit_event_patients.version`), stamped with its own commit time, which its rows carry
 * too; nothing else writes a version there (a refusal, a replay, a draft batch, a rule run or an 835 import leave the
 * version alone), so the version then is the greatest one recorded by then, and 0 (a new patient's) before any.
 */
export class BalanceHistory {
  constructor(private readonly sql: SqlRunner) {}

  async asOf(practiceId: string, patientId: string, at: string): Promise<BalanceSnapshot> {
    const [then] = await this.sql.query(
      `SELECT MAX(version) AS version FROM audit_event_patients
       WHERE practice_id = ? AND patient_id = ? AND occurred_at <= ? AND version IS NOT NULL`,
      [practiceId, patientId, at],
    );
    const ledger = await loadCommittedLedger(this.sql, practiceId, patientId, at);
    if (!ledger) throw new Error('balance as of an instant for a patient the resolver did not find');
    return { patientId, version: Number(then?.version ?? 0), ...ledger.totals };
  }
}
