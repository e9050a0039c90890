import { DataSource, EntityManager, MigrationExecutor, QueryFailedError, QueryRunner } from 'typeorm';
import type { Config } from '../config';
import { dataSourceOptions, DatabaseKind } from './data-source';
import { pendingSchemaChanges } from './schema-diff';

/** SQL with `?` placeholders, run on either database. */
export interface SqlRunner {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** What a unit of work gets: the transaction's own manager, never the global one. */
export interface Transaction extends SqlRunner {
  readonly manager: EntityManager;
  /** Takes the patient's row lock (PostgreSQL `FOR UPDATE`); on SQLite the single writer already holds every lock. */
  lockPatient(practiceId: string, patientId: string): Promise<boolean>;
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
 * The one place transactions are opened (docs/design.md §7).
 *
 * SQLite through TypeORM runs every statement of the process on one connection, so two requests' transactions would
 * interleave on it. Here all SQLite transactions take turns on the writer connection (a FIFO queue), and reads go to a
 * second, read-only connection that in WAL mode sees only committed data. Nothing ever shares a transaction, sees
 * another's uncommitted rows, or loses its writes to another's rollback.
 *
 * PostgreSQL runs transactions side by side on a pool; money mutations lock the patient row, and the rare
 * serialization failure, deadlock or unique-key race is retried a bounded number of times.
 */
export class Database implements SqlRunner {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly kind: DatabaseKind,
    private readonly writer: DataSource,
    private readonly reader: DataSource,
  ) {}

  static async connect(database: Config['database'], options: { migrate: boolean }): Promise<Database> {
    const writer = new DataSource(dataSourceOptions(database, 'writer'));
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
      if (database.kind === 'sqlite' && database.path !== ':memory:') {
        reader = new DataSource(dataSourceOptions(database, 'reader'));
        await reader.initialize();
        await reader.query('PRAGMA query_only = 1');
      }
      return new Database(database.kind, writer, reader);
    } catch (error) {
      await writer.destroy().catch(() => undefined);
      throw error;
    }
  }

  /** Committed data, outside any transaction. */
  get reads(): EntityManager {
    return this.reader.manager;
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
    return (await pendingSchemaChanges(this.writer)).up;
  }

  async pendingMigrations(): Promise<boolean> {
    return this.writer.showMigrations();
  }

  /** Runs `work` in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    if (this.kind === 'sqlite') return this.exclusive(() => this.runOnce(work));
    return this.withRetries(work);
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (this.reader !== this.writer && this.reader.isInitialized) await this.reader.destroy();
    if (this.writer.isInitialized) await this.writer.destroy();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
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

  private async runOnce<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const runner = this.writer.createQueryRunner();
    try {
      await runner.connect();
      if (this.kind === 'sqlite') await beginImmediate(runner);
      else await runner.startTransaction();
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw new DatabaseUnavailableError(error);
    }
    const kind = this.kind;
    const tx: Transaction = {
      manager: runner.manager,
      query: (sql, params = []) => runner.query(toPositional(kind, sql), pgSafe(kind, params)),
      async lockPatient(practiceId, patientId) {
        const lock = kind === 'postgres' ? ' FOR UPDATE' : '';
        const rows = await runner.query(toPositional(kind, `SELECT id FROM patients WHERE id = ? AND practice_id = ?${lock}`), [patientId, practiceId]);
        return rows.length === 1;
      },
    };
    try {
      const result = await work(tx);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      if (kind === 'postgres') await runner.release();
    }
  }
}

/**
 * Starts a SQLite transaction with `BEGIN IMMEDIATE` instead of TypeORM's deferred `BEGIN TRANSACTION`, keeping
 * TypeORM's own bookkeeping (depth, savepoints, events). A deferred transaction reads first and takes the write lock
 * only at its first write; if another connection to the file (a second instance or process) wrote in between, that
 * upgrade fails at once with SQLITE_BUSY, without waiting for busy_timeout (docs/operations.md §1).
 * IMMEDIATE takes the write lock up front and waits for it.
 */
async function beginImmediate(runner: QueryRunner): Promise<void> {
  const query = runner.query;
  let rewritten = false;
  runner.query = ((sql: string, ...rest: unknown[]) => {
    if (sql === 'BEGIN TRANSACTION') {
      rewritten = true;
      sql = 'BEGIN IMMEDIATE TRANSACTION';
    }
    return query.call(runner, sql, ...(rest as []));
  }) as QueryRunner['query'];
  try {
    await runner.startTransaction();
  } finally {
    runner.query = query;
  }
  if (!rewritten) {
    await runner.rollbackTransaction();
    throw new Error('TypeORM did not open the SQLite transaction with BEGIN TRANSACTION; BEGIN IMMEDIATE needs a new hook.');
  }
}
