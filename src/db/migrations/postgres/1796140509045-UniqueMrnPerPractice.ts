import { MigrationInterface, QueryRunner } from 'typeorm';
import { refuseDuplicateMrns } from '../duplicate-mrns';

/** An MRN is unique within a practice (patients without one are not compared). Generated from the entities for PostgreSQL. */
export class UniqueMrnPerPractice1796140509045 implements MigrationInterface {
  name = 'UniqueMrnPerPractice1796140509045';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await refuseDuplicateMrns(queryRunner);
    await queryRunner.query("CREATE UNIQUE INDEX \"patients_practice_mrn\" ON \"patients\" (\"practice_id\", \"mrn\") ");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"patients_practice_mrn\"");
  }
}
