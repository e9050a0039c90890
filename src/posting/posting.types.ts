import { Extensions, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { SafeIntResolver } from 'graphql-scalars';
import { PageInfo, ResponsibilityStatusEnum, UserError, enumOf } from '../graphql/common.types';
import { PatientBalance } from '../balances/balance.types';
import { ApplyCreditInput, RecordPaymentInput } from '../payments/payment.types';
import { RemoveWriteOffInput, WriteOffInput } from '../write-offs/write-off.types';
import { RecordRemittanceInput, ReverseRemittanceInput } from '../remittances/remittance.types';
import {
  MAX_ENTRIES_PER_ADD,
  MAX_ENTRIES_PER_BATCH,
  MAX_ISSUES_PER_BATCH,
  MAX_PAGE_SIZE,
  MAX_PREVIEW_LINES,
  MAX_PREVIEW_USER_ERRORS,
  MAX_USER_ERRORS,
  type ResponsibilityStatus,
} from '../ledger';
import {
  PostingBatchKinds,
  PostingBatchStatuses,
  PostingEntryKinds,
  type BalanceSnapshotView,
  type BalanceView,
  type LineAmountsView,
  type PostingBatchKind,
  type PostingBatchStatus,
  type PostingBatchView,
  type PostingEntryKind,
  type PostingEntryView,
  type PostingPreviewView,
  type RemittanceIssueView,
} from '../read-model/views';

export const PostingBatchKindEnum = enumOf(PostingBatchKinds);
export const PostingBatchStatusEnum = enumOf(PostingBatchStatuses);
export const PostingEntryKindEnum = enumOf(PostingEntryKinds);

registerEnumType(PostingBatchKindEnum, {
  name: 'PostingBatchKind',
  description: 'What a posting batch is for; it decides which entries it holds and who may work on it.',
  valuesConfig: {
    DEPOSIT: { description: "A day's patient payments or a deposit slip: payments and applied credit. FRONT_DESK and up." },
    REMITTANCE: { description: "An insurer's check or EFT: remittances, their reversals and write-offs. BILLING and up." },
    ADJUSTMENT: { description: 'Write-offs, their removals and applied credit, e.g. from a write-off rule. BILLING and up.' },
  },
});
registerEnumType(PostingBatchStatusEnum, {
  name: 'PostingBatchStatus',
  description: 'Where a posting batch stands.',
  valuesConfig: {
    DRAFT: { description: 'Being prepared: entries can be added and removed; nothing is applied yet.' },
    POSTED: { description: 'Applied in one transaction; never edited again, only negated.' },
    NEGATED: { description: 'Posted, then undone by an equal and opposite batch (`negatedBy`).' },
  },
});
registerEnumType(PostingEntryKindEnum, {
  name: 'PostingEntryKind',
  description: 'Which deferred input an entry of a batch holds.',
  valuesConfig: {
    PAYMENT: { description: 'A payment (recordPayment), with its allocations.' },
    WRITE_OFF: { description: 'A write-off (writeOff).' },
    REMOVE_WRITE_OFF: { description: 'A write-off removal (removeWriteOff).' },
    APPLY_CREDIT: { description: "Applying the patient's credit to open lines (applyCredit)." },
    REMITTANCE: { description: "An insurer's remittance for one charge (recordRemittance), possibly correcting an earlier one." },
    REVERSE_REMITTANCE: { description: 'A remittance reversal (reverseRemittance).' },
  },
});

@ObjectType({ simpleResolvers: true, description: "Something an insurer's 835 import could not propose safely: a biller resolves it by hand." })
export class RemittanceIssue {
  @Field({ description: 'What is wrong, e.g. CLAIM_NOT_FOUND, AMBIGUOUS_MATCH, DENIED, UNBALANCED, REVERSAL_WITHOUT_ORIGINAL, CLAIM_LEVEL_PR.' })
  code: string;

  @Field({ description: 'What happened and what to do, in words a biller can act on.' })
  message: string;

  @Field(() => String, { nullable: true, description: "The claim's patient control number (CLP01), when the issue is about a claim." })
  claimNumber: string | null;

  @Field(() => String, { nullable: true, description: "The payer's claim control number (CLP07), when the issue is about a claim." })
  payerClaimNumber: string | null;

  @Field(() => Int, { nullable: true, description: 'Position of the segment concerned in the file, counting from ISA as 1.' })
  segment: number | null;
}

@ObjectType({
  simpleResolvers: true,
  description:
    'Money that arrived together, entered together: a deposit, an insurer\'s remittance, or a set of adjustments. It is ' +
    'previewed, then posted at once; a posted batch is never edited, only negated by an equal and opposite batch.',
})
export class PostingBatch {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field(() => PostingBatchKindEnum, { description: 'What the batch is for; it decides which entries it holds.' })
  kind: PostingBatchKind;

  @Field(() => PostingBatchStatusEnum, { description: 'DRAFT, POSTED or NEGATED.' })
  status: PostingBatchStatus;

  @Field({ description: 'Deposit slip, check or EFT trace number.' })
  reference: string;

  @Field(() => String, { nullable: true, description: "The payer's name, for a remittance." })
  payerName: string | null;

  @Field(() => String, { nullable: true, description: 'When the money was deposited or paid, YYYY-MM-DD.' })
  depositDate: string | null;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description: "What the batch should add up to, in cents: a DEPOSIT's payment entries must equal it to post (BATCH_OUT_OF_BALANCE); a remittance's is the insurer's money, shown only.",
  })
  expectedTotalCents: number | null;

  @Field(() => SafeIntResolver, { description: 'Σ of its payment entries, in cents.' })
  paymentTotalCents: number;

  @Field(() => [RemittanceIssue], { description: `What an 835 import could not propose; empty for a batch entered by hand. At most ${MAX_ISSUES_PER_BATCH}.` })
  @Extensions({ maxItems: MAX_ISSUES_PER_BATCH })
  issues: RemittanceIssueView[];

  @Field({ description: 'When it was created (ISO-8601 UTC).' })
  createdAt: string;

  @Field(() => String, { nullable: true, description: 'When it was posted (ISO-8601 UTC); null while DRAFT.' })
  postedAt: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A posting batch in a list.' })
export class PostingBatchEdge {
  @Field({ description: 'Pass as `after` to continue after this batch.' })
  cursor: string;

  @Field(() => PostingBatch, { description: 'The batch.' })
  node: PostingBatchView;
}

@ObjectType({ simpleResolvers: true, description: 'A page of posting batches, newest first.' })
export class PostingBatchConnection {
  @Field(() => [PostingBatchEdge], { description: `The batches on this page: \`first\` of them, at most ${MAX_PAGE_SIZE}.` })
  @Extensions({ maxItems: MAX_PAGE_SIZE })
  edges: PostingBatchEdge[];

  @Field(() => PageInfo, { description: 'Where this page sits in the list.' })
  pageInfo: PageInfo;
}

@ObjectType({
  simpleResolvers: true,
  description: 'One entry of a batch: a payment, write-off, removal, applied credit, remittance or reversal, deferred until the batch is posted.',
})
export class PostingEntry {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field(() => PostingEntryKindEnum, { description: 'Which input it holds.' })
  kind: PostingEntryKind;

  @Field(() => Int, { description: 'The money it names, in cents: the payment, write-off, removal or credit to apply, or the PR a remittance entry carries.' })
  amountCents: number;
}

@ObjectType({ simpleResolvers: true, description: 'An entry in a list.' })
export class PostingEntryEdge {
  @Field({ description: 'Pass as `after` to continue after this entry.' })
  cursor: string;

  @Field(() => PostingEntry, { description: 'The entry.' })
  node: PostingEntryView;
}

@ObjectType({ simpleResolvers: true, description: "A page of a batch's entries, in the order they were added (the order they post in)." })
export class PostingEntryConnection {
  @Field(() => [PostingEntryEdge], { description: `The entries on this page: \`first\` of them, at most ${MAX_PAGE_SIZE}.` })
  @Extensions({ maxItems: MAX_PAGE_SIZE })
  edges: PostingEntryEdge[];

  @Field(() => PageInfo, { description: 'Where this page sits in the list.' })
  pageInfo: PageInfo;
}

@ObjectType({ simpleResolvers: true, description: "A PR line's amounts at one moment (before or after a previewed batch)." })
export class LineAmounts {
  @Field(() => ResponsibilityStatusEnum, { description: 'ACTIVE, CANCELLED or REVERSED.' })
  status: ResponsibilityStatus;

  @Field(() => Int, { description: 'What the patient is responsible for on the line, in cents.' })
  amountCents: number;

  @Field(() => Int, { description: 'What payments have allocated to it, in cents.' })
  paidCents: number;

  @Field(() => Int, { description: 'Written off, net of removals, in cents.' })
  writtenOffCents: number;

  @Field(() => Int, { description: 'amount − paid − written off (0 for a line that is not active), in cents.' })
  openCents: number;
}

@ObjectType({ simpleResolvers: true, description: 'What a previewed batch would do to one PR line.' })
export class LineChange {
  @Field(() => ID, { description: 'The PR line; for a line the batch would create, an id that exists only in this preview.' })
  responsibilityId: string;

  @Field(() => LineAmounts, { nullable: true, description: 'Its amounts now; null for a line the batch would create.' })
  before: LineAmountsView | null;

  @Field(() => LineAmounts, { description: 'Its amounts once the batch is posted.' })
  after: LineAmountsView;
}

/** A client cache must never take a past or previewed balance for the live PatientBalance: hence no `id` (docs/design.md §8.5). */
@ObjectType({
  simpleResolvers: true,
  description:
    "A patient's balance at one moment: in the past (`balanceAsOf`) or as a preview would leave it. It has no `id` on purpose, so a " +
    "normalising cache (Apollo, urql, Relay) never mistakes it for the live `PatientBalance`.",
})
export class BalanceSnapshot {
  @Field(() => ID, { description: 'The patient this balance belongs to.' })
  patientId: string;

  @Field(() => SafeIntResolver, { description: 'What the patient owes: Σ open over active PR lines, in cents. Never negative; credit is not netted in.' })
  outstandingCents: number;

  @Field(() => SafeIntResolver, { description: 'Σ amount of active PR lines, in cents.' })
  responsibilityCents: number;

  @Field(() => SafeIntResolver, { description: 'Σ paid on active PR lines, in cents.' })
  paidCents: number;

  @Field(() => SafeIntResolver, { description: 'Σ written off (net of removals) on active PR lines, in cents.' })
  writtenOffCents: number;

  @Field(() => SafeIntResolver, { description: "The patient's credit: payment money not allocated, returned or voided, in cents." })
  creditCents: number;

  @Field(() => Int, { description: 'The version the patient had then; in a preview, the version posting would give it (current + 1).' })
  version: number;
}

@ObjectType({ simpleResolvers: true, description: "What a previewed batch would do to one patient's balance." })
export class PatientBalanceChange {
  @Field(() => ID, { description: 'The patient.' })
  patientId: string;

  @Field(() => BalanceSnapshot, { description: 'The balance now.' })
  before: BalanceSnapshotView;

  @Field(() => BalanceSnapshot, { description: 'The balance once the batch is posted.' })
  after: BalanceSnapshotView;
}

@ObjectType({
  simpleResolvers: true,
  description:
    'What posting the batch would do now, computed by the same code as posting and changing nothing: every line and balance ' +
    'before and after, and every refusal posting would meet. Post with its `token`.',
})
export class PostingPreview {
  @Field({ description: 'True when posting now would be accepted.' })
  valid: boolean;

  @Field(() => [UserError], {
    description: `Every refusal posting would meet; an entry's has \`field\` ["entries", <index>, …]. Empty when valid. At most ${MAX_PREVIEW_USER_ERRORS}.`,
  })
  @Extensions({ maxItems: MAX_PREVIEW_USER_ERRORS })
  userErrors: UserError[];

  @Field(() => [PatientBalanceChange], { description: `Every patient the batch touches, with the balance before and after. At most ${MAX_ENTRIES_PER_BATCH}.` })
  @Extensions({ maxItems: MAX_ENTRIES_PER_BATCH })
  patients: PostingPreviewView['patients'];

  @Field(() => [LineChange], { description: `Every PR line the batch touches or creates, with its amounts before and after. At most ${MAX_PREVIEW_LINES}.` })
  @Extensions({ maxItems: MAX_PREVIEW_LINES })
  lines: PostingPreviewView['lines'];

  @Field({ description: 'Fingerprint of what this preview saw: pass it to postPostingBatch (PREVIEW_STALE when anything changed since).' })
  token: string;
}

@InputType({
  description:
    'One entry of a batch: exactly one member set (else INVALID_ENTRY), without an idempotencyKey of its own (the batch has one). ' +
    'Shape and ownership are checked when it is added; the ledger rules when the batch is previewed and posted.',
})
export class PostingEntryInput {
  @Field(() => RecordPaymentInput, { nullable: true, description: 'A payment (DEPOSIT batches).' })
  payment?: RecordPaymentInput | null;

  @Field(() => WriteOffInput, { nullable: true, description: 'A write-off (REMITTANCE and ADJUSTMENT batches).' })
  writeOff?: WriteOffInput | null;

  @Field(() => RemoveWriteOffInput, { nullable: true, description: 'A write-off removal (ADJUSTMENT batches).' })
  removeWriteOff?: RemoveWriteOffInput | null;

  @Field(() => ApplyCreditInput, { nullable: true, description: "Applying a patient's credit (DEPOSIT and ADJUSTMENT batches)." })
  applyCredit?: ApplyCreditInput | null;

  @Field(() => RecordRemittanceInput, { nullable: true, description: 'A remittance for one charge (REMITTANCE batches).' })
  remittance?: RecordRemittanceInput | null;

  @Field(() => ReverseRemittanceInput, { nullable: true, description: 'A remittance reversal (REMITTANCE batches).' })
  reverseRemittance?: ReverseRemittanceInput | null;
}

@InputType({ description: 'A new DRAFT posting batch, with any entries to start with.' })
export class CreatePostingBatchInput {
  @Field(() => PostingBatchKindEnum, { description: 'What the batch is for: DEPOSIT, REMITTANCE or ADJUSTMENT.' })
  kind: PostingBatchKind;

  @Field({ description: 'Deposit slip, check or EFT trace number (1 to 255 characters).' })
  reference: string;

  @Field(() => String, { nullable: true, description: "The payer's name (up to 255 characters)." })
  payerName?: string | null;

  @Field(() => String, { nullable: true, description: 'When the money was deposited or paid, YYYY-MM-DD.' })
  depositDate?: string | null;

  @Field(() => Int, { nullable: true, description: "What a DEPOSIT's payment entries must add up to before it can post, in cents." })
  expectedTotalCents?: number | null;

  @Field(() => [PostingEntryInput], {
    nullable: true,
    description: `Entries to start with, in posting order. At most ${MAX_ENTRIES_PER_ADD}; a batch holds at most ${MAX_ENTRIES_PER_BATCH}.`,
  })
  @Extensions({ maxItems: MAX_ENTRIES_PER_ADD })
  entries?: PostingEntryInput[] | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Add entries to the end of a DRAFT batch.' })
export class AddPostingEntriesInput {
  @Field(() => ID, { description: 'The DRAFT batch.' })
  batchId: string;

  @Field(() => [PostingEntryInput], { description: `The entries, in posting order. At most ${MAX_ENTRIES_PER_ADD}; a batch holds at most ${MAX_ENTRIES_PER_BATCH}.` })
  @Extensions({ maxItems: MAX_ENTRIES_PER_ADD })
  entries: PostingEntryInput[];
}

@InputType({ description: 'Remove one entry from a DRAFT batch.' })
export class RemovePostingEntryInput {
  @Field(() => ID, { description: 'The entry.' })
  entryId: string;
}

@InputType({ description: 'Post a DRAFT batch: every entry in one transaction, or none.' })
export class PostPostingBatchInput {
  @Field(() => ID, { description: 'The DRAFT batch.' })
  batchId: string;

  @Field({ description: 'The `token` of the preview staff checked: refused with PREVIEW_STALE when anything it saw has changed.' })
  previewToken: string;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Undo a posted batch with an equal and opposite one.' })
export class NegatePostingBatchInput {
  @Field(() => ID, { description: 'The POSTED batch.' })
  batchId: string;

  @Field({ description: 'Why (1 to 255 characters).' })
  reason: string;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of createPostingBatch, addPostingEntries and removePostingEntry. Editing a DRAFT changes no balance.' })
export class PostingBatchPayload {
  @Field(() => PostingBatch, { nullable: true, description: 'The batch as it is now; null when refused.' })
  batch: PostingBatchView | null;

  @Field(() => [UserError], { description: `Why it was refused (nothing changed); empty on success. At most ${MAX_USER_ERRORS}.` })
  @Extensions({ maxItems: MAX_USER_ERRORS })
  userErrors: UserError[];
}

/** postPostingBatch and negatePostingBatch answer with the batch, the balances and the refusals (not itself in the schema). */
@ObjectType({ simpleResolvers: true })
abstract class PostedBatchPayload extends PostingBatchPayload {
  @Field(() => [PatientBalance], {
    description: `Every touched patient's balance after it, each with its version up by exactly one; empty when refused. At most ${MAX_ENTRIES_PER_BATCH}.`,
  })
  @Extensions({ maxItems: MAX_ENTRIES_PER_BATCH })
  balances: BalanceView[];
}

@ObjectType({ simpleResolvers: true, description: 'Result of postPostingBatch. The first refusal comes back with its entry\'s path, and nothing changed.' })
export class PostPostingBatchPayload extends PostedBatchPayload {}

@ObjectType({ simpleResolvers: true, description: 'Result of negatePostingBatch.' })
export class NegatePostingBatchPayload extends PostedBatchPayload {
  @Field(() => PostingBatch, { nullable: true, description: 'The posted batch of equal and opposite entries that undid it (its `negates`); null when refused.' })
  negation: PostingBatchView | null;
}
