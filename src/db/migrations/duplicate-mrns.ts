import type { QueryRunner } from 'typeorm';

/**
 * Stops the UniqueMrnPerPractice migration, before it changes anything, when patients of one practice already share an
 * MRN: the unique index could not be built, and only staff can tell which patient the MRN belongs to.
 */
export async function refuseDuplicateMrns(queryRunner: QueryRunner): Promise<void> {
  const duplicates = 'SELECT practice_id, mrn, COUNT(*) AS patients FROM patients WHERE mrn IS NOT NULL GROUP BY practice_id, mrn HAVING COUNT(*) > 1';
  const rows: unknown[] = await queryRunner.query(duplicates);
  if (rows.length === 0) return;
  throw new Error(
    `${rows.length} MRN(s) are each held by more than one patient of the same practice, so MRNs cannot be made unique. ` +
      `Give each of those patients its own MRN (or none), then migrate again. They are listed by: ${duplicates}`,
  );
}
