import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { moneyPayload } from '../graphql/payloads';
import { RecordRemittanceInput, RecordRemittancePayload } from './remittance.types';

@Resolver()
export class RemittanceResolver {
  @Mutation(() => RecordRemittancePayload, {
    description: "Record an insurer's adjudication of a charge: PR adjustments become REMITTANCE lines and supersede the charge's ESTIMATED lines.",
  })
  async recordRemittance(@Arg('input', { description: 'What to do; see the input type.' }) input: RecordRemittanceInput, @Ctx() ctx: RequestContext): Promise<RecordRemittancePayload> {
    const outcome = await ctx.services.remittances.record(ctx, input);
    return moneyPayload(ctx, outcome, { charge: null }, async (loaders, r) => ({ charge: await loaders.charge.load(r.chargeId) }));
  }
}
