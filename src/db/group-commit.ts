/**
 * Group commit for a database with one writer (SQLite, docs/operations.md §1): units of work that arrive while a
 * transaction is open or committing run together in the next one, each inside its own savepoint, and share its
 * COMMIT — one fsync for all of them instead of one each.
 *
 * - A unit that throws rolls back to its savepoint: its neighbours' work stays.
 * - Every caller is answered only after the shared COMMIT has returned (durable with synchronous=FULL); if the COMMIT
 *   fails, every unit of that transaction fails and none of its work is kept.
 * - A unit's `afterCommit` callbacks run after that COMMIT, before its caller is answered; its `afterRollback`
 *   callbacks run when its work is undone (its savepoint, or the whole transaction).
 *
 * Units run one after another on the one connection, in arrival order; a unit must never wait for another unit.
 */

/** The statements a unit runs through, and its commit hooks. */
export interface UnitHooks {
  afterCommit(fn: () => void): void;
  afterRollback(fn: () => void): void;
}

export type Execute = (sql: string) => Promise<unknown>;

/** How many units share one transaction at most: bounds how long the write lock is held and a unit can wait. */
export const MAX_UNITS_PER_COMMIT = 128;

interface Unit {
  run: () => Promise<unknown>;
  commits: (() => void)[];
  rollbacks: (() => void)[];
  settle: (outcome: Outcome) => void;
  outcome: Outcome | null;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Callbacks must not break the writer: one that throws is reported and the others still run. */
export function runAll(callbacks: (() => void)[], onError: (error: unknown) => void): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch (error) {
      onError(error);
    }
  }
}

export class GroupCommit {
  private readonly waiting: Unit[] = [];
  private draining: Promise<void> | null = null;
  /** Transactions committed and units they held, since start: what the tests and benchmarks read. */
  readonly stats = { commits: 0, units: 0, largest: 0 };

  constructor(
    private readonly execute: Execute,
    private readonly onBeginFailed: (error: unknown) => unknown,
    private readonly onCallbackError: (error: unknown) => void,
  ) {}

  /** Runs `work` in the next shared transaction; resolves with its value once that transaction has committed. */
  submit<T>(work: (hooks: UnitHooks) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const unit: Unit = {
        commits: [],
        rollbacks: [],
        outcome: null,
        run: () => work({ afterCommit: (fn) => void unit.commits.push(fn), afterRollback: (fn) => void unit.rollbacks.push(fn) }),
        settle: (outcome) => (outcome.ok ? resolve(outcome.value as T) : reject(outcome.error)),
      };
      this.waiting.push(unit);
      this.draining ??= this.drain();
    });
  }

  /** Resolves when nothing waits and no transaction is open. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Runs transactions while units wait. `draining` is cleared in the same turn as the last check, so no unit strands. */
  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) await this.runTransaction();
    } finally {
      this.draining = null;
    }
  }

  private async runTransaction(): Promise<void> {
    try {
      await this.execute('BEGIN IMMEDIATE');
    } catch (error) {
      const failure = this.onBeginFailed(error);
      for (const unit of this.waiting.splice(0, MAX_UNITS_PER_COMMIT)) unit.settle({ ok: false, error: failure });
      return;
    }
    const batch: Unit[] = [];
    let failure: { error: unknown } | null = null;
    try {
      while (this.waiting.length > 0 && batch.length < MAX_UNITS_PER_COMMIT) {
        const unit = this.waiting.shift()!;
        batch.push(unit);
        await this.execute('SAVEPOINT unit');
        try {
          unit.outcome = { ok: true, value: await unit.run() };
          await this.execute('RELEASE unit');
        } catch (error) {
          unit.outcome = { ok: false, error };
          this.rolledBack(unit);
          await this.execute('ROLLBACK TO unit');
          await this.execute('RELEASE unit');
        }
      }
      await this.execute('COMMIT');
    } catch (error) {
      // A savepoint or the COMMIT itself failed: nothing of this transaction is kept.
      failure = { error };
      await this.execute('ROLLBACK').catch(() => undefined);
    }
    if (!failure) {
      this.stats.commits += 1;
      this.stats.units += batch.length;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
    }
    for (const unit of batch) {
      if (failure) {
        if (unit.outcome?.ok !== false) unit.outcome = { ok: false, error: failure.error };
        this.rolledBack(unit);
      } else if (unit.outcome?.ok) {
        runAll(unit.commits, this.onCallbackError);
      }
      unit.settle(unit.outcome!);
    }
  }

  /** Runs a unit's rollback callbacks, once. */
  private rolledBack(unit: Unit): void {
    runAll(unit.rollbacks.splice(0), this.onCallbackError);
  }
}
