/**
 * Every feature's entities: the tables the migrations build, as TypeORM sees them. Listed here at the top and handed
 * to the database layer, which knows no feature (docs/design.md §7). Only the schema tools need them: the server's SQL
 * names its tables itself.
 */
import { PracticeEntity } from './practices/practice.entity';
import { PatientEntity } from './patients/patient.entity';
import { ChargeEntity } from './charges/charge.entity';
import { ResponsibilityEntity } from './responsibilities/responsibility.entity';
import { RemittanceEntity, RemittanceReversalEntity } from './remittances/remittance.entity';
import { AllocationEntity, AllocationReductionEntity, PaymentEntity, PaymentVoidEntity, RefundEntity } from './payments/payment.entity';
import { WriteOffEntity, WriteOffReversalEntity } from './write-offs/write-off.entity';
import { PostingBatchEntity, PostingEntryEntity } from './posting/posting.entity';
import { IdempotencyKeyEntity } from './idempotency/idempotency.entity';
import { AuditEventEntity, AuditEventPatientEntity } from './audit/audit-event.entity';
import { WriteOffRuleEntity } from './write-off-rules/write-off-rule.entity';
import { RemittanceImportEntity } from './era/remittance-import.entity';

export const ENTITIES = [
  PracticeEntity,
  PatientEntity,
  ChargeEntity,
  ResponsibilityEntity,
  RemittanceEntity,
  RemittanceReversalEntity,
  PaymentEntity,
  AllocationEntity,
  AllocationReductionEntity,
  RefundEntity,
  PaymentVoidEntity,
  WriteOffEntity,
  WriteOffReversalEntity,
  PostingBatchEntity,
  PostingEntryEntity,
  IdempotencyKeyEntity,
  AuditEventEntity,
  AuditEventPatientEntity,
  WriteOffRuleEntity,
  RemittanceImportEntity,
];
