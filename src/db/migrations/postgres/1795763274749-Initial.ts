import { MigrationInterface, QueryRunner } from 'typeorm';

/** Generated from the entities for PostgreSQL. */
export class Initial1795763274749 implements MigrationInterface {
  name = 'Initial1795763274749';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"practices\" (\"id\" character varying(64) NOT NULL, \"created_at\" character varying(24) NOT NULL, CONSTRAINT \"PK_0934829c5859a843625e6ff1c34\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE TABLE \"patients\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"first_name\" character varying(255) NOT NULL, \"last_name\" character varying(255) NOT NULL, \"date_of_birth\" character varying(10), \"mrn\" character varying(255), \"version\" integer NOT NULL, \"responsibility_cents\" bigint NOT NULL, \"paid_cents\" bigint NOT NULL, \"written_off_cents\" bigint NOT NULL, \"outstanding_cents\" bigint NOT NULL, \"credit_cents\" bigint NOT NULL, \"balance_updated_at\" character varying(24) NOT NULL, \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_a7f0b9fcbb3469d5ec0b0aceaa7\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"patients_practice_name\" ON \"patients\" (\"practice_id\", \"last_name\", \"first_name\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"charges\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"service_date\" character varying(10) NOT NULL, \"procedure_code\" character varying(32) NOT NULL, \"description\" character varying(255), \"billed_cents\" bigint NOT NULL, \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_0c6feb10df0fa460714f8464dce\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"charges_patient_date\" ON \"charges\" (\"patient_id\", \"service_date\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"responsibilities\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"charge_id\" character varying(36) NOT NULL, \"kind\" character varying(16) NOT NULL, \"origin\" character varying(16) NOT NULL, \"status\" character varying(16) NOT NULL, \"amount_cents\" bigint NOT NULL, \"remittance_id\" character varying(36), \"reason_code\" character varying(5), \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, \"cancelled_at\" character varying(24), \"cancelled_by\" character varying(255), \"cancel_reason\" character varying(255), CONSTRAINT \"PK_e22aa58654a4ecfe29d882b85eb\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"responsibilities_patient\" ON \"responsibilities\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"responsibilities_charge\" ON \"responsibilities\" (\"charge_id\") ");
    await queryRunner.query("CREATE TABLE \"remittances\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"charge_id\" character varying(36) NOT NULL, \"external_id\" character varying(255) NOT NULL, \"adjustments\" text NOT NULL, \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_8fb70e358321fa66e0674380740\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"remittances_charge_external\" ON \"remittances\" (\"charge_id\", \"external_id\") ");
    await queryRunner.query("CREATE TABLE \"payments\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"amount_cents\" bigint NOT NULL, \"method\" character varying(16) NOT NULL, \"purpose\" character varying(16) NOT NULL, \"charge_id\" character varying(36), \"received_at\" character varying(24) NOT NULL, \"batch_id\" character varying(36), \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_197ab7af18c93fbb0c9b28b4a59\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"payments_patient\" ON \"payments\" (\"patient_id\", \"received_at\") ");
    await queryRunner.query("CREATE TABLE \"allocations\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"payment_id\" character varying(36) NOT NULL, \"responsibility_id\" character varying(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"source\" character varying(16) NOT NULL, \"created_at\" character varying(24) NOT NULL, CONSTRAINT \"PK_ca63099fc248466264af0fa6f1f\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"allocations_patient\" ON \"allocations\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"allocations_responsibility\" ON \"allocations\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE INDEX \"allocations_payment\" ON \"allocations\" (\"payment_id\") ");
    await queryRunner.query("CREATE TABLE \"allocation_reductions\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"allocation_id\" character varying(36) NOT NULL, \"payment_id\" character varying(36) NOT NULL, \"responsibility_id\" character varying(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"cause\" character varying(16) NOT NULL, \"refund_id\" character varying(36), \"created_at\" character varying(24) NOT NULL, CONSTRAINT \"PK_678c7b19f729b590cdc2f147578\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"allocation_reductions_patient\" ON \"allocation_reductions\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"allocation_reductions_responsibility\" ON \"allocation_reductions\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE INDEX \"allocation_reductions_allocation\" ON \"allocation_reductions\" (\"allocation_id\") ");
    await queryRunner.query("CREATE TABLE \"refunds\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"payment_id\" character varying(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"returned_cents\" bigint NOT NULL, \"method\" character varying(32) NOT NULL, \"reason\" character varying(255) NOT NULL, \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_5106efb01eeda7e49a78b869738\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"refunds_patient\" ON \"refunds\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"refunds_payment\" ON \"refunds\" (\"payment_id\") ");
    await queryRunner.query("CREATE TABLE \"write_offs\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"responsibility_id\" character varying(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"reason\" character varying(32) NOT NULL, \"custom_reason\" character varying(255), \"note\" character varying(1000), \"batch_id\" character varying(36), \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_5ea700b624a2713f69dcf5998ae\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"write_offs_patient\" ON \"write_offs\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"write_offs_responsibility\" ON \"write_offs\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE TABLE \"write_off_reversals\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"sequence\" bigint NOT NULL, \"write_off_id\" character varying(36) NOT NULL, \"responsibility_id\" character varying(36) NOT NULL, \"amount_cents\" bigint NOT NULL, \"reason\" character varying(255) NOT NULL, \"created_at\" character varying(24) NOT NULL, \"created_by\" character varying(255) NOT NULL, CONSTRAINT \"PK_1cad46743a7f5840653b1d12567\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"write_off_reversals_patient\" ON \"write_off_reversals\" (\"patient_id\") ");
    await queryRunner.query("CREATE INDEX \"write_off_reversals_responsibility\" ON \"write_off_reversals\" (\"responsibility_id\") ");
    await queryRunner.query("CREATE INDEX \"write_off_reversals_write_off\" ON \"write_off_reversals\" (\"write_off_id\") ");
    await queryRunner.query("CREATE TABLE \"idempotency_keys\" (\"practice_id\" character varying(64) NOT NULL, \"key\" character varying(255) NOT NULL, \"operation\" character varying(64) NOT NULL, \"fingerprint\" character varying(64) NOT NULL, \"patient_id\" character varying(36) NOT NULL, \"result\" text NOT NULL, \"created_at\" character varying(24) NOT NULL, CONSTRAINT \"PK_d45b9b0a3e09c5f509e9f1f728c\" PRIMARY KEY (\"practice_id\", \"key\"))");
    await queryRunner.query("CREATE TABLE \"audit_events\" (\"id\" character varying(36) NOT NULL, \"practice_id\" character varying(64) NOT NULL, \"occurred_at\" character varying(24) NOT NULL, \"operation\" character varying(64) NOT NULL, \"outcome\" character varying(16) NOT NULL, \"code\" character varying(64), \"patient_id\" character varying(36), \"entity_ids\" text NOT NULL, \"actor_id\" character varying(255) NOT NULL, \"actor_role\" character varying(32) NOT NULL, \"request_id\" character varying(64) NOT NULL, CONSTRAINT \"PK_910f64d901a5c3e9878f0d4a407\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"audit_events_patient\" ON \"audit_events\" (\"practice_id\", \"patient_id\", \"occurred_at\") ");
    await queryRunner.query("CREATE INDEX \"audit_events_practice_time\" ON \"audit_events\" (\"practice_id\", \"occurred_at\", \"id\") ");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"audit_events_practice_time\"");
    await queryRunner.query("DROP INDEX \"public\".\"audit_events_patient\"");
    await queryRunner.query("DROP TABLE \"audit_events\"");
    await queryRunner.query("DROP TABLE \"idempotency_keys\"");
    await queryRunner.query("DROP INDEX \"public\".\"write_off_reversals_write_off\"");
    await queryRunner.query("DROP INDEX \"public\".\"write_off_reversals_responsibility\"");
    await queryRunner.query("DROP INDEX \"public\".\"write_off_reversals_patient\"");
    await queryRunner.query("DROP TABLE \"write_off_reversals\"");
    await queryRunner.query("DROP INDEX \"public\".\"write_offs_responsibility\"");
    await queryRunner.query("DROP INDEX \"public\".\"write_offs_patient\"");
    await queryRunner.query("DROP TABLE \"write_offs\"");
    await queryRunner.query("DROP INDEX \"public\".\"refunds_payment\"");
    await queryRunner.query("DROP INDEX \"public\".\"refunds_patient\"");
    await queryRunner.query("DROP TABLE \"refunds\"");
    await queryRunner.query("DROP INDEX \"public\".\"allocation_reductions_allocation\"");
    await queryRunner.query("DROP INDEX \"public\".\"allocation_reductions_responsibility\"");
    await queryRunner.query("DROP INDEX \"public\".\"allocation_reductions_patient\"");
    await queryRunner.query("DROP TABLE \"allocation_reductions\"");
    await queryRunner.query("DROP INDEX \"public\".\"allocations_payment\"");
    await queryRunner.query("DROP INDEX \"public\".\"allocations_responsibility\"");
    await queryRunner.query("DROP INDEX \"public\".\"allocations_patient\"");
    await queryRunner.query("DROP TABLE \"allocations\"");
    await queryRunner.query("DROP INDEX \"public\".\"payments_patient\"");
    await queryRunner.query("DROP TABLE \"payments\"");
    await queryRunner.query("DROP INDEX \"public\".\"remittances_charge_external\"");
    await queryRunner.query("DROP TABLE \"remittances\"");
    await queryRunner.query("DROP INDEX \"public\".\"responsibilities_charge\"");
    await queryRunner.query("DROP INDEX \"public\".\"responsibilities_patient\"");
    await queryRunner.query("DROP TABLE \"responsibilities\"");
    await queryRunner.query("DROP INDEX \"public\".\"charges_patient_date\"");
    await queryRunner.query("DROP TABLE \"charges\"");
    await queryRunner.query("DROP INDEX \"public\".\"patients_practice_name\"");
    await queryRunner.query("DROP TABLE \"patients\"");
    await queryRunner.query("DROP TABLE \"practices\"");
  }
}
