import type { SqlRunner } from './database';

/** Rows per statement: well under SQLite's (32,766) and PostgreSQL's (65,535) bound parameters for any table here. */
const ROWS_PER_STATEMENT = 200;

type Row = Record<string, unknown>;

/** Values per `IN (…)` list: well under both databases' bound-parameter limits. */
export const IDS_PER_STATEMENT = 500;

/** `?, ?, …`: one placeholder per value. */
export const marks = (values: readonly unknown[]): string => values.map(() => '?').join(', ');

/**
 * Reads rows for a list of values (ids, keys) IDS_PER_STATEMENT distinct values at a time: one `IN (…)` statement per
 * chunk, in order, the rows of all of them together.
 */
export async function inChunks<T>(values: readonly string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const unique = [...new Set(values)];
  const rows: T[] = [];
  for (let i = 0; i < unique.length; i += IDS_PER_STATEMENT) rows.push(...(await read(unique.slice(i, i + IDS_PER_STATEMENT))));
  return rows;
}

/**
 * Inserts rows (column name → value, every row with the same columns) with one multi-row INSERT per table and
 * ROWS_PER_STATEMENT rows. `skipExisting` leaves a row whose primary key is already stored (a retried batch).
 */
export async function insertRows(sql: SqlRunner, table: string, rows: readonly Row[], { skipExisting = false } = {}): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    await sql.query(
      `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}${skipExisting ? ' ON CONFLICT DO NOTHING' : ''}`,
      chunk.flatMap((row) => columns.map((column) => row[column])),
    );
  }
}

/**
 * Sets columns of rows found by id, one UPDATE for all of them (`CASE id WHEN … THEN …`). `scope` narrows every row
 * further (the practice), so an id from another practice changes nothing.
 */
export async function updateRows(sql: SqlRunner, table: string, rows: readonly ({ id: string } & Row)[], scope: Row = {}): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const columns = Object.keys(chunk[0]).filter((column) => column !== 'id');
    const params: unknown[] = [];
    const sets = columns.map((column) => {
      if (chunk.length === 1) {
        params.push(chunk[0][column]);
        return `"${column}" = ?`;
      }
      const cases = chunk.map((row) => {
        params.push(row.id, row[column]);
        // PostgreSQL types a CASE of bare parameters as text; a number must say it is one.
        return typeof row[column] === 'number' ? 'WHEN ? THEN CAST(? AS BIGINT)' : 'WHEN ? THEN ?';
      });
      return `"${column}" = CASE id ${cases.join(' ')} END`;
    });
    const where = [`id IN (${chunk.map(() => '?').join(', ')})`, ...Object.keys(scope).map((column) => `"${column}" = ?`)];
    params.push(...chunk.map((row) => row.id), ...Object.values(scope));
    await sql.query(`UPDATE "${table}" SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, params);
  }
}
