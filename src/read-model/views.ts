import type {
  LineState,
  PaymentMethod,
  PaymentPurpose,
  RefundMethod,
  WriteOffReason,
} from '../ledger';
import type { BalanceSnapshot, BalanceTotals, LineAmounts } from '../ledger';

/** What the API shows, as plain data read from committed rows. GraphQL types render these. */
export interface BalanceView extends BalanceTotals {
  patientId: string;
  version: number;
  updatedAt: string;
}

export interface PatientView {
  id: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string | null;
  mrn: string | null;
  createdAt: string;
  balance: BalanceView;
}

export interface ChargeView {
  id: string;
  patientId: string;
  serviceDate: string;
  procedureCode: string;
  description: string | null;
  billedCents: number;
  /** The claim's patient control number and the line's control number sent to the payer (docs/design.md §9.1). */
  claimNumber: string | null;
  lineControlNumber: string | null;
  createdAt: string;
  createdBy: string;
}

/** A PR line; `status` REVERSED is a line of a reversed remittance, with `cancelled*` saying when, who and why. */
export interface LineView extends LineState {
  patientId: string;
  remittanceId: string | null;
  reasonCode: string | null;
  createdAt: string;
  createdBy: string;
  cancelledAt: string | null;
  cancelledBy: string | null;
  cancelReason: string | null;
}

export interface WriteOffView {
  id: string;
  patientId: string;
  responsibilityId: string;
  amountCents: number;
  activeCents: number;
  reason: WriteOffReason;
  customReason: string | null;
  note: string | null;
  /** The posting batch that posted it, if one did. */
  batchId: string | null;
  createdAt: string;
  createdBy: string;
}

/** A removal of (part of) a write-off: by removeWriteOff, or by a remittance superseding the line. */
export interface WriteOffRemovalView {
  id: string;
  writeOffId: string;
  amountCents: number;
  reason: string;
  createdAt: string;
  createdBy: string;
}

export interface AllocationView {
  paymentId: string;
  responsibilityId: string;
  amountCents: number;
}

export interface PaymentView {
  id: string;
  patientId: string;
  amountCents: number;
  refundedCents: number;
  allocatedCents: number;
  /** The payment's credit: `amount = allocated + unallocated + refunded + voided` (docs/design.md §8.2). */
  unallocatedCents: number;
  /** What left the ledger when it was voided, and when: 0 and null while it stands. */
  voidedCents: number;
  voidedAt: string | null;
  method: PaymentMethod;
  purpose: PaymentPurpose;
  chargeId: string | null;
  receivedAt: string;
  /** The posting batch that posted it, if one did. */
  batchId: string | null;
  createdAt: string;
  createdBy: string;
  /** Where the money is now: net of refunds, credit moves and releases; lines with nothing left are omitted. */
  allocations: AllocationView[];
}

export interface RefundView {
  id: string;
  paymentId: string;
  patientId: string;
  amountCents: number;
  returnedCents: number;
  method: RefundMethod;
  reason: string;
  createdAt: string;
  createdBy: string;
}

export const TimelineKinds = [
  'CHARGE_CREATED',
  'PR_ADDED',
  'REMITTANCE',
  'PAYMENT',
  'PAYMENT_MOVED',
  'REFUND',
  'MOVED_TO_CREDIT',
  'PAYMENT_RELEASED',
  'WRITE_OFF',
  'WRITE_OFF_REMOVAL',
  'CANCELLATION',
  'PAYMENT_VOIDED',
  'PR_REVERSED',
  'CREDIT_APPLIED',
  'CREDIT_RETURNED',
] as const;
export type TimelineKind = (typeof TimelineKinds)[number];

/** One entry of a charge's history: who did what to which line, and why. */
export interface TimelineEntry {
  /** `<kind>:<rowId>`: unique among all entries (and all ids of the schema). */
  id: string;
  rowId: string;
  chargeId: string;
  occurredAt: string;
  kind: TimelineKind;
  amountCents: number | null;
  responsibilityId: string | null;
  actorId: string;
  reason: string | null;
  /** The method of the refund behind a REFUND or MOVED_TO_CREDIT entry. */
  refundMethod: RefundMethod | null;
  /** The note of a WRITE_OFF entry, when it has one. */
  note: string | null;
}

export const PostingBatchKinds = ['DEPOSIT', 'REMITTANCE', 'ADJUSTMENT'] as const;
export type PostingBatchKind = (typeof PostingBatchKinds)[number];
export const PostingBatchStatuses = ['DRAFT', 'POSTED', 'NEGATED'] as const;
export type PostingBatchStatus = (typeof PostingBatchStatuses)[number];
export const PostingEntryKinds = ['PAYMENT', 'WRITE_OFF', 'REMOVE_WRITE_OFF', 'APPLY_CREDIT', 'REMITTANCE', 'REVERSE_REMITTANCE'] as const;
export type PostingEntryKind = (typeof PostingEntryKinds)[number];

/** What an 835 import could not match or settle, kept on its batch (docs/design.md §9.1). */
export interface RemittanceIssueView {
  code: string;
  message: string;
  claimNumber: string | null;
  payerClaimNumber: string | null;
  /** The number of the file's segment it is about. */
  segment: number | null;
}

/** A posting batch (docs/design.md §8.1). */
export interface PostingBatchView {
  id: string;
  kind: PostingBatchKind;
  status: PostingBatchStatus;
  reference: string;
  payerName: string | null;
  depositDate: string | null;
  expectedTotalCents: number | null;
  paymentTotalCents: number;
  issues: RemittanceIssueView[];
  createdAt: string;
  createdBy: string;
  createdRole: string;
  postedAt: string | null;
  postedBy: string | null;
  postedRole: string | null;
  negatesId: string | null;
  negatedById: string | null;
}

/** One entry of a batch, and the rows it names. */
export interface PostingEntryView {
  id: string;
  batchId: string;
  position: number;
  kind: PostingEntryKind;
  patientId: string;
  amountCents: number;
  chargeId: string | null;
  responsibilityId: string | null;
  paymentId: string | null;
  writeOffId: string | null;
}

/**
 * A balance without an identity (a past one, `balanceAsOf`, or a previewed one; docs/design.md §8.5) and a line's
 * previewed amounts: defined once, in the ledger, where the store computes them; named here as views for GraphQL.
 */
export type { BalanceSnapshot as BalanceSnapshotView, LineAmounts as LineAmountsView } from '../ledger';

/** What posting a batch would do now, and the token that posting it must present (docs/design.md §8.1). */
export interface PostingPreviewView {
  valid: boolean;
  userErrors: { code: string; message: string; field?: string[] }[];
  patients: { patientId: string; before: BalanceSnapshot; after: BalanceSnapshot }[];
  /** `before` is null for a line the batch creates. */
  lines: { responsibilityId: string; before: LineAmounts | null; after: LineAmounts }[];
  token: string;
}
