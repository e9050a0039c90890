import { MigrationInterface, QueryRunner } from 'typeorm';

/** Generated from the entities for SQLite. */
export class Initial1795763274749 implements MigrationInterface {
  name = 'Initial1795763274749';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"practices\" (\"id\" varchar(64) PRIMARY KEY NOT NULL, \"created_at\" varchar(24) NOT NULL)");
    await queryRunner.query("CREATE TABLE \"patients\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"first_name\" varchar(255) NOT NULL, \"last_name\" varchar(255) NOT NULL, \"date_of_birth\" varchar(10), \"mrn\" varchar(255), \"version\" integer NOT NULL, \"responsibility_cents\" bigint NOT NULL, \"paid_cents\" bigint NOT NULL, \"written_off_cents\" bigint NOT NULL, \"outstanding_cents\" bigint NOT NULL, \"credit_cents\" bigint NOT NULL, \"balance_updated_at\" varchar(24) NOT NULL, \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"patients_practice_name\" ON \"patients\" (\"practice_id\", \"last_name\", \"first_name\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"charges\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"service_date\" varchar(10) NOT NULL, \"procedure_code\" varchar(32) NOT NULL, \"description\" varchar(255), \"billed_cents\" bigint NOT NULL, \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"charges_patient_date\" ON \"charges\" (\"patient_id\", \"service_date\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"responsibilities\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"charge_id\" varchar(36) NOT NULL, \"kind\" varchar(16) NOT NULL, \"origin\" varchar(16) NOT NULL, \"status\" varchar(16) NOT NULL, \"amount_cents\" bigint NOT NULL, \"remittance_id\" varchar(36), \"reason_code\" varchar(5), \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL, \"cancelled_at\" varchar(24), \"cancelled_by\" varchar(255), \"cancel_reason\" varchar(255))");
    await queryRunner.query("CREATE INDEX \"responsibilities_patient\" ON \"responsibilities\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"responsibilities_charge\" ON \"responsibilities\" (\"charge_id\") ");
    await queryRunner.query("CREATE TABLE \"remittances\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"charge_id\" varchar(36) NOT NULL, \"external_id\" varchar(255) NOT NULL, \"adjustments\" text NOT NULL, \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE UNIQUE INDEX \"remittances_charge_external\" ON \"remittances\" (\"charge_id\", \"external_id\") ");
    await queryRunner.query("CREATE TABLE \"payments\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"amount_cents\" bigint NOT NULL, \"method\" varchar(16) NOT NULL, \"purpose\" varchar(16) NOT NULL, \"charge_id\" varchar(36), \"received_at\" varchar(24) NOT NULL, \"batch_id\" varchar(36), \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"payments_patient\" ON \"payments\" (\"patient_id\", \"received_at\") ");
    await queryRunner.query("CREATE TABLE \"allocations\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"payment_id\" varchar(36) NOT NULL, \"responsibility_id\" varchar(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"source\" varchar(16) NOT NULL, \"created_at\" varchar(24) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"allocations_patient\" ON \"allocations\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"allocations_responsibility\" ON \"allocations\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE INDEX \"allocations_payment\" ON \"allocations\" (\"payment_id\") ");
    await queryRunner.query("CREATE TABLE \"allocation_reductions\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"allocation_id\" varchar(36) NOT NULL, \"payment_id\" varchar(36) NOT NULL, \"responsibility_id\" varchar(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"cause\" varchar(16) NOT NULL, \"refund_id\" varchar(36), \"created_at\" varchar(24) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"allocation_reductions_patient\" ON \"allocation_reductions\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"allocation_reductions_responsibility\" ON \"allocation_reductions\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE INDEX \"allocation_reductions_allocation\" ON \"allocation_reductions\" (\"allocation_id\") ");
    await queryRunner.query("CREATE TABLE \"refunds\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"payment_id\" varchar(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"returned_cents\" bigint NOT NULL, \"method\" varchar(32) NOT NULL, \"reason\" varchar(255) NOT NULL, \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"refunds_patient\" ON \"refunds\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"refunds_payment\" ON \"refunds\" (\"payment_id\") ");
    await queryRunner.query("CREATE TABLE \"write_offs\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"responsibility_id\" varchar(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"reason\" varchar(32) NOT NULL, \"custom_reason\" varchar(255), \"note\" varchar(1000), \"batch_id\" varchar(36), \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"write_offs_patient\" ON \"write_offs\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"write_offs_responsibility\" ON \"write_offs\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE TABLE \"write_off_reversals\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"sequence\" bigint NOT NULL, \"write_off_id\" varchar(36) NOT NULL, \"responsibility_id\" varchar(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"reason\" varchar(255) NOT NULL, \"created_at\" varchar(24) NOT NULL, \"created_by\" varchar(255) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"write_off_reversals_patient\" ON \"write_off_reversals\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"write_off_reversals_responsibility\" ON \"write_off_reversals\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE INDEX \"write_off_reversals_write_off\" ON \"write_off_reversals\" (\"write_off_id\") ");
    await queryRunner.query("CREATE TABLE \"idempotency_keys\" (\"practice_id\" varchar(64) NOT NULL, \"key\" varchar(255) NOT NULL, \"operation\" varchar(64) NOT NULL, \"fingerprint\" varchar(64) NOT NULL, \"patient_id\" varchar(36) NOT NULL, \"result\" text NOT NULL, \"created_at\" varchar(24) NOT NULL, PRIMARY KEY (\"practice_id\", \"key\"))");
    await queryRunner.query("CREATE TABLE \"audit_events\" (\"id\" varchar(36) PRIMARY KEY NOT NULL, \"practice_id\" varchar(64) NOT NULL, \"occurred_at\" varchar(24) NOT NULL, \"operation\" varchar(64) NOT NULL, \"outcome\" varchar(16) NOT NULL, \"code\" varchar(64), \"patient_id\" varchar(36), \"entity_ids\" text NOT NULL, \"actor_id\" varchar(255) NOT NULL, \"actor_role\" varchar(32) NOT NULL, \"request_id\" varchar(64) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"audit_events_patient\" ON \"audit_events\" (\"practice_id\", \"patient_id\", \"occurred_at\") ");
    await queryRunner.query("CREATE INDEX \"audit_events_practice_time\" ON \"audit_events\" (\"practice_id\", \"occurred_at\", \"id\") ");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"audit_events_practice_time\"");
    await queryRunner.query("DROP INDEX \"audit_events_patient\"");
    await queryRunner.query("DROP TABLE \"audit_events\"");
    await queryRunner.query("DROP TABLE \"idempotency_keys\"");
    await queryRunner.query("DROP INDEX \"write_off_reversals_write_off\"");
    await queryRunner.query("DROP INDEX \"write_off_reversals_responsibility\"");
    await queryRunner.query("DROP INDEX \"write_off_reversals_patient\"");
    await queryRunner.query("DROP TABLE \"write_off_reversals\"");
    await queryRunner.query("DROP INDEX \"write_offs_responsibility\"");
    await queryRunner.query("DROP INDEX \"write_offs_patient\"");
    await queryRunner.query("DROP TABLE \"write_offs\"");
    await queryRunner.query("DROP INDEX \"refunds_payment\"");
    await queryRunner.query("DROP INDEX \"refunds_patient\"");
    await queryRunner.query("DROP TABLE \"refunds\"");
    await queryRunner.query("DROP INDEX \"allocation_reductions_allocation\"");
    await queryRunner.query("DROP INDEX \"allocation_reductions_responsibility\"");
    await queryRunner.query("DROP INDEX \"allocation_reductions_patient\"");
    await queryRunner.query("DROP TABLE \"allocation_reductions\"");
    await queryRunner.query("DROP INDEX \"allocations_payment\"");
    await queryRunner.query("DROP INDEX \"allocations_responsibility\"");
    await queryRunner.query("DROP INDEX \"allocations_patient\"");
    await queryRunner.query("DROP TABLE \"allocations\"");
    await queryRunner.query("DROP INDEX \"payments_patient\"");
    await queryRunner.query("DROP TABLE \"payments\"");
    await queryRunner.query("DROP INDEX \"remittances_charge_external\"");
    await queryRunner.query("DROP TABLE \"remittances\"");
    await queryRunner.query("DROP INDEX \"responsibilities_charge\"");
    await queryRunner.query("DROP INDEX \"responsibilities_patient\"");
    await queryRunner.query("DROP TABLE \"responsibilities\"");
    await queryRunner.query("DROP INDEX \"charges_patient_date\"");
    await queryRunner.query("DROP TABLE \"charges\"");
    await queryRunner.query("DROP INDEX \"patients_practice_name\"");
    await queryRunner.query("DROP TABLE \"patients\"");
    await queryRunner.query("DROP TABLE \"practices\"");
  }
}
