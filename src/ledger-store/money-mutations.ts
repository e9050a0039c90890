import type { Database, SqlRunner, Transaction } from '../db/database';
import type { AuditCaller, AuditService } from '../audit/audit.service';
import type { BalanceBus, BalanceEvent } from '../balances/balance-event';
import { MutationResult, RequestKey } from '../idempotency/request-key';
import { BalanceTotals, LineAmounts, PatientLedger, Refusal, cloneLedger, isRefusal, ledgerViolations, lineAmounts, notFound, refusal } from '../ledger';
import { LedgerCache } from './ledger-cache';
import { LedgerWriter } from './ledger-writer';
import { loadCommittedLedgers, loadPatientLedger, lockPatient, patientVersions, publishAfterCommit, verifyLedger } from './patient-ledger';
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

/** One change of a unit that spans patients: a command on the patient it touches, and where its refusals point. */
export interface Step {
  patientId: string;
  command: MoneyCommand<MutationResult>;
  /** The input path of the command, e.g. `['entries', '3', 'payment']`: its refusals' `['input', …]` fields go under it. */
  path: readonly string[];
}

/** Changes to several patients that commit together or not at all (a posting batch, docs/design.md §8.1). */
export interface ManyCommand<R extends MutationResult> {
  operation: string;
  input: unknown;
  idempotencyKey?: string | null;
  steps: Step[];
  /** The batch the new payments and write-offs belong to. */
  batchId: string | null;
  /**
   * Refuses the unit before anything is written, after an idempotent replay was ruled out: the batch is no longer in
   * the state the unit needs, or what its preview saw has changed (the versions read under the locks).
   */
  stale?(tx: Transaction, versions: ReadonlyMap<string, number>): Promise<Refusal | null>;
  /** A refusal of the results as a whole (a deposit out of balance). */
  check?(): Refusal | null;
  /** The unit's own rows, written after the steps' (the batch's status): returns the unit's result. */
  finish(tx: Transaction, results: readonly MutationResult[], now: string): Promise<R | Refusal>;
}

export type ManyOutcome<R extends MutationResult> =
  | { status: 'accepted'; result: R; balances: CommittedBalance[] }
  | { status: 'replayed'; result: R }
  | { status: 'refused'; refusal: Refusal };

/** What applying some steps would do, computed on copies of the patients' states: nothing is written or published. */
export interface DryRun {
  refusals: Refusal[];
  patients: { patientId: string; before: BalanceTotals & { version: number }; after: BalanceTotals & { version: number } }[];
  lines: { responsibilityId: string; before: LineAmounts | null; after: LineAmounts }[];
  /** The version of every patient the steps touch, as the dry run saw it. */
  versions: Map<string, number>;
}

/** A step's refusal, its field moved under the step's path. */
function atPath(refused: Refusal, path: readonly string[]): Refusal {
  const rest = refused.field?.[0] === 'input' ? refused.field.slice(1) : (refused.field ?? []);
  return refusal(refused.code, refused.message, [...path, ...rest]);
}

/** Refuses to go on (an internal error) when the writer's touched rows break an invariant; `by` names the step. */
function checkInvariants(writer: LedgerWriter, by?: readonly string[]): void {
  const violations = ledgerViolations(writer.ledger, writer.touched);
  if (violations.length > 0) throw new LedgerInvariantError(`ledger invariant violated${by ? ` by ${by.join('.')}` : ''}: ${violations.join(', ')}`);
}

/** The version each writer gives its patient: what the unit's audit event keeps (docs/design.md §8.5). */
function versionsOf(writers: readonly LedgerWriter[]): Map<string, number> {
  return new Map(writers.map((w) => [w.patientId, w.version]));
}

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
    return this.keepingStates(tx, [write], async () => {
      const result = command.apply(write);
      if (isRefusal(result)) throw new Refused(result, patientId);
      checkInvariants(write);
      const [balance] = await this.flush(tx, practiceId, [write], now);
      await key?.store(tx, patientId, result, now);
      await this.audit.recordIn(tx, caller, { operation: command.operation, outcome: 'ACCEPTED', patientId, entityIds: idsOf(result), versions: versionsOf([write]), occurredAt: now });
      recordUnitStatements(command.operation, tx.statements);
      return { status: 'accepted', patientId, result, balance };
    });
  }

  /**
   * Runs changes to several patients as one unit of work: the patients are locked in a stable order (by id, so two
   * units touching the same patients cannot deadlock on PostgreSQL), each patient's state is taken once, every step
   * applies in order seeing the ones before it, the first refusal undoes everything (its field under the step's
   * path), each touched patient's version rises by exactly one, and one balance event per patient leaves after commit.
   */
  async runMany<R extends MutationResult>(caller: AuditCaller, command: ManyCommand<R>): Promise<ManyOutcome<R>> {
    const key = RequestKey.of(caller.actor.practiceId, command.operation, command.idempotencyKey, command.input);
    if (isRefusal(key)) return this.refuseMany(caller, command, key);
    try {
      const earlier = key ? await this.replay<R>(this.db, key) : null;
      if (earlier?.status === 'replayed') {
        await this.audit.record(caller, { operation: command.operation, outcome: 'ACCEPTED', code: 'IDEMPOTENT_REPLAY', entityIds: idsOf(earlier.result) });
        return { status: 'replayed', result: earlier.result };
      }
      const patientIds = [...new Set(command.steps.map((s) => s.patientId))].sort();
      return await this.db.transaction((tx) => this.commitMany(tx, caller, command, patientIds, key));
    } catch (error) {
      if (error instanceof Refused) return this.refuseMany(caller, command, error.refusal, error.patientId);
      await this.audit.record(caller, { operation: command.operation, outcome: 'FAILED' }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Applies steps to copies of the patients' current states, as `runMany` would, and reports every refusal (each step
   * that is refused is left out and the next ones still run), every touched line and patient before and after, and the
   * versions seen. Reads committed data only; writes, locks and publishes nothing.
   */
  async dryRun(caller: AuditCaller, steps: readonly Step[], batchId: string | null, check?: ManyCommand<MutationResult>['check']): Promise<DryRun> {
    const practiceId = caller.actor.practiceId;
    const patientIds = [...new Set(steps.map((s) => s.patientId))].sort();
    const now = new Date().toISOString();
    // What each patient was before, taken at once: the cached state may change under a mutation while this awaits.
    const before = new Map<string, BalanceTotals & { version: number }>();
    const taken = new Map<string, LedgerWriter>();
    const take = (original: PatientLedger) => {
      before.set(original.patientId, { ...original.totals, version: original.version });
      taken.set(original.patientId, new LedgerWriter(null, cloneLedger(original), practiceId, caller.actor.userId, now, original.version + 1, batchId));
    };
    // Every patient's version in one read; only the patients not cached at that version are rebuilt from their rows.
    const versions = await patientVersions(this.db, practiceId, patientIds);
    const missing = new Map<string, number>();
    for (const [patientId, version] of versions) {
      const cached = this.ledgers.peek(patientId, version);
      if (cached) take(cached);
      else missing.set(patientId, version);
    }
    for (const loaded of (await loadCommittedLedgers(this.db, practiceId, missing)).values()) {
      take(loaded);
      this.ledgers.put(loaded);
    }
    // In the patients' order (by id), whichever way each state was taken.
    const writers = new Map(patientIds.flatMap((patientId) => (taken.has(patientId) ? [[patientId, taken.get(patientId)!] as const] : [])));
    const refusals: Refusal[] = [];
    const results: MutationResult[] = [];
    for (const step of steps) {
      const writer = writers.get(step.patientId);
      const applied = writer ? step.command.apply(writer) : notFound('patient');
      if (isRefusal(applied)) refusals.push(atPath(applied, step.path));
      else results.push(applied);
    }
    const whole = refusals.length === 0 ? check?.() : null;
    if (whole) refusals.push(whole);
    const run: DryRun = { refusals, patients: [], lines: [], versions: new Map() };
    for (const [patientId, writer] of writers) {
      const was = before.get(patientId)!;
      run.versions.set(patientId, was.version);
      const after = writer.settle();
      run.patients.push({ patientId, before: was, after: { ...after, version: writer.version } });
      for (const [lineId, line] of writer.linesBefore) {
        run.lines.push({ responsibilityId: lineId, before: line ? lineAmounts(line) : null, after: lineAmounts(writer.ledger.lines.get(lineId)!) });
      }
    }
    return run;
  }

  /** The unit of work of `runMany`. */
  private async commitMany<R extends MutationResult>(
    tx: Transaction,
    caller: AuditCaller,
    command: ManyCommand<R>,
    patientIds: string[],
    key: RequestKey | null,
  ): Promise<ManyOutcome<R>> {
    const practiceId = caller.actor.practiceId;
    const versions = new Map<string, number>();
    for (const patientId of patientIds) {
      const version = await lockPatient(tx, practiceId, patientId);
      if (version === null) throw new Refused(notFound('patient'));
      versions.set(patientId, version);
    }
    const raced = key ? await this.replay<R>(tx, key) : null;
    if (raced?.status === 'replayed') return { status: 'replayed', result: raced.result };
    const stale = await command.stale?.(tx, versions);
    if (stale) throw new Refused(stale);

    const now = new Date().toISOString();
    const writers = new Map<string, LedgerWriter>();
    for (const [patientId, version] of versions) {
      const ledger = this.ledgers.take(patientId, version) ?? (await loadPatientLedger(tx, practiceId, patientId, version));
      writers.set(patientId, new LedgerWriter(tx, ledger, practiceId, caller.actor.userId, now, version + 1, command.batchId));
    }
    const all = [...writers.values()];
    return this.keepingStates(tx, all, async () => {
      const results: MutationResult[] = [];
      for (const step of command.steps) {
        const writer = writers.get(step.patientId)!;
        const applied = step.command.apply(writer);
        if (isRefusal(applied)) throw new Refused(atPath(applied, step.path), step.patientId);
        // The invariants hold after every step, not only at the end (docs/design.md §8.1).
        checkInvariants(writer, step.path);
        results.push(applied);
      }
      const whole = command.check?.();
      if (whole) throw new Refused(whole);
      const balances = await this.flush(tx, practiceId, all, now);
      const result = await command.finish(tx, results, now);
      if (isRefusal(result)) throw new Refused(result);
      await key?.store(tx, patientIds[0] ?? '', result, now);
      await this.audit.recordIn(tx, caller, {
        operation: command.operation,
        outcome: 'ACCEPTED',
        patientId: patientIds.length === 1 ? patientIds[0] : null,
        patientIds,
        entityIds: idsOf(result),
        versions: versionsOf(all),
        occurredAt: now,
      });
      return { status: 'accepted', result, balances };
    });
  }

  /**
   * Writes each writer's rows, totals and version; with LEDGER_VERIFY compares each patient with its rebuild from the
   * rows; has each new balance published once the unit commits; returns the balances.
   */
  private async flush(tx: Transaction, practiceId: string, writers: readonly LedgerWriter[], now: string): Promise<CommittedBalance[]> {
    const balances: CommittedBalance[] = [];
    for (const writer of writers) {
      const totals = await writer.flush();
      if (this.options.verify) {
        const differences = await verifyLedger(tx, practiceId, writer.ledger);
        if (differences.length > 0) throw new LedgerInvariantError(`the incremental ledger differs from its rows: ${differences.slice(0, 5).join('; ')}`);
      }
      balances.push({ patientId: writer.patientId, version: writer.version, updatedAt: now, ...totals });
      publishAfterCommit(tx, this.bus, practiceId, writer.ledger, now, totals);
    }
    return balances;
  }

  /**
   * Runs a unit's work on the writers' states and keeps them in the cache for the next mutation of their patients,
   * even in this same transaction; `afterRollback` drops them if the unit is undone. If the work fails, a state it left
   * untouched is still the patient's at its old version and goes back; a touched one is dropped, rebuilt next time.
   */
  private async keepingStates<T>(tx: Transaction, writers: readonly LedgerWriter[], work: () => Promise<T>): Promise<T> {
    let done: T;
    try {
      done = await work();
    } catch (error) {
      for (const writer of writers) if (!writer.dirty) this.ledgers.put(writer.ledger);
      throw error;
    }
    for (const writer of writers) {
      this.ledgers.put(writer.ledger);
      tx.afterRollback(() => this.ledgers.drop(writer.patientId));
    }
    return done;
  }

  private async refuseMany<R extends MutationResult>(caller: AuditCaller, command: ManyCommand<R>, why: Refusal, patientId: string | null = null): Promise<ManyOutcome<R>> {
    await this.audit.record(caller, { operation: command.operation, outcome: 'REFUSED', code: why.code, patientId });
    return { status: 'refused', refusal: why };
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
  return Object.values(result).flatMap((v) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v : []));
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
