import { Extensions, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ResponsibilityKindEnum, UserError, WriteOffReasonEnum } from '../graphql/common.types';
import { MAX_RULE_KINDS, MAX_RULE_MIN_DAYS, MAX_USER_ERRORS, type ResponsibilityKind, type WriteOffReason } from '../ledger';
import type { WriteOffRuleView } from './rule-store';

const KINDS = `At most ${MAX_RULE_KINDS} (each kind once).`;

@ObjectType({
  simpleResolvers: true,
  description:
    'A write-off rule: which open PR lines a run proposes to write off, with which reason. Running it makes a DRAFT ADJUSTMENT batch ' +
    'that staff preview and post; nothing is written off until then. Managed by BILLING_MANAGER and ADMIN; deactivated, never deleted.',
})
export class WriteOffRule {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field({ description: 'What staff call it, e.g. "Small balances over 90 days".' })
  name: string;

  @Field(() => WriteOffReasonEnum, { description: 'The reason its write-offs carry.' })
  reason: WriteOffReason;

  @Field(() => String, { nullable: true, description: 'The typed reason, when `reason` is OTHER.' })
  customReason: string | null;

  @Field(() => Int, { description: 'A line qualifies when what is open on it is more than 0 and at most this, in cents.' })
  maxOpenCents: number;

  @Field(() => Int, { description: "And when its charge's date of service is at least this many days before the run's date (0: any date up to it)." })
  minDaysSinceService: number;

  @Field(() => [ResponsibilityKindEnum], { nullable: true, description: `The PR kinds it applies to; null for every kind. ${KINDS}` })
  @Extensions({ maxItems: MAX_RULE_KINDS })
  kinds: ResponsibilityKind[] | null;

  @Field({ description: 'Whether it can be run; a deactivated rule is refused with RULE_INACTIVE and skipped by `npm run rules`.' })
  active: boolean;

  @Field({ description: 'When it was created (ISO-8601 UTC).' })
  createdAt: string;

  @Field({ description: 'Who created it (staff user id).' })
  createdBy: string;

  @Field({ description: 'When it was last changed (ISO-8601 UTC); its creation time until then.' })
  updatedAt: string;

  @Field({ description: 'Who last changed it (staff user id).' })
  updatedBy: string;
}

@InputType({ description: 'A new write-off rule. BILLING_MANAGER and ADMIN.' })
export class CreateWriteOffRuleInput {
  @Field({ description: 'What staff call it (1 to 255 characters).' })
  name: string;

  @Field(() => WriteOffReasonEnum, { description: 'A standard reason, or OTHER with `customReason`.' })
  reason: WriteOffReason;

  @Field(() => String, { nullable: true, description: 'Required with OTHER, refused with any other reason (1 to 255 characters).' })
  customReason?: string | null;

  @Field(() => Int, { description: 'The largest open amount a line may have to qualify, in cents: more than 0.' })
  maxOpenCents: number;

  @Field(() => Int, { nullable: true, description: `The least number of days since the date of service: 0 (the default) to ${MAX_RULE_MIN_DAYS.toLocaleString('en-US')}.` })
  minDaysSinceService?: number | null;

  @Field(() => [ResponsibilityKindEnum], { nullable: true, description: `Only lines of these kinds; null or empty for every kind. ${KINDS}` })
  @Extensions({ maxItems: MAX_RULE_KINDS })
  kinds?: ResponsibilityKind[] | null;
}

@InputType({ description: 'Changes to a write-off rule: a field left out stays as it is. BILLING_MANAGER and ADMIN.' })
export class UpdateWriteOffRuleInput {
  @Field(() => ID, { description: 'The rule.' })
  ruleId: string;

  @Field(() => String, { nullable: true, description: 'A new name (1 to 255 characters).' })
  name?: string | null;

  @Field(() => WriteOffReasonEnum, { nullable: true, description: 'A new reason. Changing to a standard reason drops the custom reason.' })
  reason?: WriteOffReason | null;

  @Field(() => String, { nullable: true, description: 'The custom reason, with OTHER; null clears it.' })
  customReason?: string | null;

  @Field(() => Int, { nullable: true, description: 'A new largest open amount, in cents: more than 0.' })
  maxOpenCents?: number | null;

  @Field(() => Int, { nullable: true, description: `A new least number of days since the date of service: 0 to ${MAX_RULE_MIN_DAYS.toLocaleString('en-US')}.` })
  minDaysSinceService?: number | null;

  @Field(() => [ResponsibilityKindEnum], { nullable: true, description: `The PR kinds it applies to; null or empty for every kind. ${KINDS}` })
  @Extensions({ maxItems: MAX_RULE_KINDS })
  kinds?: ResponsibilityKind[] | null;

  @Field(() => Boolean, { nullable: true, description: 'false deactivates the rule (it is never deleted); true makes it runnable again.' })
  active?: boolean | null;
}

@InputType({ description: 'Run a write-off rule: propose its write-offs as a DRAFT ADJUSTMENT batch. BILLING and up.' })
export class RunWriteOffRuleInput {
  @Field(() => ID, { description: 'The rule; it must be active (else RULE_INACTIVE).' })
  ruleId: string;

  @Field(() => String, {
    nullable: true,
    description: "The date the lines' age is counted to, YYYY-MM-DD; today (UTC) when absent. Not in the future.",
  })
  asOf?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of createWriteOffRule and updateWriteOffRule.' })
export class WriteOffRulePayload {
  @Field(() => WriteOffRule, { nullable: true, description: 'The rule as it is now; null when refused.' })
  rule: WriteOffRuleView | null;

  @Field(() => [UserError], { description: `Why nothing was changed; empty on success. At most ${MAX_USER_ERRORS}.` })
  @Extensions({ maxItems: MAX_USER_ERRORS })
  userErrors: UserError[];
}
