import { Arg, Ctx, Extensions, Mutation, Query, Resolver } from 'type-graphql';
import { RequestContext, refreshLoaders } from '../graphql/context';
import { userErrors } from '../graphql/common.types';
import { PostingBatchPayload } from '../posting/posting.types';
import { MAX_ENTRIES_PER_BATCH, MAX_WRITE_OFF_RULES_PER_PRACTICE, Refusal, isRefusal } from '../ledger';
import type { WriteOffRuleView } from './rule-store';
import type { RuleResult } from './write-off-rule.service';
import { CreateWriteOffRuleInput, RunWriteOffRuleInput, UpdateWriteOffRuleInput, WriteOffRule, WriteOffRulePayload } from './write-off-rule.types';

/** A rule mutation's payload: the rule as it is now, read after commit; or the refusal. */
async function rulePayload(ctx: RequestContext, outcome: RuleResult | Refusal): Promise<WriteOffRulePayload> {
  if (isRefusal(outcome)) return { rule: null, userErrors: userErrors(outcome) };
  return { rule: await ctx.services.writeOffRules.get(ctx, outcome.ruleId), userErrors: [] };
}

/** Write-off rules (docs/design.md §9.2): managed by BILLING_MANAGER and ADMIN, run by BILLING and up. */
@Resolver(() => WriteOffRule)
export class WriteOffRuleResolver {
  @Query(() => [WriteOffRule], {
    description: `Your practice's write-off rules, active and deactivated, oldest first. At most ${MAX_WRITE_OFF_RULES_PER_PRACTICE} (the most a practice can hold).`,
  })
  @Extensions({ maxItems: MAX_WRITE_OFF_RULES_PER_PRACTICE })
  writeOffRules(@Ctx() ctx: RequestContext): Promise<WriteOffRuleView[]> {
    return ctx.services.writeOffRules.list(ctx);
  }

  @Mutation(() => WriteOffRulePayload, { description: 'Create a write-off rule, active. BILLING_MANAGER and ADMIN.' })
  async createWriteOffRule(@Arg('input', { description: 'What to do; see the input type.' }) input: CreateWriteOffRuleInput, @Ctx() ctx: RequestContext): Promise<WriteOffRulePayload> {
    return rulePayload(ctx, await ctx.services.writeOffRules.create(ctx, input));
  }

  @Mutation(() => WriteOffRulePayload, {
    description: 'Change a write-off rule, or deactivate it with `active: false` (rules are never deleted). BILLING_MANAGER and ADMIN.',
  })
  async updateWriteOffRule(@Arg('input', { description: 'What to do; see the input type.' }) input: UpdateWriteOffRuleInput, @Ctx() ctx: RequestContext): Promise<WriteOffRulePayload> {
    return rulePayload(ctx, await ctx.services.writeOffRules.update(ctx, input));
  }

  @Mutation(() => PostingBatchPayload, {
    description:
      'Run an active write-off rule: a DRAFT ADJUSTMENT batch with a write-off of what is open on every ACTIVE line that qualifies ' +
      '(0 < open ≤ maxOpenCents, date of service at least minDaysSinceService days before asOf, of its kinds), to preview and post; ' +
      'nothing is written off until it is posted. Patients with credit are skipped (apply the credit first), and so are lines another ' +
      `DRAFT batch already writes off. At most ${MAX_ENTRIES_PER_BATCH.toLocaleString('en-US')} lines per run, the oldest dates of service first: ` +
      'when more qualify, run the rule again for the next ones. NOTHING_QUALIFIES when no line does. BILLING and up.',
  })
  async runWriteOffRule(@Arg('input', { description: 'What to do; see the input type.' }) input: RunWriteOffRuleInput, @Ctx() ctx: RequestContext): Promise<PostingBatchPayload> {
    const outcome = await ctx.services.writeOffRules.run(ctx, input);
    if (isRefusal(outcome)) return { batch: null, userErrors: userErrors(outcome) };
    return { batch: await refreshLoaders(ctx).postingBatch.load(outcome.batchId), userErrors: [] };
  }
}
