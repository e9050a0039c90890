import { DataSource, MigrationExecutor, QueryFailedError, QueryRunner } from 'typeorm';
import { GroupCommit, UnitHooks, runAll } from './group-commit';
import { KeyedQueue } from './keyed-queue';
import type { Config } from '../config';
import { dataSourceOptions, DatabaseKind, EntityList } from './data-source';
import { pendingSchemaChanges } from './schema-diff';

/** SQL with `?` placeholders, run on either database. */
export interface SqlRunner {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** What a unit of work gets: its own statements on the transaction's connection, and hooks on how it ends. */
export interface Transaction extends SqlRunner {
  readonly kind: DatabaseKind;
  /** How many statements this unit has run: the write path is held to a budget (docs/operations.md §6). */
  readonly statements: number;
  /** Runs `fn` once this unit's work is durable, before its caller is answered; never when it is undone. */
  afterCommit(fn: () => void): void;
  /** Runs `fn` when this unit's work is undone: its savepoint or its transaction rolled back, or the commit failed. */
  afterRollback(fn: () => void): void;
}

export interface TransactionOptions {
  /**
   * Units with the same key run one at a time, in arrival order, before they take a connection (PostgreSQL): a burst
   * on one patient waits here instead of holding pooled connections on its row lock. SQLite runs one unit at a time
   * anyway, in arrival order.
   */
  serializeOn?: string;
}

export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The database is not reachable.');
    this.cause = cause;
  }
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/** True when the database could not be reached or the connection broke: the request may be retried later. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const driver = error instanceof QueryFailedError ? (error.driverError as { code?: string }) : (error as { code?: string } | null);
  const code = driver?.code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  return error instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
}

/** Any fixed 64-bit key: the PostgreSQL advisory lock that lets one process at a time run the migrations. */
const MIGRATION_LOCK_KEY = 7_428_151_002;

/**
 * Applies pending migrations. On PostgreSQL several instances (or `npm run migrate` and an instance) may start at
 * once: TypeORM takes no lock of its own, so the second would try to create the same tables. Each takes a session
 * advisory lock first and runs the migrations on that same connection (so a pool of one cannot deadlock); the others
 * wait, then find nothing pending.
 */
async function runMigrations(dataSource: DataSource, kind: DatabaseKind): Promise<void> {
  if (kind !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

const RETRYABLE_PG_CODES = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 5;

/**
 * PostgreSQL text cannot hold NUL, and a parameter with one fails the whole statement. Nothing stored ever contains
 * control characters (free text is checked first), so a NUL can only come from a lookup by a bogus id or search:
 * replacing it keeps that lookup an honest "not found" instead of an error.
 */
function pgSafe(kind: DatabaseKind, params: unknown[]): unknown[] {
  if (kind !== 'postgres') return params;
  return params.map((p) => (typeof p === 'string' && p.includes('\u0000') ? p.replace(/\u0000/g, '\uFFFD') : p));
}

function toPositional(kind: DatabaseKind, sql: string): string {
  if (kind === 'sqlite') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * The one place transactions are opened (docs/operations.md §1).
 *
 * SQLite has one writer connection. Every unit of work goes through a group commit on it: units that arrive while a
 * transaction is open run together in the next one, each in its own savepoint, and share its COMMIT (one fsync).
 * Reads go to a second, read-only connection that in WAL mode sees only committed data. Nothing ever sees another
 * unit's uncommitted rows from outside the writer, or loses its writes to another unit's failure.
 *
 * PostgreSQL runs transactions side by side on a pool; money mutations lock the patient row, and the rare
 * serialization failure, deadlock or unique-key race is retried a bounded number of times.
 */
export class Database implements SqlRunner {
  private readonly turns = new KeyedQueue();
  private readonly groupCommit: GroupCommit | null;

  private constructor(
    readonly kind: DatabaseKind,
    private readonly writer: DataSource,
    private readonly reader: DataSource,
    private readonly writerConnection: QueryRunner | null,
  ) {
    this.groupCommit =
      writerConnection &&
      new GroupCommit(
        (sql) => writerConnection.query(sql),
        (error) => new DatabaseUnavailableError(error),
        reportCallbackError,
      );
  }

  /** `entities` (src/entities.ts) only for `schemaDrift`: nothing else here knows the tables' classes. */
  static async connect(database: Config['database'], options: { migrate: boolean; entities?: EntityList }): Promise<Database> {
    const writer = new DataSource(dataSourceOptions(database, 'writer', options.entities));
    try {
      await writer.initialize();
    } catch (error) {
      throw new DatabaseUnavailableError(error);
    }
    try {
      if (database.kind === 'sqlite') {
        // FULL: an acknowledged payment is on disk before the response leaves.
        await writer.query('PRAGMA synchronous = FULL');
      }
      if (options.migrate) await runMigrations(writer, database.kind);
      else if (await writer.showMigrations()) throw new Error('The database has pending migrations: run `npm run migrate` first.');
      let reader = writer;
      let writerConnection: QueryRunner | null = null;
      if (database.kind === 'sqlite') {
        // TypeORM's SQLite driver has one connection; this runner is how the group commit talks to it.
        writerConnection = writer.createQueryRunner();
        await writerConnection.connect();
        if (database.path !== ':memory:') {
          reader = new DataSource(dataSourceOptions(database, 'reader'));
          await reader.initialize();
          await reader.query('PRAGMA query_only = 1');
        }
      }
      return new Database(database.kind, writer, reader, writerConnection);
    } catch (error) {
      await writer.destroy().catch(() => undefined);
      throw error;
    }
  }

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.reader.query(toPositional(this.kind, sql), pgSafe(this.kind, params));
  }

  async pragma(name: string): Promise<unknown> {
    const rows = await this.writer.query(`PRAGMA ${name}`);
    return rows[0] ? Object.values(rows[0])[0] : undefined;
  }

  async ping(): Promise<boolean> {
    try {
      await this.reader.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** SQL that would bring the tables in line with the entities: empty when the migrations are complete. */
  async schemaDrift(): Promise<string[]> {
    if (this.writer.entityMetadatas.length === 0) throw new Error('schemaDrift needs the entities: pass them to Database.connect');
    return (await pendingSchemaChanges(this.writer)).up;
  }

  async pendingMigrations(): Promise<boolean> {
    return this.writer.showMigrations();
  }

  /** Transactions committed by the SQLite group commit and the units they held (null on PostgreSQL). */
  get groupCommitStats(): GroupCommit['stats'] | null {
    return this.groupCommit?.stats ?? null;
  }

  /**
   * Runs `work` as one unit: its effects are committed when it resolves (its caller answered only once they are
   * durable), undone when it throws. On SQLite it shares its transaction with the units around it (group commit).
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const connection = this.writerConnection;
    if (this.groupCommit && connection) return this.groupCommit.submit((hooks) => work(this.unitOn((sql, params) => connection.query(sql, params), hooks)));
    return options.serializeOn ? this.turns.run(options.serializeOn, () => this.withRetries(work)) : this.withRetries(work);
  }

  async close(): Promise<void> {
    await this.groupCommit?.idle();
    if (this.reader !== this.writer && this.reader.isInitialized) await this.reader.destroy();
    if (this.writer.isInitialized) await this.writer.destroy();
  }

  /** The Transaction a unit sees: statements counted and converted for this database, and the unit's hooks. */
  private unitOn(run: (sql: string, params: unknown[]) => Promise<unknown>, hooks: UnitHooks): Transaction {
    const kind = this.kind;
    let statements = 0;
    return {
      kind,
      get statements() {
        return statements;
      },
      query<T>(sql: string, params: unknown[] = []) {
        statements += 1;
        return run(toPositional(kind, sql), pgSafe(kind, params)) as Promise<T[]>;
      },
      afterCommit: hooks.afterCommit,
      afterRollback: hooks.afterRollback,
    };
  }

  private async withRetries<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(work);
      } catch (error) {
        const code = error instanceof QueryFailedError ? (error.driverError as { code?: string } | undefined)?.code : undefined;
        if (!code || !RETRYABLE_PG_CODES.has(code) || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /** One PostgreSQL transaction on a pooled connection. */
  private async runOnce<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const runner = this.writer.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw new DatabaseUnavailableError(error);
    }
    const commits: (() => void)[] = [];
    const rollbacks: (() => void)[] = [];
    const tx = this.unitOn((sql, params) => runner.query(sql, params), { afterCommit: (fn) => void commits.push(fn), afterRollback: (fn) => void rollbacks.push(fn) });
    let result: T;
    try {
      result = await work(tx);
      await runner.commitTransaction();
    } catch (error) {
      runAll(rollbacks, reportCallbackError);
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
    runAll(commits, reportCallbackError);
    return result;
  }
}/** A commit callback that throws is a bug, but must not fail a unit that is already durable. */
function reportCallbackError(error: unknown): void {
  process.emitWarning(`a commit callback failed: ${error instanceof Error ? error.message : String(error)}`);
}
