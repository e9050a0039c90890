import { Arg, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { badUserInput } from '../graphql/errors';
import { DEFAULT_TIMELINE_ENTRIES, MAX_LINES_PER_CHARGE, MAX_TIMELINE_ENTRIES } from '../ledger';
import { moneyPayload } from '../graphql/payloads';
import { Patient } from '../patients/patient.types';
import { Responsibility } from '../responsibilities/responsibility.types';
import { chargeOpenCents } from '../read-model/ledger-reader';
import type { ChargeView, LineView, PatientView, TimelineEntry as TimelineEntryView } from '../read-model/views';
import { Charge, CreateChargeInput, CreateChargePayload, TimelineEntry } from './charge.types';

@Resolver(() => Charge)
export class ChargeResolver {
  @Query(() => Charge, { nullable: true, description: 'A charge of your practice; null when there is none with that id.' })
  charge(@Arg('id', () => ID, { description: 'Charge id.' }) id: string, @Ctx() ctx: RequestContext): Promise<ChargeView | null> {
    return ctx.loaders.charge.load(id);
  }

  @Mutation(() => CreateChargePayload, { description: 'Enter a charge (visit) for a patient, with any PR lines staff know of (origin STAFF).' })
  async createCharge(@Arg('input', { description: 'What to do; see the input type.' }) input: CreateChargeInput, @Ctx() ctx: RequestContext): Promise<CreateChargePayload> {
    const outcome = await ctx.services.charges.create(ctx, input);
    return moneyPayload(ctx, outcome, { charge: null }, async (loaders, { chargeId }) => ({ charge: await loaders.charge.load(chargeId) }));
  }

  @FieldResolver(() => Patient, { description: 'Whose charge it is.' })
  async patient(@Root() charge: ChargeView, @Ctx() ctx: RequestContext): Promise<PatientView> {
    return (await ctx.loaders.patient.load(charge.patientId))!;
  }

  @FieldResolver(() => Int, { description: 'What is still open on its active PR lines, in cents.' })
  async openCents(@Root() charge: ChargeView, @Ctx() ctx: RequestContext): Promise<number> {
    return chargeOpenCents(await ctx.loaders.linesOfCharge.load(charge.id));
  }

  @FieldResolver(() => [Responsibility], { description: `Its PR lines, cancelled ones included, oldest first. At most ${MAX_LINES_PER_CHARGE}.` })
  @Extensions({ maxItems: MAX_LINES_PER_CHARGE })
  async responsibilities(@Root() charge: ChargeView, @Ctx() ctx: RequestContext): Promise<LineView[]> {
    // Only a charge from before the cap could hold more.
    return (await ctx.loaders.linesOfCharge.load(charge.id)).slice(0, MAX_LINES_PER_CHARGE);
  }

  @FieldResolver(() => [TimelineEntry], {
    description:
      `Everything that happened to the charge and its lines, oldest first, with who and why. A charge's history keeps growing, ` +
      `so this list is bounded: the oldest \`first\` entries, at most ${MAX_TIMELINE_ENTRIES}.`,
  })
  @Extensions({ maxItems: MAX_TIMELINE_ENTRIES })
  async timeline(
    @Root() charge: ChargeView,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_TIMELINE_ENTRIES, description: `How many entries (1 to ${MAX_TIMELINE_ENTRIES}, default ${DEFAULT_TIMELINE_ENTRIES}).` })
    first: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<TimelineEntryView[]> {
    const count = first ?? DEFAULT_TIMELINE_ENTRIES;
    if (!Number.isInteger(count) || count < 1 || count > MAX_TIMELINE_ENTRIES) throw badUserInput(`first must be from 1 to ${MAX_TIMELINE_ENTRIES}.`, 'first');
    return (await ctx.loaders.timelineOfCharge.load(charge.id)).slice(0, count);
  }
}
