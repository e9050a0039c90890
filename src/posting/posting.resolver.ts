import { Arg, Args, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { RequestContext, refreshLoaders } from '../graphql/context';
import { PageArgs, UserError, connection, pageRequest, userErrors } from '../graphql/common.types';
import { badUserInput } from '../graphql/errors';
import { type Loaders, loadOptional } from '../graphql/loaders';
import { Actor } from '../audit/audit.types';
import { Charge } from '../charges/charge.types';
import { Patient } from '../patients/patient.types';
import { Payment } from '../payments/payment.types';
import { Responsibility } from '../responsibilities/responsibility.types';
import { WriteOff } from '../write-offs/write-off.types';
import { Refusal, isRefusal } from '../ledger';
import type {
  ChargeView,
  LineView,
  PatientView,
  PaymentView,
  PostingBatchKind,
  PostingBatchStatus,
  PostingBatchView,
  PostingEntryView,
  PostingPreviewView,
  WriteOffView,
} from '../read-model/views';
import {
  AddPostingEntriesInput,
  CreatePostingBatchInput,
  NegatePostingBatchInput,
  NegatePostingBatchPayload,
  PostPostingBatchInput,
  PostPostingBatchPayload,
  PostingBatch,
  PostingBatchConnection,
  PostingBatchKindEnum,
  PostingBatchPayload,
  PostingBatchStatusEnum,
  PostingEntry,
  PostingEntryConnection,
  PostingPreview,
  RemovePostingEntryInput,
} from './posting.types';

/**
 * A batch mutation's payload: the batch as it is now, read after commit, with what `extra` adds; or the refusal and
 * empty objects. Editing a DRAFT moves no balance, so unlike a money mutation there is no patient balance to return.
 */
async function batchPayload<R extends { batchId: string }, P extends object>(
  ctx: RequestContext,
  outcome: R | Refusal,
  extra: { empty: P; build(loaders: Loaders, result: R): Promise<P> | P },
): Promise<P & { batch: PostingBatchView | null; userErrors: UserError[] }> {
  if (isRefusal(outcome)) return { ...extra.empty, batch: null, userErrors: userErrors(outcome) };
  const loaders = refreshLoaders(ctx);
  const [batch, fields] = await Promise.all([loaders.postingBatch.load(outcome.batchId), extra.build(loaders, outcome)]);
  return { ...fields, batch, userErrors: [] };
}

const NOTHING_MORE = { empty: {}, build: () => ({}) };

/** Whether the field sits under a list (a page of batches, a payload's list): some fields are for one object at a time. */
function insideList(info: GraphQLResolveInfo): boolean {
  for (let step = info.path.prev; step; step = step.prev) if (typeof step.key === 'number') return true;
  return false;
}

@Resolver(() => PostingBatch)
export class PostingBatchResolver {
  @Query(() => PostingBatch, { nullable: true, description: 'A posting batch of your practice; null when there is none with that id.' })
  postingBatch(@Arg('id', () => ID, { description: 'Batch id.' }) id: string, @Ctx() ctx: RequestContext): Promise<PostingBatchView | null> {
    return ctx.loaders.postingBatch.load(id);
  }

  @Query(() => PostingBatchConnection, { description: "Your practice's posting batches, newest first, optionally of one status and kind." })
  async postingBatches(
    @Args() page: PageArgs,
    @Arg('status', () => PostingBatchStatusEnum, { nullable: true, description: 'Only batches with this status.' }) status: PostingBatchStatus | null,
    @Arg('kind', () => PostingBatchKindEnum, { nullable: true, description: 'Only batches of this kind.' }) kind: PostingBatchKind | null,
    @Ctx() ctx: RequestContext,
  ): Promise<PostingBatchConnection> {
    const { first, after } = pageRequest(page, 2);
    const result = await ctx.services.reader.listBatches(ctx.actor.practiceId, first, after, { status, kind });
    result.rows.forEach((batch) => ctx.loaders.postingBatch.prime(batch.id, batch));
    return connection(result.rows, result.hasNextPage, Boolean(after), (b) => [b.createdAt, b.id]);
  }

  @Mutation(() => PostingBatchPayload, {
    description:
      'Start a DRAFT batch (a deposit, a remittance, or adjustments), with any entries to start with. Nothing is applied until it is posted. ' +
      'DEPOSIT batches: FRONT_DESK and up; REMITTANCE and ADJUSTMENT: BILLING and up.',
  })
  async createPostingBatch(@Arg('input', { description: 'What to do; see the input type.' }) input: CreatePostingBatchInput, @Ctx() ctx: RequestContext): Promise<PostingBatchPayload> {
    return batchPayload(ctx, await ctx.services.posting.create(ctx, input), NOTHING_MORE);
  }

  @Mutation(() => PostingBatchPayload, {
    description: 'Add entries to the end of a DRAFT batch. Their shape and ids are checked now; the ledger rules at preview and post.',
  })
  async addPostingEntries(@Arg('input', { description: 'What to do; see the input type.' }) input: AddPostingEntriesInput, @Ctx() ctx: RequestContext): Promise<PostingBatchPayload> {
    return batchPayload(ctx, await ctx.services.posting.addEntries(ctx, input), NOTHING_MORE);
  }

  @Mutation(() => PostingBatchPayload, { description: 'Remove one entry from a DRAFT batch.' })
  async removePostingEntry(@Arg('input', { description: 'What to do; see the input type.' }) input: RemovePostingEntryInput, @Ctx() ctx: RequestContext): Promise<PostingBatchPayload> {
    return batchPayload(ctx, await ctx.services.posting.removeEntry(ctx, input), NOTHING_MORE);
  }

  @Mutation(() => PostPostingBatchPayload, {
    description:
      "Post a DRAFT batch with the token of its preview: every entry in one transaction, or none. Each touched patient's version rises by exactly one.",
  })
  async postPostingBatch(@Arg('input', { description: 'What to do; see the input type.' }) input: PostPostingBatchInput, @Ctx() ctx: RequestContext): Promise<PostPostingBatchPayload> {
    return batchPayload(ctx, await ctx.services.posting.post(ctx, input), { empty: { balances: [] }, build: (_loaders, r) => ({ balances: r.balances }) });
  }

  @Mutation(() => NegatePostingBatchPayload, {
    description:
      'Undo a posted batch: posts a batch of equal and opposite entries that references it and marks it NEGATED. BILLING_MANAGER and ADMIN only.',
  })
  async negatePostingBatch(@Arg('input', { description: 'What to do; see the input type.' }) input: NegatePostingBatchInput, @Ctx() ctx: RequestContext): Promise<NegatePostingBatchPayload> {
    return batchPayload(ctx, await ctx.services.posting.negate(ctx, input), {
      empty: { balances: [], negation: null },
      build: async (loaders, r) => ({ balances: r.balances, negation: await loaders.postingBatch.load(r.negationId) }),
    });
  }

  @FieldResolver(() => PostingEntryConnection, { description: 'Its entries, in posting order.' })
  async entries(@Root() batch: PostingBatchView, @Args() page: PageArgs, @Ctx() ctx: RequestContext): Promise<PostingEntryConnection> {
    const { first, after } = pageRequest(page, 2);
    const result = await ctx.services.reader.listEntries(ctx.actor.practiceId, batch.id, first, after);
    return connection(result.rows, result.hasNextPage, Boolean(after), (e) => [String(e.position), e.id]);
  }

  @FieldResolver(() => PostingPreview, {
    description:
      'What posting it would do now (the same code as posting, changing nothing). Computed on request for one batch at a time: ' +
      'asked for inside a list, it is refused with BAD_USER_INPUT.',
  })
  preview(@Root() batch: PostingBatchView, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<PostingPreviewView> {
    if (insideList(info)) throw badUserInput('Preview one batch at a time: ask for `preview` on postingBatch(id) or on a mutation\'s batch, not in a list.');
    return ctx.services.posting.preview(ctx, batch.id);
  }

  @FieldResolver(() => Actor, { description: 'Who created it, with the role they had then.' })
  createdBy(@Root() batch: PostingBatchView): Actor {
    return { id: batch.createdBy, role: batch.createdRole };
  }

  @FieldResolver(() => Actor, { nullable: true, description: 'Who posted it, with the role they had then; null while DRAFT.' })
  postedBy(@Root() batch: PostingBatchView): Actor | null {
    return batch.postedBy && batch.postedRole ? { id: batch.postedBy, role: batch.postedRole } : null;
  }

  @FieldResolver(() => PostingBatch, { nullable: true, description: 'The batch this one negates, when it is a negation.' })
  negates(@Root() batch: PostingBatchView, @Ctx() ctx: RequestContext): Promise<PostingBatchView | null> {
    return loadOptional(ctx.loaders.postingBatch, batch.negatesId);
  }

  @FieldResolver(() => PostingBatch, { nullable: true, description: 'The batch that negated this one, once it is NEGATED.' })
  negatedBy(@Root() batch: PostingBatchView, @Ctx() ctx: RequestContext): Promise<PostingBatchView | null> {
    return loadOptional(ctx.loaders.postingBatch, batch.negatedById);
  }
}

@Resolver(() => PostingEntry)
export class PostingEntryResolver {
  @FieldResolver(() => Patient, { description: 'The patient the entry is for.' })
  async patient(@Root() entry: PostingEntryView, @Ctx() ctx: RequestContext): Promise<PatientView> {
    return (await ctx.loaders.patient.load(entry.patientId))!;
  }

  @FieldResolver(() => Charge, { nullable: true, description: 'The charge it concerns (a remittance or its reversal, an up-front payment), if any.' })
  charge(@Root() entry: PostingEntryView, @Ctx() ctx: RequestContext): Promise<ChargeView | null> {
    return loadOptional(ctx.loaders.charge, entry.chargeId);
  }

  @FieldResolver(() => Responsibility, { nullable: true, description: 'The PR line it concerns (a write-off), if any.' })
  responsibility(@Root() entry: PostingEntryView, @Ctx() ctx: RequestContext): Promise<LineView | null> {
    return loadOptional(ctx.loaders.line, entry.responsibilityId);
  }

  @FieldResolver(() => Payment, { nullable: true, description: 'The payment it concerns (for a payment entry, the one posting recorded), if any.' })
  payment(@Root() entry: PostingEntryView, @Ctx() ctx: RequestContext): Promise<PaymentView | null> {
    return loadOptional(ctx.loaders.payment, entry.paymentId);
  }

  @FieldResolver(() => WriteOff, { nullable: true, description: 'The write-off it concerns (the one posting made, or the one a removal takes from), if any.' })
  writeOff(@Root() entry: PostingEntryView, @Ctx() ctx: RequestContext): Promise<WriteOffView | null> {
    return loadOptional(ctx.loaders.writeOff, entry.writeOffId);
  }
}
