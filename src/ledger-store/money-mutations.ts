import crypto from 'node:crypto';
import type { Database, SqlRunner, Transaction } from '../db/database';
import { KeyedQueue } from '../db/keyed-queue';
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
    const practiceId = caller.actor.practiceId;
    if (command.inputRefusal) return this.refuse(caller, command, command.inputRefusal);
    let key: string | null = null;
    if (command.idempotencyKey !== null && command.idempotencyKey !== undefined) {
      const cleaned = cleanText(command.idempotencyKey, { label: 'idempotency key', field: KEY_FIELD });
      if (isRefusal(cleaned)) return this.refuse(caller, command, cleaned);
      key = cleaned;
    }
    const print = key ? fingerprint(command.operation, command.input) : '';
    try {
      let outcome = key ? await this.replay<R>(this.db, practiceId, key, command.operation, print) : null;
      if (!outcome) {
        const patientId = await command.locate(this.db);
        if (isRefusal(patientId)) throw new Refused(patientId);
        const committed = await this.patientTurns.run(patientId, () => this.db.transaction((tx) => this.commit(tx, caller, command, patientId, key, print)));
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
    key: string | null,
    print: string,
  ): Promise<{ outcome: MoneyOutcome<R>; event?: BalanceEvent }> {
    const practiceId = caller.actor.practiceId;
    if (!(await tx.lockPatient(practiceId, patientId))) throw new Refused(notFound('patient'));
    // A request with the same key may have committed while this one waited for its turn.
    const raced = key ? await this.replay<R>(tx, practiceId, key, command.operation, print) : null;
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
    if (key) {
      await tx.manager.insert(IdempotencyKeyEntity, { practiceId, key, operation: command.operation, fingerprint: print, patientId, result: JSON.stringify(result), createdAt: now });
    }
    await this.audit.recordIn(tx, caller, { operation: command.operation, outcome: 'ACCEPTED', patientId, entityIds: idsOf(result) });
    return { outcome: { status: 'accepted', patientId, result }, event: { practiceId, patientId, version: writer.version, updatedAt: now, ...totals } };
  }

  /** Audits the refusal; with the patient (and the rows the input names) when it was found, else without. */
  private async refuse<R extends MutationResult>(caller: AuditCaller, command: MoneyCommand<R>, why: Refusal, patientId: string | null = null): Promise<MoneyOutcome<R>> {
    await this.audit.record(caller, { operation: command.operation, outcome: 'REFUSED', code: why.code, patientId, entityIds: patientId ? inputIds(command.input) : [] });
    return { status: 'refused', refusal: why };
  }

  private async replay<R extends MutationResult>(
    sql: SqlRunner,
    practiceId: string,
    key: string,
    operation: string,
    print: string,
  ): Promise<MoneyOutcome<R> | null> {
    const [stored] = await sql.query<{ operation: string; fingerprint: string; patient_id: string; result: string }>(
      'SELECT operation, fingerprint, patient_id, result FROM idempotency_keys WHERE practice_id = ? AND key = ?',
      [practiceId, key],
    );
    if (!stored) return null;
    if (stored.operation !== operation || stored.fingerprint !== print) {
      throw new Refused(
        refusal(
          RefusalCode.IDEMPOTENCY_KEY_REUSED,
          'This idempotency key was already used for a different request. Use a new key for a new request.',
          KEY_FIELD,
        ),
        stored.patient_id,
      );
    }
    return { status: 'replayed', patientId: stored.patient_id, result: JSON.parse(stored.result) as R };
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
