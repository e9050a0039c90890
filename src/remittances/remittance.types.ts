import { Extensions, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { BalancePayload } from '../balances/balance.types';
import { Charge } from '../charges/charge.types';
import { ChargeView } from '../read-model/views';
import { MAX_ADJUSTMENTS_PER_REMITTANCE } from '../ledger';

@InputType({ description: "One adjustment of an insurer's adjudication. Group PR becomes a REMITTANCE PR line; CO, OA and PI create no PR." })
export class RemittanceAdjustmentInput {
  @Field({ description: 'Claim adjustment group code: PR, CO, OA or PI.' })
  groupCode: string;

  @Field({ description: 'Claim adjustment reason code: 1 deductible, 2 coinsurance, 3 copay, 96/204 non-covered, else other.' })
  reasonCode: string;

  @Field(() => Int, { description: 'Cents, more than 0.' })
  amountCents: number;
}

@InputType({ description: "Record an insurer's adjudication of one charge." })
export class RecordRemittanceInput {
  @Field(() => ID, { description: 'The charge adjudicated.' })
  chargeId: string;

  @Field({ description: "The insurer's remittance (ERA/EOB) reference; recorded once per charge." })
  remittanceId: string;

  @Field(() => [RemittanceAdjustmentInput], { description: `The adjustments. At most ${MAX_ADJUSTMENTS_PER_REMITTANCE}.` })
  @Extensions({ maxItems: MAX_ADJUSTMENTS_PER_REMITTANCE })
  adjustments: RemittanceAdjustmentInput[];

  @Field(() => String, {
    nullable: true,
    description:
      "A corrected remittance: the `remittanceId` of the charge's earlier remittance it replaces. That one is reversed in the same step and " +
      'its payments move to the new lines (same kind first), the rest to credit. Omit when the insurer really adjudicated twice.',
  })
  replacesRemittanceId?: string | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Reverse the PR lines a remittance created on a charge: they become REVERSED and their payments go to credit.' })
export class ReverseRemittanceInput {
  @Field(() => ID, { description: 'The charge.' })
  chargeId: string;

  @Field({ description: 'The `remittanceId` recorded for the charge.' })
  remittanceId: string;

  @Field({ description: 'Why (1 to 255 characters).' })
  reason: string;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of recordRemittance and reverseRemittance.' })
export class RecordRemittancePayload extends BalancePayload {
  @Field(() => Charge, { nullable: true, description: 'The charge with its new (or reversed) lines; null when refused.' })
  charge: ChargeView | null;
}
