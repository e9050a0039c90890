import { Extensions, Field, InputType, ObjectType } from 'type-graphql';
import { UserError } from '../graphql/common.types';
import { PostingBatch } from '../posting/posting.types';
import { MAX_BATCHES_PER_IMPORT, MAX_USER_ERRORS } from '../ledger';
import type { PostingBatchView } from '../read-model/views';
import { MAX_ERA_BYTES } from './era835';

@InputType({ description: "An insurer's X12 835 (ERA) file to import as DRAFT remittance batches (docs/design.md §9.1)." })
export class ImportRemittanceFileInput {
  @Field({
    description:
      `The text of the 835 file (005010X221A1), at most ${MAX_ERA_BYTES.toLocaleString('en-US')} bytes (5 MiB) as UTF-8; over HTTP only, ` +
      'in a request that holds this one mutation (a larger request body is refused with 413). Its own delimiters (from ISA) are used; text before ISA and CRLF line ends are fine.',
  })
  content: string;

  @Field(() => String, { nullable: true, description: 'The name of the file, for the audit trail and idempotency (up to 255 characters).' })
  fileName?: string | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and file return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType({
  simpleResolvers: true,
  description:
    'Result of importRemittanceFile: one DRAFT REMITTANCE batch per payment (BPR/TRN) of the file, in file order, with what could not be ' +
    'proposed in each batch\'s `issues`. Nothing is posted until staff preview and post a batch. Refused whole (nothing imported) with a userError.',
})
export class ImportRemittanceFilePayload {
  @Field(() => [PostingBatch], {
    description:
      `The batches, in file order; empty when refused. A payment too large for one batch is split into parts in claim order ("<trace> (part 1 of 2)"). ` +
      `At most ${MAX_BATCHES_PER_IMPORT}.`,
  })
  @Extensions({ maxItems: MAX_BATCHES_PER_IMPORT })
  batches: PostingBatchView[];

  @Field(() => [UserError], { description: `Why the file was refused (nothing changed); empty on success. At most ${MAX_USER_ERRORS}.` })
  @Extensions({ maxItems: MAX_USER_ERRORS })
  userErrors: UserError[];
}
