import { Extensions, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo, PaymentMethodEnum, PaymentPurposeEnum, RefundMethodEnum } from '../graphql/common.types';
import { BalancePayload } from '../balances/balance.types';
import { MAX_ALLOCATIONS_PER_PAYMENT, MAX_PAGE_SIZE, MAX_PAYMENTS_PER_CREDIT, type PaymentMethod, type PaymentPurpose, type RefundMethod } from '../ledger';
import { PaymentView, RefundView } from '../read-model/views';

@ObjectType({ simpleResolvers: true, description: 'Part of a payment that sits on a PR line now (net of refunds, credit moves and releases).' })
export class Allocation {
  @Field(() => Int, { description: 'Cents of the payment on that line.' })
  amountCents: number;
}

@ObjectType({ simpleResolvers: true, description: 'Money a patient paid. Every cent is allocated to a line, unallocated (credit), refunded, or voided.' })
export class Payment {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field(() => Int, { description: 'What was paid, in cents.' })
  amountCents: number;

  @Field(() => Int, { description: 'What has been returned to the patient, in cents.' })
  refundedCents: number;

  @Field(() => Int, { description: 'What sits on PR lines now, in cents.' })
  allocatedCents: number;

  @Field(() => Int, { description: "What is neither allocated, returned nor voided: the patient's credit from this payment, in cents." })
  unallocatedCents: number;

  @Field(() => Int, { description: 'What left the ledger when the payment was voided, in cents; 0 while it stands.' })
  voidedCents: number;

  @Field(() => String, { nullable: true, description: 'When it was voided (ISO-8601 UTC); null while it stands.' })
  voidedAt: string | null;

  @Field(() => PaymentMethodEnum, { description: 'How it was paid.' })
  method: PaymentMethod;

  @Field(() => PaymentPurposeEnum, { description: 'What it was for.' })
  purpose: PaymentPurpose;

  @Field({ description: 'When the money was received (ISO-8601 UTC).' })
  receivedAt: string;

  @Field({ description: 'When it was recorded (ISO-8601 UTC).' })
  createdAt: string;

  @Field({ description: 'Who recorded it (staff user id).' })
  createdBy: string;
}

@ObjectType({ simpleResolvers: true, description: 'A payment in a list.' })
export class PaymentEdge {
  @Field({ description: 'Pass as `after` to continue after this payment.' })
  cursor: string;

  @Field(() => Payment, { description: 'The payment.' })
  node: PaymentView;
}

@ObjectType({ simpleResolvers: true, description: "A page of a patient's payments, most recently received first." })
export class PaymentConnection {
  @Field(() => [PaymentEdge], { description: `The payments on this page: \`first\` of them, at most ${MAX_PAGE_SIZE}.` })
  @Extensions({ maxItems: MAX_PAGE_SIZE })
  edges: PaymentEdge[];

  @Field(() => PageInfo, { description: 'Where this page sits in the list.' })
  pageInfo: PageInfo;
}

@ObjectType({ simpleResolvers: true, description: 'A refund of (part of) one payment.' })
export class Refund {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field(() => Int, { description: 'Cents refunded (for ACCOUNT_CREDIT: cents moved off PR lines into credit).' })
  amountCents: number;

  @Field(() => RefundMethodEnum, { description: 'How.' })
  method: RefundMethod;

  @Field({ description: 'Why.' })
  reason: string;

  @Field({ description: 'When (ISO-8601 UTC).' })
  createdAt: string;

  @Field({ description: 'Who (staff user id).' })
  createdBy: string;
}

@InputType({ description: 'Put part of a balance payment on a PR line.' })
export class AllocationInput {
  @Field(() => ID, { description: 'A PR line of the same patient.' })
  responsibilityId: string;

  @Field(() => Int, { description: 'Cents, more than 0 and at most what is open on the line.' })
  amountCents: number;
}

@InputType({ description: 'Record a payment from a patient.' })
export class RecordPaymentInput {
  @Field(() => ID, { description: 'The patient who paid.' })
  patientId: string;

  @Field(() => Int, { description: 'Cents paid, more than 0.' })
  amountCents: number;

  @Field(() => PaymentMethodEnum, { description: 'How it was paid.' })
  method: PaymentMethod;

  @Field(() => PaymentPurposeEnum, { nullable: true, description: 'BALANCE (default), or an up-front COPAY, COINSURANCE, DEDUCTIBLE, or SELF_PAY (each needs chargeId).' })
  purpose?: PaymentPurpose | null;

  @Field(() => ID, { nullable: true, description: 'The charge (visit) an up-front or self-pay payment is for.' })
  chargeId?: string | null;

  @Field(() => [AllocationInput], {
    nullable: true,
    description: `BALANCE payments: where the money goes. What is not allocated becomes credit. At most ${MAX_ALLOCATIONS_PER_PAYMENT}.`,
  })
  @Extensions({ maxItems: MAX_ALLOCATIONS_PER_PAYMENT })
  allocations?: AllocationInput[] | null;

  @Field(() => String, { nullable: true, description: 'When it was received, ISO-8601 with a time zone; default now.' })
  receivedAt?: string | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Refund (part of) a payment.' })
export class RefundPaymentInput {
  @Field(() => ID, { description: 'The payment.' })
  paymentId: string;

  @Field(() => Int, { nullable: true, description: 'Cents; omit to refund all the method allows.' })
  amountCents?: number | null;

  @Field(() => RefundMethodEnum, { description: 'ACCOUNT_CREDIT keeps the money as credit; the others return it.' })
  method: RefundMethod;

  @Field({ description: 'Why (1 to 255 characters).' })
  reason: string;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Void a payment entered in error or a bounced check: the whole payment leaves the ledger and its lines reopen.' })
export class VoidPaymentInput {
  @Field(() => ID, { description: 'The payment: refused with PAYMENT_HAS_REFUNDS once money was returned from it.' })
  paymentId: string;

  @Field({ description: 'Why (1 to 255 characters).' })
  reason: string;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@InputType({ description: "Move a patient's credit (unallocated payment money) to open PR lines." })
export class ApplyCreditInput {
  @Field(() => ID, { description: 'The patient.' })
  patientId: string;

  @Field(() => [AllocationInput], {
    nullable: true,
    description:
      `Where the credit goes; omit to pay the oldest date of service first, then the oldest line, until credit or open PR runs ` +
      `out. The money comes from the patient's payments oldest first. At most ${MAX_ALLOCATIONS_PER_PAYMENT}.`,
  })
  @Extensions({ maxItems: MAX_ALLOCATIONS_PER_PAYMENT })
  allocations?: AllocationInput[] | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of recordPayment.' })
export class RecordPaymentPayload extends BalancePayload {
  @Field(() => Payment, { nullable: true, description: 'The new payment; null when refused.' })
  payment: PaymentView | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of refundPayment.' })
export class RefundPaymentPayload extends BalancePayload {
  @Field(() => Refund, { nullable: true, description: 'The new refund; null when refused.' })
  refund: RefundView | null;

  @Field(() => Payment, { nullable: true, description: 'The payment as it is now; null when refused.' })
  payment: PaymentView | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of voidPayment.' })
export class VoidPaymentPayload extends BalancePayload {
  @Field(() => Payment, { nullable: true, description: 'The voided payment; null when refused.' })
  payment: PaymentView | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of applyCredit.' })
export class ApplyCreditPayload extends BalancePayload {
  @Field(() => [Payment], { description: `The payments whose credit was applied, as they are now; empty when refused. At most ${MAX_PAYMENTS_PER_CREDIT}.` })
  @Extensions({ maxItems: MAX_PAYMENTS_PER_CREDIT })
  payments: PaymentView[];
}

