import crypto from 'node:crypto';
import type { Database, Transaction } from '../db/database';
import type { AuditCaller, AuditService } from '../audit/audit.service';
import type { BalanceBus, BalanceEvent } from '../balances/balance-event';
import { IdempotencyKeyEntity } from '../idempotency/idempotency.entity';
import { Refusal, RefusalCode, isRefusal, notFound, refusal, cleanText } from '../ledger';
import { LedgerWriter } from './ledger-writer';
import { PatientLedger, ledgerBalance, ledgerViolations, loadPatientLedger } from './patient-ledger';

/** The ids a payload is rebuilt from: for a replay, "the same objects, as they are now". */
export type MutationResult = Record<string, string | null>;

export interface MoneyCommand<R extends MutationResult> {
  /** The GraphQL mutation name: part of the idempotency fingerprint and the audit trail. */
  operation: string;
  /** The input as received, without its idempotency key. */
  input: unknown;
  idempotencyKey?: string | null;
  /** Finds the patient the command touches, in the caller's practice, or refuses. */
  locate(tx: Transaction): Promise<string | Refusal>;
  /** Applies the rules to the locked patient's ledger and writes rows; a refusal rolls everything back. */
  apply(ledger: PatientLedger, write: LedgerWriter): Promise<R | Refusal>;
}

export type MoneyOutcome<R extends MutationResult> =
  | { status: 'accepted' | 'replayed'; patientId: string; result: R }
  | { status: 'refused'; refusal: Refusal };

/** Thrown inside the transaction to roll it back, caught outside to answer with the refusal. */
class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.code);
  }
}

export class LedgerInvariantError extends Error {}

const KEY_FIELD = ['input', 'idempotencyKey'];

/** Stable JSON: keys sorted, absent and null alike, so the same input always hashes the same. */
function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function fingerprint(operation: string, input: unknown): string {
  return crypto.createHash('sha256').update(`${operation}\n${canonical(input)}`).digest('hex');
}

/**
 * Runs every money mutation the same way (DESIGN §2, §3): one transaction that locks the patient, rebuilds its ledger,
 * applies the rules, writes rows, checks the invariants on the result, raises the patient's version by one, stores the
 * idempotency key and the audit event; then, only after commit, publishes the new balance.
 */
export class MoneyMutations {
  constructor(
    private readonly db: Database,
    private readonly bus: BalanceBus,
    private readonly audit: AuditService,
  ) {}

  async run<R extends MutationResult>(caller: AuditCaller, command: MoneyCommand<R>): Promise<MoneyOutcome<R>> {
    const practiceId = caller.actor.practiceId;
    let key: string | null = null;
    if (command.idempotencyKey !== null && command.idempotencyKey !== undefined) {
      const cleaned = cleanText(command.idempotencyKey, { label: 'idempotency key', field: KEY_FIELD });
      if (isRefusal(cleaned)) return this.refuse(caller, command, cleaned);
      key = cleaned;
    }
    const print = key ? fingerprint(command.operation, command.input) : '';
    let published: BalanceEvent | null = null;
    try {
      const outcome = await this.db.transaction(async (tx): Promise<MoneyOutcome<R>> => {
        const earlier = key ? await this.replay<R>(tx, practiceId, key, command.operation, print) : null;
        if (earlier) return earlier;
        const patientId = await command.locate(tx);
        if (isRefusal(patientId)) throw new Refused(patientId);
        if (!(await tx.lockPatient(practiceId, patientId))) throw new Refused(notFound('patient'));
        // A concurrent request with the same key may have committed while this one waited for the lock.
        const raced = key ? await this.replay<R>(tx, practiceId, key, command.operation, print) : null;
        if (raced) return raced;

        const before = await loadPatientLedger(tx, practiceId, patientId);
        const now = new Date().toISOString();
        const writer = new LedgerWriter(tx, practiceId, patientId, caller.actor.userId, now, before.version + 1);
        const result = await command.apply(before, writer);
        if (isRefusal(result)) throw new Refused(result);

        const after = await loadPatientLedger(tx, practiceId, patientId);
        const violations = ledgerViolations(after);
        if (violations.length > 0) throw new LedgerInvariantError(`ledger invariant violated: ${violations.join(', ')}`);
        const totals = ledgerBalance(after);
        await tx.query(
          `UPDATE patients SET version = ?, responsibility_cents = ?, paid_cents = ?, written_off_cents = ?, outstanding_cents = ?,
             credit_cents = ?, balance_updated_at = ? WHERE id = ? AND practice_id = ?`,
          [writer.version, totals.responsibilityCents, totals.paidCents, totals.writtenOffCents, totals.outstandingCents, totals.creditCents, now, patientId, practiceId],
        );
        if (key) {
          await tx.manager.insert(IdempotencyKeyEntity, {
            practiceId,
            key,
            operation: command.operation,
            fingerprint: print,
            patientId,
            result: JSON.stringify(result),
            createdAt: now,
          });
        }
        await this.audit.recordIn(tx, caller, { operation: command.operation, outcome: 'ACCEPTED', patientId, entityIds: idsOf(result) });
        published = { practiceId, patientId, version: writer.version, updatedAt: now, ...totals };
        return { status: 'accepted', patientId, result };
      });
      if (published) this.bus.publish(published);
      if (outcome.status === 'replayed') {
        await this.audit.record(caller, { operation: command.operation, outcome: 'ACCEPTED', code: 'IDEMPOTENT_REPLAY', patientId: outcome.patientId, entityIds: idsOf(outcome.result) });
      }
      return outcome;
    } catch (error) {
      if (error instanceof Refused) return this.refuse(caller, command, error.refusal);
      await this.audit.record(caller, { operation: command.operation, outcome: 'FAILED' }).catch(() => undefined);
      throw error;
    }
  }

  private async refuse<R extends MutationResult>(caller: AuditCaller, command: MoneyCommand<R>, why: Refusal): Promise<MoneyOutcome<R>> {
    await this.audit.record(caller, { operation: command.operation, outcome: 'REFUSED', code: why.code });
    return { status: 'refused', refusal: why };
  }

  private async replay<R extends MutationResult>(
    tx: Transaction,
    practiceId: string,
    key: string,
    operation: string,
    print: string,
  ): Promise<MoneyOutcome<R> | null> {
    const stored = await tx.manager.findOne(IdempotencyKeyEntity, { where: { practiceId, key } });
    if (!stored) return null;
    if (stored.operation !== operation || stored.fingerprint !== print) {
      throw new Refused(
        refusal(
          RefusalCode.IDEMPOTENCY_KEY_REUSED,
          'This idempotency key was already used for a different request. Use a new key for a new request.',
          KEY_FIELD,
        ),
      );
    }
    return { status: 'replayed', patientId: stored.patientId, result: JSON.parse(stored.result) as R };
  }
}

function idsOf(result: MutationResult): string[] {
  return Object.values(result).filter((v): v is string => typeof v === 'string');
}
