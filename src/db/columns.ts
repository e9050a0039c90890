import { Column, ColumnOptions, PrimaryColumn } from 'typeorm';

/**
 * Column helpers shared by every entity, so the same entities run on SQLite and PostgreSQL:
 * money is a bigint of cents (node-postgres hands bigints back as strings; they are turned into exact numbers),
 * instants are ISO-8601 UTC text (sortable, identical on both databases), ids are UUID text.
 */
const centsTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => {
    if (value === null || value === undefined) return value;
    const cents = Number(value);
    if (!Number.isSafeInteger(cents)) throw new RangeError('stored amount is not a safe integer');
    return cents;
  },
};

export function IdColumn(): PropertyDecorator {
  return PrimaryColumn({ type: 'varchar', length: 36 });
}

export function RefColumn(name: string, options: Partial<ColumnOptions> = {}): PropertyDecorator {
  return Column({ name, type: 'varchar', length: 36, ...options } as ColumnOptions);
}

export function PracticeColumn(): PropertyDecorator {
  return Column({ name: 'practice_id', type: 'varchar', length: 64 });
}

export function CentsColumn(name: string, options: Partial<ColumnOptions> = {}): PropertyDecorator {
  return Column({ name, type: 'bigint', transformer: centsTransformer, ...options } as ColumnOptions);
}

/**
 * An amount the ledger module derives from the fact rows, stored beside them by the ledger writer so reads never
 * recompute money. The only kind of column an append-only row may have updated (src/db/migrations/append-only.ts).
 */
export function DerivedCentsColumn(name: string): PropertyDecorator {
  return Column({ name, type: 'bigint', default: 0, transformer: centsTransformer });
}

/**
 * A row's place in its patient's ledger: the patient version the mutation produced × 100,000 + the row's order within
 * that mutation. Orders rows exactly where timestamps tie (refunds take allocations back newest first by it).
 */
export function SequenceColumn(): PropertyDecorator {
  return Column({ name: 'sequence', type: 'bigint', transformer: centsTransformer });
}

export function InstantColumn(name: string, options: Partial<ColumnOptions> = {}): PropertyDecorator {
  return Column({ name, type: 'varchar', length: 24, ...options } as ColumnOptions);
}

export function TextColumn(name: string, length: number, options: Partial<ColumnOptions> = {}): PropertyDecorator {
  return Column({ name, type: 'varchar', length, ...options } as ColumnOptions);
}

export function IntColumn(name: string, options: Partial<ColumnOptions> = {}): PropertyDecorator {
  return Column({ name, type: 'integer', ...options } as ColumnOptions);
}

/** Same exact-number conversion for aggregates read with raw SQL (SUM over bigint is a string on PostgreSQL). */
export function toCents(value: unknown): number {
  const cents = value === null || value === undefined ? 0 : Number(value);
  if (!Number.isSafeInteger(cents)) throw new RangeError('amount is not a safe integer');
  return cents;
}

/** Unbounded text (JSON documents such as remittance adjustments and audit entity ids). */
export function LongTextColumn(name: string, options: Partial<ColumnOptions> = {}): PropertyDecorator {
  return Column({ name, type: 'text', ...options } as ColumnOptions);
}
