import { Arg, Ctx, Extensions, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { loadOptional } from '../graphql/loaders';
import { Availability } from '../graphql/common.types';
import { moneyPayload } from '../graphql/payloads';
import { Responsibility } from '../responsibilities/responsibility.types';
import { roleCan } from '../auth/roles';
import { MAX_REMOVALS_PER_WRITE_OFF, WRITE_OFF_REASONS, removalBlocker, toAvailability } from '../ledger';
import { PostingBatch } from '../posting/posting.types';
import type { LineView, PostingBatchView, WriteOffRemovalView, WriteOffView } from '../read-model/views';
import { RemoveWriteOffInput, RemoveWriteOffPayload, WriteOff, WriteOffInput, WriteOffPayload, WriteOffReasonOption, WriteOffRemoval } from './write-off.types';

@Resolver(() => WriteOff)
export class WriteOffResolver {
  @Query(() => [WriteOffReasonOption], { description: `The write-off reasons for the dropdown, in display order. At most ${WRITE_OFF_REASONS.length}.` })
  @Extensions({ maxItems: WRITE_OFF_REASONS.length })
  writeOffReasons(): WriteOffReasonOption[] {
    return WRITE_OFF_REASONS.map((r) => ({ ...r }));
  }

  @Mutation(() => WriteOffPayload, { description: 'Write off part or all of what is open on a PR line, with a reason. Reversible with removeWriteOff.' })
  async writeOff(@Arg('input', { description: 'What to do; see the input type.' }) input: WriteOffInput, @Ctx() ctx: RequestContext): Promise<WriteOffPayload> {
    const outcome = await ctx.services.writeOffs.writeOff(ctx, input);
    return moneyPayload(ctx, outcome, { writeOff: null, responsibility: null }, async (loaders, r) => ({
      writeOff: await loaders.writeOff.load(r.writeOffId),
      responsibility: await loaders.line.load(r.responsibilityId),
    }));
  }

  @Mutation(() => RemoveWriteOffPayload, { description: 'Remove (reverse) part or all of a write-off, with a reason. The line returns to where it was.' })
  async removeWriteOff(@Arg('input', { description: 'What to do; see the input type.' }) input: RemoveWriteOffInput, @Ctx() ctx: RequestContext): Promise<RemoveWriteOffPayload> {
    const outcome = await ctx.services.writeOffs.removeWriteOff(ctx, input);
    return moneyPayload(ctx, outcome, { writeOff: null, responsibility: null }, async (loaders, r) => ({
      writeOff: await loaders.writeOff.load(r.writeOffId),
      responsibility: await loaders.line.load(r.responsibilityId),
    }));
  }

  @FieldResolver(() => Responsibility, { description: 'The PR line written off.' })
  async responsibility(@Root() writeOff: WriteOffView, @Ctx() ctx: RequestContext): Promise<LineView> {
    return (await ctx.loaders.line.load(writeOff.responsibilityId))!;
  }

  @FieldResolver(() => [WriteOffRemoval], { description: `Its removals, oldest first. At most ${MAX_REMOVALS_PER_WRITE_OFF}.` })
  @Extensions({ maxItems: MAX_REMOVALS_PER_WRITE_OFF })
  async reversals(@Root() writeOff: WriteOffView, @Ctx() ctx: RequestContext): Promise<WriteOffRemovalView[]> {
    // Only a write-off from before the cap could hold more.
    return (await ctx.loaders.removalsOfWriteOff.load(writeOff.id)).slice(0, MAX_REMOVALS_PER_WRITE_OFF);
  }

  @FieldResolver(() => PostingBatch, { nullable: true, description: 'The posting batch that posted it; null for a write-off made on its own.' })
  batch(@Root() writeOff: WriteOffView, @Ctx() ctx: RequestContext): Promise<PostingBatchView | null> {
    return loadOptional(ctx.loaders.postingBatch, writeOff.batchId);
  }

  @FieldResolver(() => Availability, { description: 'Whether you can remove (some of) this write-off now, and the tooltip if not.' })
  canRemove(@Root() writeOff: WriteOffView, @Ctx() ctx: RequestContext): Availability {
    return toAvailability(removalBlocker(writeOff, roleCan(ctx.actor.role, 'POST')));
  }
}
