/** The vocabulary of docs/design.md §2, as plain data. Nothing here knows about storage or GraphQL. */

export const ResponsibilityKinds = ['COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'NON_COVERED', 'OTHER', 'SELF_PAY', 'CUSTOM'] as const;
export type ResponsibilityKind = (typeof ResponsibilityKinds)[number];

export const ResponsibilityOrigins = ['REMITTANCE', 'ESTIMATED', 'SELF_PAY', 'STAFF'] as const;
export type ResponsibilityOrigin = (typeof ResponsibilityOrigins)[number];

/** CANCELLED: PR that should never have existed (§2.4); REVERSED: PR of a remittance the insurer reversed (§8.3). */
export const ResponsibilityStatuses = ['ACTIVE', 'CANCELLED', 'REVERSED'] as const;
export type ResponsibilityStatus = (typeof ResponsibilityStatuses)[number];

export const PaymentMethods = ['CASH', 'CHECK', 'CARD', 'OTHER'] as const;
export type PaymentMethod = (typeof PaymentMethods)[number];

export const PaymentPurposes = ['BALANCE', 'COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'SELF_PAY'] as const;
export type PaymentPurpose = (typeof PaymentPurposes)[number];

export const RefundMethods = ['ACCOUNT_CREDIT', 'ORIGINAL_CARD', 'EXTERNAL_CASH_OR_CARD', 'EXTERNAL_CHECK'] as const;
export type RefundMethod = (typeof RefundMethods)[number];

/** Why an allocation shrank. Every cent taken off a line has one of these behind it. */
export const AllocationReductionCauses = ['REFUND', 'ACCOUNT_CREDIT', 'CANCELLATION', 'SUPERSEDED', 'VOID', 'REVERSAL', 'CREDIT_RETURNED'] as const;
export type AllocationReductionCause = (typeof AllocationReductionCauses)[number];

/** A PR line as the rules see it: its amount and what currently sits against it. */
export interface LineState {
  id: string;
  chargeId: string;
  kind: ResponsibilityKind;
  origin: ResponsibilityOrigin;
  status: ResponsibilityStatus;
  amountCents: number;
  /** Allocations net of refunds, credit moves and releases. */
  paidCents: number;
  /** Write-offs net of their reversals. */
  writtenOffCents: number;
}

/** What one payment currently has on one line. */
export interface AllocationState {
  id: string;
  responsibilityId: string;
  /** What is still allocated: the original allocation less every reduction. */
  remainingCents: number;
  /** Ordering key: larger is newer. */
  sequence: number;
}

export interface PaymentState {
  id: string;
  amountCents: number;
  /** Money actually returned to the patient. */
  refundedCents: number;
  /** What left the ledger when the payment was voided (§8.2); 0 for a payment that stands. */
  voidedCents: number;
  allocations: AllocationState[];
}

export interface WriteOffState {
  id: string;
  responsibilityId: string;
  amountCents: number;
  /** Amount less its reversals. */
  activeCents: number;
}
