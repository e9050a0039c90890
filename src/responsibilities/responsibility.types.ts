import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ResponsibilityKindEnum, ResponsibilityOriginEnum, ResponsibilityStatusEnum } from '../graphql/common.types';
import { BalancePayload } from '../balances/balance.types';
import type { ResponsibilityKind, ResponsibilityOrigin, ResponsibilityStatus } from '../ledger';
import { LineView } from '../read-model/views';

@ObjectType({ simpleResolvers: true, description: 'A PR line: part of a charge the patient is responsible for. `paid + writtenOff ≤ amount` always holds.' })
export class Responsibility {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field(() => ResponsibilityKindEnum, { description: 'What the line is for.' })
  kind: ResponsibilityKind;

  @Field(() => ResponsibilityOriginEnum, { description: 'Where the line came from.' })
  origin: ResponsibilityOrigin;

  @Field(() => ResponsibilityStatusEnum, { description: 'ACTIVE, or CANCELLED or REVERSED (out of every balance).' })
  status: ResponsibilityStatus;

  @Field(() => Int, { description: 'What the patient is responsible for on this line, in cents.' })
  amountCents: number;

  @Field(() => Int, { description: 'What payments currently have allocated to it, in cents.' })
  paidCents: number;

  @Field(() => Int, { description: 'Written off, net of removals, in cents.' })
  writtenOffCents: number;

  @Field(() => String, { nullable: true, description: 'Claim adjustment reason code, for lines from a remittance.' })
  reasonCode: string | null;

  @Field({ description: 'When the line was created (ISO-8601 UTC).' })
  createdAt: string;

  @Field(() => String, { nullable: true, description: 'When it was cancelled (or reversed with its remittance).' })
  cancelledAt: string | null;

  @Field(() => String, { nullable: true, description: 'Who cancelled (or reversed) it (staff user id).' })
  cancelledBy: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was cancelled (or reversed).' })
  cancelReason: string | null;
}

@InputType({ description: 'Cancel a PR line that should never have existed.' })
export class CancelPRInput {
  @Field(() => ID, { description: 'The PR line.' })
  responsibilityId: string;

  @Field({ description: 'Why (1 to 255 characters).' })
  reason: string;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of cancelPR.' })
export class CancelPRPayload extends BalancePayload {
  @Field(() => Responsibility, { nullable: true, description: 'The cancelled line; null when refused.' })
  responsibility: LineView | null;
}
