import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { WriteOffReasonEnum } from '../graphql/common.types';
import { BalancePayload } from '../balances/balance.types';
import { Responsibility } from '../responsibilities/responsibility.types';
import type { WriteOffReason } from '../ledger';
import { LineView, WriteOffView } from '../read-model/views';

@ObjectType({ simpleResolvers: true, description: 'A write-off of part or all of a PR line. Fully reversible with removeWriteOff.' })
export class WriteOff {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field(() => Int, { description: 'Amount written off, in cents.' })
  amountCents: number;

  @Field(() => Int, { description: 'What is still written off after removals, in cents.' })
  activeCents: number;

  @Field(() => WriteOffReasonEnum, { description: 'Standard reason code.' })
  reason: WriteOffReason;

  @Field(() => String, { nullable: true, description: 'The typed reason, when `reason` is OTHER.' })
  customReason: string | null;

  @Field(() => String, { nullable: true, description: 'Free-text note.' })
  note: string | null;

  @Field({ description: 'When (ISO-8601 UTC).' })
  createdAt: string;

  @Field({ description: 'Who (staff user id).' })
  createdBy: string;
}

@ObjectType({ simpleResolvers: true, description: 'A removal of part or all of a write-off: by removeWriteOff, or by a remittance that superseded its PR line.' })
export class WriteOffRemoval {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field(() => Int, { description: 'Cents removed, so no longer written off.' })
  amountCents: number;

  @Field({ description: 'Why ("superseded by remittance" when a remittance removed it).' })
  reason: string;

  @Field({ description: 'Who (staff user id).' })
  createdBy: string;

  @Field({ description: 'When (ISO-8601 UTC).' })
  createdAt: string;
}

@ObjectType({ simpleResolvers: true, description: 'A write-off reason for the dropdown.' })
export class WriteOffReasonOption {
  @Field(() => WriteOffReasonEnum, { description: 'The code to send.' })
  code: WriteOffReason;

  @Field({ description: 'What to show.' })
  label: string;

  @Field({ description: 'True for OTHER: a custom reason must be typed.' })
  requiresCustomReason: boolean;
}

@InputType({ description: 'Write off part or all of what is open on a PR line.' })
export class WriteOffInput {
  @Field(() => ID, { description: 'The PR line.' })
  responsibilityId: string;

  @Field(() => Int, { description: 'Cents to write off: more than 0, at most what is open.' })
  amountCents: number;

  @Field(() => WriteOffReasonEnum, { description: 'A standard reason, or OTHER with `customReason`.' })
  reason: WriteOffReason;

  @Field(() => String, { nullable: true, description: 'Required with OTHER, refused with any other reason (1 to 255 characters).' })
  customReason?: string | null;

  @Field(() => String, { nullable: true, description: 'Optional note (up to 1,000 characters; line breaks allowed).' })
  note?: string | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Remove (reverse) part or all of a write-off.' })
export class RemoveWriteOffInput {
  @Field(() => ID, { description: 'The write-off.' })
  writeOffId: string;

  @Field(() => Int, { nullable: true, description: 'Cents to remove; omit to remove all that is still active.' })
  amountCents?: number | null;

  @Field({ description: 'Why (1 to 255 characters).' })
  reason: string;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

/** writeOff and removeWriteOff answer with the same objects (not itself in the schema: nothing returns it). */
@ObjectType({ simpleResolvers: true })
abstract class WriteOffChangePayload extends BalancePayload {
  @Field(() => WriteOff, { nullable: true, description: 'The write-off as it is now; null when refused.' })
  writeOff: WriteOffView | null;

  @Field(() => Responsibility, { nullable: true, description: 'The PR line as it is now; null when refused.' })
  responsibility: LineView | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of writeOff.' })
export class WriteOffPayload extends WriteOffChangePayload {}

@ObjectType({ simpleResolvers: true, description: 'Result of removeWriteOff.' })
export class RemoveWriteOffPayload extends WriteOffChangePayload {}
