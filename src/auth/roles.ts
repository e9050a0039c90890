/** Staff roles (docs/design.md §4) and what each may do. This file is the one place that decides. */
export const Roles = ['VIEWER', 'FRONT_DESK', 'BILLING', 'BILLING_MANAGER', 'ADMIN'] as const;
export type Role = (typeof Roles)[number];

export const Permission = {
  /** Read anything of the practice and subscribe to its balances. */
  READ: 'READ',
  /** Patients, charges, payments, write-offs, removals, cancellations, applying credit, DEPOSIT batches. */
  POST: 'POST',
  /** Remittances and their reversals, REMITTANCE and ADJUSTMENT batches, running write-off rules, importing 835 files. */
  RECORD_REMITTANCE: 'RECORD_REMITTANCE',
  /** Refunds, voiding a payment, negating a posted batch, managing write-off rules. */
  REFUND: 'REFUND',
  READ_AUDIT: 'READ_AUDIT',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

const GRANTS: Record<Role, readonly Permission[]> = {
  VIEWER: ['READ'],
  FRONT_DESK: ['READ', 'POST'],
  BILLING: ['READ', 'POST', 'RECORD_REMITTANCE'],
  BILLING_MANAGER: ['READ', 'POST', 'RECORD_REMITTANCE', 'REFUND', 'READ_AUDIT'],
  ADMIN: ['READ', 'POST', 'RECORD_REMITTANCE', 'REFUND', 'READ_AUDIT'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (Roles as readonly string[]).includes(value);
}

export function roleCan(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/**
 * The permission every root field needs. A root field missing here is refused to everyone (fail closed);
 * a test checks that every field of the schema is listed.
 */
export const OPERATION_PERMISSIONS: Record<string, Permission> = {
  'Query.patient': 'READ',
  'Query.patients': 'READ',
  'Query.charge': 'READ',
  'Query.responsibility': 'READ',
  'Query.payment': 'READ',
  'Query.writeOffReasons': 'READ',
  'Query.auditTrail': 'READ_AUDIT',
  'Query.postingBatch': 'READ',
  'Query.postingBatches': 'READ',
  'Query.writeOffRules': 'READ',
  'Mutation.createPatient': 'POST',
  'Mutation.createCharge': 'POST',
  'Mutation.recordPayment': 'POST',
  'Mutation.writeOff': 'POST',
  'Mutation.removeWriteOff': 'POST',
  'Mutation.cancelPR': 'POST',
  'Mutation.applyCredit': 'POST',
  // Batches: the least any kind needs; the batch's kind decides the rest (BATCH_KIND_PERMISSIONS, checked by the service).
  'Mutation.createPostingBatch': 'POST',
  'Mutation.addPostingEntries': 'POST',
  'Mutation.removePostingEntry': 'POST',
  'Mutation.postPostingBatch': 'POST',
  'Mutation.recordRemittance': 'RECORD_REMITTANCE',
  'Mutation.reverseRemittance': 'RECORD_REMITTANCE',
  'Mutation.refundPayment': 'REFUND',
  'Mutation.voidPayment': 'REFUND',
  'Mutation.negatePostingBatch': 'REFUND',
  // Write-off rules (docs/design.md §9.2): managed like refunds, run like remittances (an ADJUSTMENT batch).
  'Mutation.createWriteOffRule': 'REFUND',
  'Mutation.updateWriteOffRule': 'REFUND',
  'Mutation.runWriteOffRule': 'RECORD_REMITTANCE',
  // An 835 import makes REMITTANCE batches (docs/design.md §9.1).
  'Mutation.importRemittanceFile': 'RECORD_REMITTANCE',
  'Subscription.patientBalanceChanged': 'READ',
  'Subscription.patientBalancesChanged': 'READ',
  'Subscription.practiceBalanceChanged': 'READ',
};

/**
 * What creating, editing and posting a batch of each kind needs (docs/design.md §8.1): a deposit is payments, the
 * others are remittance work. Keyed by the batch kinds of the posting feature.
 */
export const BATCH_KIND_PERMISSIONS: Record<'DEPOSIT' | 'REMITTANCE' | 'ADJUSTMENT', Permission> = {
  DEPOSIT: 'POST',
  REMITTANCE: 'RECORD_REMITTANCE',
  ADJUSTMENT: 'RECORD_REMITTANCE',
};

export function operationAllowed(role: Role, operation: string): boolean {
  const permission = OPERATION_PERMISSIONS[operation];
  return permission !== undefined && roleCan(role, permission);
}
