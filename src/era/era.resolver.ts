import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { RequestContext, refreshLoaders } from '../graphql/context';
import { userErrors } from '../graphql/common.types';
import { isRefusal } from '../ledger';
import type { PostingBatchView } from '../read-model/views';
import { ImportRemittanceFileInput, ImportRemittanceFilePayload } from './era.types';

/** The ERA import (docs/design.md §9.1): an 835 file in, DRAFT remittance batches out. BILLING and up. */
@Resolver()
export class EraResolver {
  @Mutation(() => ImportRemittanceFilePayload, {
    description:
      "Import an insurer's 835 (ERA) file: each payment becomes a DRAFT REMITTANCE batch of remittance entries matched to your charges, with " +
      'what could not be matched safely in its `issues`. Preview and post the batches like any other. A malformed file (INVALID_X12), one already ' +
      'imported or holding a payment twice (DUPLICATE_REMITTANCE), or one over 5 MiB (FILE_TOO_LARGE) is refused whole. BILLING and up.',
  })
  async importRemittanceFile(
    @Arg('input', { description: 'What to do; see the input type.' }) input: ImportRemittanceFileInput,
    @Ctx() ctx: RequestContext,
  ): Promise<ImportRemittanceFilePayload> {
    const outcome = await ctx.services.eraImport.import(ctx, input);
    if (isRefusal(outcome)) return { batches: [], userErrors: userErrors(outcome) };
    const loaders = refreshLoaders(ctx);
    const batches = await Promise.all(outcome.batchIds.map((id) => loaders.postingBatch.load(id)));
    return { batches: batches.filter((b): b is PostingBatchView => b !== null), userErrors: [] };
  }
}
