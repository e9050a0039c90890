/**
 * SQL statements each money mutation ran inside its unit of work, by operation (lock and version, inserts, updates,
 * totals, idempotency key, audit event; not the SAVEPOINT and RELEASE around it). Kept for every process, read by
 * the benchmarks and tests that hold the write path to its statement budget (docs/operations.md §6).
 */
export interface UnitStatements {
  units: number;
  statements: number;
  max: number;
}

export const unitStatements = new Map<string, UnitStatements>();

export function recordUnitStatements(operation: string, statements: number): void {
  const seen = unitStatements.get(operation) ?? { units: 0, statements: 0, max: 0 };
  seen.units += 1;
  seen.statements += statements;
  seen.max = Math.max(seen.max, statements);
  unitStatements.set(operation, seen);
}
