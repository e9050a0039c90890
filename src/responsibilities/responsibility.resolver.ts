import { Arg, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { Availability } from '../graphql/common.types';
import { moneyPayload } from '../graphql/payloads';
import { Charge } from '../charges/charge.types';
import { WriteOff } from '../write-offs/write-off.types';
import { roleCan } from '../auth/roles';
import { MAX_WRITE_OFFS_PER_LINE, cancelBlocker, nextWriteOffBlocker, openCents, toAvailability } from '../ledger';
import type { ChargeView, LineView, WriteOffView } from '../read-model/views';
import { CancelPRInput, CancelPRPayload, Responsibility } from './responsibility.types';

@Resolver(() => Responsibility)
export class ResponsibilityResolver {
  @Query(() => Responsibility, { nullable: true, description: 'A PR line of your practice; null when there is none with that id.' })
  responsibility(@Arg('id', () => ID, { description: 'PR line id.' }) id: string, @Ctx() ctx: RequestContext): Promise<LineView | null> {
    return ctx.loaders.line.load(id);
  }

  @Mutation(() => CancelPRPayload, {
    description: 'Cancel a PR line that should never have existed. Not for REMITTANCE lines, nor while a write-off is active. Payments on it become credit.',
  })
  async cancelPR(@Arg('input', { description: 'What to do; see the input type.' }) input: CancelPRInput, @Ctx() ctx: RequestContext): Promise<CancelPRPayload> {
    const outcome = await ctx.services.cancellations.cancel(ctx, input);
    return moneyPayload(ctx, outcome, { responsibility: null }, async (loaders, r) => ({ responsibility: await loaders.line.load(r.responsibilityId) }));
  }

  @FieldResolver(() => Charge, { description: 'The charge the line belongs to.' })
  async charge(@Root() line: LineView, @Ctx() ctx: RequestContext): Promise<ChargeView> {
    return (await ctx.loaders.charge.load(line.chargeId))!;
  }

  @FieldResolver(() => Int, { description: 'amount − paid − written off, in cents; 0 once cancelled.' })
  openCents(@Root() line: LineView): number {
    return openCents(line);
  }

  @FieldResolver(() => [WriteOff], { description: `Its write-offs, oldest first, fully removed ones included. At most ${MAX_WRITE_OFFS_PER_LINE}.` })
  @Extensions({ maxItems: MAX_WRITE_OFFS_PER_LINE })
  async writeOffs(@Root() line: LineView, @Ctx() ctx: RequestContext): Promise<WriteOffView[]> {
    // Only a line from before the cap could hold more.
    return (await ctx.loaders.writeOffsOfLine.load(line.id)).slice(0, MAX_WRITE_OFFS_PER_LINE);
  }

  @FieldResolver(() => Availability, { description: 'Whether you can write this line off now, and the tooltip if not.' })
  async canWriteOff(@Root() line: LineView, @Ctx() ctx: RequestContext): Promise<Availability> {
    const writeOffs = await ctx.loaders.writeOffsOfLine.load(line.id);
    return toAvailability(nextWriteOffBlocker(line, writeOffs.length, roleCan(ctx.actor.role, 'POST')));
  }

  @FieldResolver(() => Availability, { description: 'Whether you can cancel this line now, and the tooltip if not.' })
  canCancel(@Root() line: LineView, @Ctx() ctx: RequestContext): Availability {
    return toAvailability(cancelBlocker(line, roleCan(ctx.actor.role, 'POST')));
  }
}
