import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { moneyPayload } from '../graphql/payloads';
import type { Loaders } from '../graphql/loaders';
import type { RemittanceResult } from './remittance.service';
import { RecordRemittanceInput, RecordRemittancePayload, ReverseRemittanceInput } from './remittance.types';

/** Both mutations answer with the charge they changed, read after commit. */
const chargeAsItIsNow = async (loaders: Loaders, r: RemittanceResult) => ({ charge: await loaders.charge.load(r.chargeId) });

@Resolver()
export class RemittanceResolver {
  @Mutation(() => RecordRemittancePayload, {
    description:
      "Record an insurer's adjudication of a charge: PR adjustments become REMITTANCE lines and supersede the charge's ESTIMATED lines. " +
      'With `replacesRemittanceId`, a corrected remittance: the earlier one is reversed in the same step.',
  })
  async recordRemittance(@Arg('input', { description: 'What to do; see the input type.' }) input: RecordRemittanceInput, @Ctx() ctx: RequestContext): Promise<RecordRemittancePayload> {
    const outcome = await ctx.services.remittances.record(ctx, input);
    return moneyPayload(ctx, outcome, { charge: null }, chargeAsItIsNow);
  }

  @Mutation(() => RecordRemittancePayload, {
    description: 'Reverse what a remittance recorded on a charge (the insurer reversed its claim): its lines become REVERSED and their payments go to credit.',
  })
  async reverseRemittance(@Arg('input', { description: 'What to do; see the input type.' }) input: ReverseRemittanceInput, @Ctx() ctx: RequestContext): Promise<RecordRemittancePayload> {
    const outcome = await ctx.services.remittances.reverse(ctx, input);
    return moneyPayload(ctx, outcome, { charge: null }, chargeAsItIsNow);
  }
}
