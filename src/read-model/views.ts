import type {
  LineState,
  PaymentMethod,
  PaymentPurpose,
  RefundMethod,
  WriteOffReason,
} from '../ledger';
import type { BalanceTotals } from '../ledger';

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
  createdAt: string;
  createdBy: string;
}

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
  unallocatedCents: number;
  method: PaymentMethod;
  purpose: PaymentPurpose;
  chargeId: string | null;
  receivedAt: string;
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
