import { Extensions, Field, ID, Int, ObjectType } from 'type-graphql';
import { UserError } from '../graphql/common.types';
import type { BalanceView } from '../read-model/views';
import { MAX_USER_ERRORS } from '../ledger';
import { SafeIntResolver } from 'graphql-scalars';
import { patientBalanceId } from '../client/type-policies';

@ObjectType({
  simpleResolvers: true,
  description:
    "A patient's balance, recalculated in full after every accepted change (never a delta). `version` rises by exactly one per change: drop any update whose version is not above the one you have.",
})
export class PatientBalance {
  @Field(() => ID, {
    description:
      "`PatientBalance:<patientId>`: unique across all types (as Relay requires) and the same wherever this patient's balance is returned (patient, mutation payloads, subscriptions), so a normalising cache keeps one balance per patient and every answer updates it.",
  })
  get id(): string {
    return patientBalanceId(this.patientId);
  }

  @Field(() => ID, { description: 'The patient this balance belongs to.' })
  patientId: string;

  @Field(() => SafeIntResolver, { description: 'What the patient still owes: Σ open over active PR lines, in cents. Never negative; credit is not netted in.' })
  outstandingCents: number;

  @Field(() => SafeIntResolver, { description: 'Σ amount of active PR lines, in cents.' })
  responsibilityCents: number;

  @Field(() => SafeIntResolver, { description: 'Σ paid on active PR lines, in cents.' })
  paidCents: number;

  @Field(() => SafeIntResolver, { description: 'Σ written off (net of removals) on active PR lines, in cents.' })
  writtenOffCents: number;

  @Field(() => SafeIntResolver, { description: "The patient's credit: payment money not allocated to any line and not returned, in cents." })
  creditCents: number;

  @Field(() => Int, { description: '0 when the patient is created; +1 with every accepted change to the patient.' })
  version: number;

  @Field({ description: 'When this balance last changed (ISO-8601 UTC).' })
  updatedAt: string;
}

/** Fields every money mutation's payload has: the new balance and the refusals (not itself in the schema: nothing returns it). */
@ObjectType({ simpleResolvers: true })
export abstract class BalancePayload {
  @Field(() => PatientBalance, { nullable: true, description: "The patient's balance after the change; null when refused." })
  balance: BalanceView | null;

  @Field(() => [UserError], { description: `Why it was refused (nothing changed); empty on success. At most ${MAX_USER_ERRORS}.` })
  @Extensions({ maxItems: MAX_USER_ERRORS })
  userErrors: UserError[];
}
