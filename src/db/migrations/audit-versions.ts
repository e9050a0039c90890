import type { QueryRunner } from 'typeorm';

/**
 * Accepted events, without a code, that raised no patient's version: creating a patient (version 0), editing a draft
 * batch, proposing one (a write-off rule run, an 835 import), editing a rule. Every other accepted event without a
 * code was a money mutation, which raised each of its patients' versions by exactly one (docs/design.md §2.6).
 */
const NO_VERSION_OPERATIONS = [
  'createPatient',
  'createPostingBatch',
  'addPostingEntries',
  'removePostingEntry',
  'runWriteOffRule',
  'importRemittanceFile',
  'createWriteOffRule',
  'updateWriteOffRule',
];

/**
 * One-time fill of `audit_event_patients.version` for the rows written before the column (the same SQL on SQLite and
 * PostgreSQL): a money mutation's row gets the count of the patient's money mutations up to and including it, which is
 * the version it gave the patient; every other row stays null. Rows written since carry the version their unit set.
 */
export async function backfillAuditVersions(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`UPDATE "audit_event_patients" SET "version" = r."n" FROM (
      SELECT p."event_id", p."patient_id",
        ROW_NUMBER() OVER (PARTITION BY p."practice_id", p."patient_id" ORDER BY p."occurred_at", p."event_id") AS "n"
      FROM "audit_event_patients" p JOIN "audit_events" e ON e."id" = p."event_id"
      WHERE e."outcome" = 'ACCEPTED' AND e."code" IS NULL AND e."operation" NOT IN (${NO_VERSION_OPERATIONS.map((o) => `'${o}'`).join(', ')})
    ) r
    WHERE r."event_id" = "audit_event_patients"."event_id" AND r."patient_id" = "audit_event_patients"."patient_id"`);
}
