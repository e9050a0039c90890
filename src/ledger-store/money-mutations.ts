import type { Database, SqlRunner, Transaction } from '../db/database';
import type { AuditCaller, AuditService } from '../audit/audit.service';
import type { BalanceBus, BalanceEvent } from '../balances/balance-event';
import { MutationResult, RequestKey } from '../idempotency/request-key';
import { Refusal, isRefusal, ledgerViolations, notFound } from '../ledger';
import { LedgerCache } from './ledger-cache';
import { LedgerWriter } from './ledger-writer';
import { loadPatientLedger, lockPatient, publishAfterCommit, verifyLedger } from './patient-ledger';
import { recordUnitStatements } from './unit-statistics';

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
  /**
   * Applies the rules to the locked patient's ledger (`write.ledger`) and records the new facts through `write`,
   * which applies each to that state at once. A refusal undoes everything.
   */
  apply(write: LedgerWriter): R | Refusal;
}

/** The balance a mutation left the patient with: its own version, whatever commits after it. */
export type CommittedBalance = Omit<BalanceEvent, 'practiceId'>;

export type MoneyOutcome<R extends MutationResult> =
  | { status: 'accepted'; patientId: string; result: R; balance: CommittedBalance }
  | { status: 'replayed'; patientId: string; result: R }
  | { status: 'refused'; refusal: Refusal };

export interface MoneyMutationOptions {
  /** How many patients' ledger states are kept in memory (LEDGER_CACHE_PATIENTS); 0 rebuilds every time. */
  cachePatients: number;
  /** Rebuild the ledger from its rows after every mutation and refuse to commit on any difference (LEDGER_VERIFY). */
  verify: boolean;
}

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
 * Runs every money mutation the same way (docs/design.md §2, §3; docs/operations.md §1): one unit of work that locks the
 * patient and reads its version, takes the patient's ledger state (from memory when its version matches, else rebuilt
 * from the rows), applies the rules and the new facts to it, checks the invariants on the result, writes the new rows,
 * the changed amounts and the patient's totals and version, and stores the idempotency key and the audit event;
 * then, only after commit, publishes the new balance.
 */
export class MoneyMutations {
  private readonly ledgers: LedgerCache;

  constructor(
    private readonly db: Database,
    private readonly bus: BalanceBus,
    private readonly audit: AuditService,
    private readonly options: MoneyMutationOptions,
  ) {
    this.ledgers = new LedgerCache(options.cachePatients);
  }

  async run<R extends MutationResult>(caller: AuditCaller, command: MoneyCommand<R>): Promise<MoneyOutcome<R>> {
    if (command.inputRefusal) return this.refuse(caller, command, command.inputRefusal);
    const key = RequestKey.of(caller.actor.practiceId, command.operation, command.idempotencyKey, command.input);
    if (isRefusal(key)) return this.refuse(caller, command, key);
    try {
      let outcome = key ? await this.replay<R>(this.db, key) : null;
      if (!outcome) {
        const patientId = await command.locate(this.db);
        if (isRefusal(patientId)) throw new Refused(patientId);
        outcome = await this.db.transaction((tx) => this.commit(tx, caller, command, patientId, key), { serializeOn: patientId });
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

  /** The unit of work of one money mutation on one patient. */
  private async commit<R extends MutationResult>(
    tx: Transaction,
    caller: AuditCaller,
    command: MoneyCommand<R>,
    patientId: string,
    key: RequestKey | null,
  ): Promise<MoneyOutcome<R>> {
    const practiceId = caller.actor.practiceId;
    const version = await lockPatient(tx, practiceId, patientId);
    if (version === null) throw new Refused(notFound('patient'));
    // A request with the same key may have committed while this one waited for its turn.
    const raced = key ? await this.replay<R>(tx, key) : null;
    if (raced) return raced;

    const ledger = this.ledgers.take(patientId, version) ?? (await loadPatientLedger(tx, practiceId, patientId, version));
    const now = new Date().toISOString();
    const write = new LedgerWriter(tx, ledger, practiceId, caller.actor.userId, now, version + 1);
    let result: R;
    let balance: CommittedBalance;
    try {
      const applied = command.apply(write);
      if (isRefusal(applied)) throw new Refused(applied, patientId);
      result = applied;
      const violations = ledgerViolations(ledger, write.touched);
      if (violations.length > 0) throw new LedgerInvariantError(`ledger invariant violated: ${violations.join(', ')}`);
      const totals = await write.flush();
      if (this.options.verify) {
        const differences = await verifyLedger(tx, practiceId, ledger);
        if (differences.length > 0) throw new LedgerInvariantError(`the incremental ledger differs from its rows: ${differences.slice(0, 5).join('; ')}`);
      }
      await key?.store(tx, patientId, result, now);
      await this.audit.recordIn(tx, caller, { operation: command.operation, outcome: 'ACCEPTED', patientId, entityIds: idsOf(result) });
      recordUnitStatements(command.operation, tx.statements);
      balance = { patientId, version: ledger.version, updatedAt: now, ...totals };
      publishAfterCommit(tx, this.bus, practiceId, ledger, now, totals);
    } catch (error) {
      // Untouched, the state is still the patient's at `version`; touched, it is dropped and rebuilt next time.
      if (!write.dirty) this.ledgers.put(ledger);
      throw error;
    }
    // Kept for the next mutation of this patient, even in this same transaction; gone if this unit is undone.
    this.ledgers.put(ledger);
    tx.afterRollback(() => this.ledgers.drop(patientId));
    return { status: 'accepted', patientId, result, balance };
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
