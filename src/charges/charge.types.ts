import { Extensions, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo, RefundMethodEnum, ResponsibilityKindEnum, TimelineKindEnum } from '../graphql/common.types';
import { BalancePayload } from '../balances/balance.types';
import { MAX_LINES_PER_CHARGE, MAX_PAGE_SIZE, type RefundMethod, type ResponsibilityKind } from '../ledger';
import type { TimelineKind } from '../read-model/views';
import { ChargeView } from '../read-model/views';

@ObjectType({ simpleResolvers: true, description: 'A billed visit (date of service, procedure, billed amount) and its PR lines.' })
export class Charge {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field({ description: 'Date of service, YYYY-MM-DD.' })
  serviceDate: string;

  @Field({ description: 'Procedure code (CPT/HCPCS), e.g. 99213.' })
  procedureCode: string;

  @Field(() => String, { nullable: true, description: 'What was done, in words.' })
  description: string | null;

  @Field(() => Int, { description: 'What was billed to insurance, in cents. Active PR never adds up to more.' })
  billedCents: number;

  @Field(() => String, { nullable: true, description: "The patient control number sent on the claim: an insurer's 835 names it (CLP01)." })
  claimNumber: string | null;

  @Field(() => String, { nullable: true, description: "The line item control number sent for this service line: an insurer's 835 names it (REF*6R)." })
  lineControlNumber: string | null;

  @Field({ description: 'When the charge was entered (ISO-8601 UTC).' })
  createdAt: string;
}

@ObjectType({ simpleResolvers: true, description: "One event in a charge's history: what happened, to which line, for how much, by whom and why." })
export class TimelineEntry {
  @Field(() => ID, { description: 'Unique id of the entry, `<kind>:<rowId>` (one row can be behind two entries: a line added, then cancelled).' })
  id: string;

  @Field(() => ID, { description: 'Id of the row behind the event (payment allocation, refund, write-off, line, ...).' })
  rowId: string;

  @Field({ description: 'When (ISO-8601 UTC).' })
  occurredAt: string;

  @Field(() => TimelineKindEnum, { description: 'What happened.' })
  kind: TimelineKind;

  @Field(() => Int, { nullable: true, description: 'Cents involved, when there are any.' })
  amountCents: number | null;

  @Field(() => ID, { nullable: true, description: 'The PR line concerned, when there is one.' })
  responsibilityId: string | null;

  @Field({ description: 'Who (staff user id).' })
  actorId: string;

  @Field(() => String, { nullable: true, description: 'Why: the reason given, or the payment method, origin or remittance reference.' })
  reason: string | null;

  @Field(() => RefundMethodEnum, { nullable: true, description: 'How the refund behind a REFUND or MOVED_TO_CREDIT entry was made; null for every other entry.' })
  refundMethod: RefundMethod | null;

  @Field(() => String, { nullable: true, description: "The write-off's note, on a WRITE_OFF entry that has one; null otherwise." })
  note: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A charge in a list.' })
export class ChargeEdge {
  @Field({ description: 'Pass as `after` to continue after this charge.' })
  cursor: string;

  @Field(() => Charge, { description: 'The charge.' })
  node: ChargeView;
}

@ObjectType({ simpleResolvers: true, description: "A page of a patient's charges, newest date of service first." })
export class ChargeConnection {
  @Field(() => [ChargeEdge], { description: `The charges on this page: \`first\` of them, at most ${MAX_PAGE_SIZE}.` })
  @Extensions({ maxItems: MAX_PAGE_SIZE })
  edges: ChargeEdge[];

  @Field(() => PageInfo, { description: 'Where this page sits in the list.' })
  pageInfo: PageInfo;
}

@InputType({ description: 'A PR line entered by staff with a charge (origin STAFF).' })
export class ResponsibilityLineInput {
  @Field(() => ResponsibilityKindEnum, { description: 'What the line is for.' })
  kind: ResponsibilityKind;

  @Field(() => Int, { description: 'Amount in cents, greater than 0.' })
  amountCents: number;
}

@InputType({ description: 'A new charge for a patient, with any PR lines staff enter with it.' })
export class CreateChargeInput {
  @Field(() => ID, { description: 'The patient.' })
  patientId: string;

  @Field({ description: 'Date of service, YYYY-MM-DD.' })
  serviceDate: string;

  @Field({ description: 'Procedure code, letters, digits, dots and dashes (up to 32).' })
  procedureCode: string;

  @Field(() => String, { nullable: true, description: 'What was done, in words (up to 255 characters).' })
  description?: string | null;

  @Field(() => Int, { description: 'Billed amount in cents, greater than 0.' })
  billedCents: number;

  @Field(() => [ResponsibilityLineInput], {
    nullable: true,
    defaultValue: [],
    description:
      `PR lines (origin STAFF); together at most the billed amount. Empty or omitted for a charge whose PR awaits the ` +
      `insurer's remittance. At most ${MAX_LINES_PER_CHARGE}.`,
  })
  @Extensions({ maxItems: MAX_LINES_PER_CHARGE })
  responsibilities?: ResponsibilityLineInput[] | null;

  @Field(() => String, { nullable: true, description: 'The patient control number sent on the claim (up to 64 characters), so that remittances find the charge.' })
  claimNumber?: string | null;

  @Field(() => String, { nullable: true, description: 'The line item control number sent for this service line (up to 64 characters), so that remittances find the charge.' })
  lineControlNumber?: string | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of createCharge.' })
export class CreateChargePayload extends BalancePayload {
  @Field(() => Charge, { nullable: true, description: 'The new charge; null when refused.' })
  charge: ChargeView | null;
}
