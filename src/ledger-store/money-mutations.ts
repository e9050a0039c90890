import type { Database, SqlRunner, Transaction } from '../db/database';
import { KeyedQueue } from '../db/keyed-queue';
import type { AuditCaller, AuditService } from '../audit/audit.service';
import type { BalanceBus, BalanceEvent } from '../balances/balance-event';
import { MutationResult, RequestKey } from '../idempotency/request-key';
import { Refusal, isRefusal, notFound } from '../ledger';
import { LedgerWriter } from './ledger-writer';
import { PatientLedger, ledgerBalance, ledgerViolations, loadPatientLedger } from './patient-ledger';

export type { MutationResult };

export interface MoneyCommand<R extends MutationResult> {
  /** The GraphQL mutation name: part of the idempotency fingerprint and the audit trail. */
  operation: string;
  /** The input as received, without its idempotency key. */
  input: unknown;
  idempotencyKey?: string | null;
  /**
   * The refusal of the input's shape on its own (a list over its maximum), checked before anything else: before its
   * idempotency key is hashed or looked up and before any row is read or locked, so a huge input costs next to nothing.
   */
  inputRefusal?: Refusal | null;
  /** Finds the patient the command touches, in the caller's practice, or refuses. Rows never change patient. */
  locate(sql: SqlRunner): Promise<string | Refusal>;
  /** Applies the rules to the locked patient's ledger and writes rows; a refusal rolls everything back. */
  apply(ledger: PatientLedger, write: LedgerWriter): Promise<R | Refusal>;
}

export type MoneyOutcome<R extends MutationResult> =
  | { status: 'accepted' | 'replayed'; patientId: string; result: R }
  | { status: 'refused'; refusal: Refusal };

/**
 * Thrown inside the transaction to roll it back, caught outside to answer with the refusal. Carries the patient when
 * the refusal came after the patient was found, so that the attempt is in that patient's audit trail.
 */
class Refused extends Error {
  constructor(
    readonly refusal: Refusal,
    readonly patientId: string | null = null,
  ) {
    super(refusal.code);
  }
}

export class LedgerInvariantError extends Error {}

/**
 * Runs every money mutation the same way (docs/design.md §2, §3): one transaction that locks the patient, rebuilds its ledger,
 * applies the rules, writes rows, checks the invariants on the result, raises the patient's version by one, stores the
 * idempotency key and the audit event; then, only after commit, publishes the new balance.
 *
 * Mutations of one patient first wait their turn in this process (no connection held), then take the patient's row
 * lock, which orders them against other instances. A burst on one patient therefore never drains the connection pool.
 */
export class MoneyMutations {
  private readonly patientTurns = new KeyedQueue();

  constructor(
    private readonly db: Database,
    private readonly bus: BalanceBus,
    private readonly audit: AuditService,
  ) {}

  async run<R extends MutationResult>(caller: AuditCaller, command: MoneyCommand<R>): Promise<MoneyOutcome<R>> {
    if (command.inputRefusal) return this.refuse(caller, command, command.inputRefusal);
    const key = RequestKey.of(caller.actor.practiceId, command.operation, command.idempotencyKey, command.input);
    if (isRefusal(key)) return this.refuse(caller, command, key);
    try {
      let outcome = key ? await this.replay<R>(this.db, key) : null;
      if (!outcome) {
        const patientId = await command.locate(this.db);
        if (isRefusal(patientId)) throw new Refused(patientId);
        const committed = await this.patientTurns.run(patientId, () => this.db.transaction((tx) => this.commit(tx, caller, command, patientId, key)));
        if (committed.event) this.bus.publish(committed.event);
        outcome = committed.outcome;
      }
      if (outcome.status === 'replayed') {
        await this.audit.record(caller, { operation: command.operation, outcome: 'ACCEPTED', code: 'IDEMPOTENT_REPLAY', patientId: outcome.patientId, entityIds: idsOf(outcome.result) });
      }
      return outcome;
    } catch (error) {
      if (error instanceof Refused) return this.refuse(caller, command, error.refusal, error.patientId);
      await this.audit.record(caller, { operation: command.operation, outcome: 'FAILED' }).catch(() => undefined);
      throw error;
    }
  }

  /** The transaction of one money mutation on one patient; its balance event is returned to publish after commit. */
  private async commit<R extends MutationResult>(
    tx: Transaction,
    caller: AuditCaller,
    command: MoneyCommand<R>,
    patientId: string,
    key: RequestKey | null,
  ): Promise<{ outcome: MoneyOutcome<R>; event?: BalanceEvent }> {
    const practiceId = caller.actor.practiceId;
    if (!(await tx.lockPatient(practiceId, patientId))) throw new Refused(notFound('patient'));
    // A request with the same key may have committed while this one waited for its turn.
    const raced = key ? await this.replay<R>(tx, key) : null;
    if (raced) return { outcome: raced };

    const before = await loadPatientLedger(tx, practiceId, patientId);
    const now = new Date().toISOString();
    const writer = new LedgerWriter(tx, practiceId, patientId, caller.actor.userId, now, before.version + 1);
    const result = await command.apply(before, writer);
    if (isRefusal(result)) throw new Refused(result, patientId);

    const after = await loadPatientLedger(tx, practiceId, patientId);
    const violations = ledgerViolations(after);
    if (violations.length > 0) throw new LedgerInvariantError(`ledger invariant violated: ${violations.join(', ')}`);
    const totals = ledgerBalance(after);
    await tx.query(
      `UPDATE patients SET version = ?, responsibility_cents = ?, paid_cents = ?, written_off_cents = ?, outstanding_cents = ?,
         credit_cents = ?, balance_updated_at = ? WHERE id = ? AND practice_id = ?`,
      [writer.version, totals.responsibilityCents, totals.paidCents, totals.writtenOffCents, totals.outstandingCents, totals.creditCents, now, patientId, practiceId],
    );
    await key?.store(tx, patientId, result, now);
    await this.audit.recordIn(tx, caller, { operation: command.operation, outcome: 'ACCEPTED', patientId, entityIds: idsOf(result) });
    return { outcome: { status: 'accepted', patientId, result }, event: { practiceId, patientId, version: writer.version, updatedAt: now, ...totals } };
  }

  /** Audits the refusal; with the patient (and the rows the input names) when it was found, else without. */
  private async refuse<R extends MutationResult>(caller: AuditCaller, command: MoneyCommand<R>, why: Refusal, patientId: string | null = null): Promise<MoneyOutcome<R>> {
    await this.audit.record(caller, { operation: command.operation, outcome: 'REFUSED', code: why.code, patientId, entityIds: patientId ? inputIds(command.input) : [] });
    return { status: 'refused', refusal: why };
  }

  /** The earlier request's result when this one repeats it; throws (rolling back) when the key was used for another. */
  private async replay<R extends MutationResult>(sql: SqlRunner, key: RequestKey): Promise<MoneyOutcome<R> | null> {
    const earlier = await key.earlier<R>(sql);
    if (earlier?.status === 'reused') throw new Refused(earlier.refusal, earlier.patientId);
    return earlier;
  }
}

function idsOf(result: MutationResult): string[] {
  return Object.values(result).filter((v): v is string => typeof v === 'string');
}

const ROW_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The row ids a refused input names (`responsibilityId`, `paymentId`, allocations' lines, …): fields ending in `Id`
 * that hold a UUID, as every row id is, at the top level or in a list of objects.
 */
function inputIds(input: unknown): string[] {
  const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
  const idsIn = (value: unknown): string[] =>
    isObject(value) ? Object.entries(value).flatMap(([field, v]) => (field.endsWith('Id') && typeof v === 'string' && ROW_ID.test(v) ? [v] : [])) : [];
  const listed = isObject(input) ? Object.values(input).filter(Array.isArray).flat() : [];
  return [...idsIn(input), ...listed.flatMap(idsIn)];
}
