import crypto from 'node:crypto';
import type { Database, Transaction } from '../db/database';
import { type AuditCaller, type AuditService, patientsOf } from '../audit/audit.service';
import { BATCH_KIND_PERMISSIONS, roleCan } from '../auth/roles';
import { MoneyCommand, MoneyMutations, MutationResult, Step } from '../ledger-store/money-mutations';
import { RequestKey } from '../idempotency/request-key';
import {
  BatchRow,
  EntryRow,
  NewEntry,
  allocationAmounts,
  appendEntries,
  batchRow,
  deleteEntry,
  entriesOf,
  entryOwner,
  insertBatch,
  lockBatch,
  markBatch,
  remittancesOf,
  removalsOf,
} from '../ledger-store/posting-batches';
import type { LedgerReader } from '../read-model/ledger-reader';
import {
  Adjustment,
  MAX_ENTRIES_PER_ADD,
  MAX_ENTRIES_PER_BATCH,
  MAX_LINES_PER_REMITTANCE_ENTRY,
  MAX_LINES_PER_CREDIT,
  MAX_PREVIEW_LINES,
  Refusal,
  RefusalCode,
  Tooltip,
  checkCalendarDate,
  cleanOptionalText,
  cleanText,
  creditInputRefusal,
  formatCents,
  isRefusal,
  notFound,
  paymentInputRefusal,
  refusal,
  remittanceInputRefusal,
  removalInputRefusal,
  reverseRemittanceInputRefusal,
  sumCents,
  writeOffInputRefusal,
} from '../ledger';
import type { PaymentService, RecordPaymentCommand } from '../payments/payment.service';
import type { CancellationService } from '../responsibilities/cancellation.service';
import type { RemoveWriteOffCommand, WriteOffCommand, WriteOffService } from '../write-offs/write-off.service';
import type { ApplyCreditCommand, CreditService } from '../credit/credit.service';
import type { RecordRemittanceCommand, RemittanceService, ReverseRemittanceCommand } from '../remittances/remittance.service';
import type { CommittedBalance } from '../ledger-store/money-mutations';
import type { PostingBatchKind, PostingEntryKind, PostingPreviewView, RemittanceIssueView } from '../read-model/views';

/** One entry as sent: exactly one member set, each the input of the mutation it defers (docs/design.md §8.1). */
export interface EntryInput {
  payment?: RecordPaymentCommand | null;
  writeOff?: WriteOffCommand | null;
  removeWriteOff?: RemoveWriteOffCommand | null;
  applyCredit?: ApplyCreditCommand | null;
  remittance?: RecordRemittanceCommand | null;
  reverseRemittance?: ReverseRemittanceCommand | null;
}

export interface CreateBatchCommand {
  kind: PostingBatchKind;
  reference: string;
  payerName?: string | null;
  depositDate?: string | null;
  expectedTotalCents?: number | null;
  entries?: EntryInput[] | null;
  idempotencyKey?: string | null;
}

export type BatchResult = { batchId: string };

/** A new batch as `check` accepted it: its cleaned fields and entries, ready for `insertDraft`. */
export interface CheckedBatch {
  kind: PostingBatchKind;
  reference: string;
  payerName: string | null;
  depositDate: string | null;
  expectedTotalCents: number | null;
  entries: NewEntry[];
}

export type PostResult = { batchId: string; status: 'accepted' | 'replayed'; balances: CommittedBalance[] };
export type NegateResult = PostResult & { negationId: string };


const MEMBERS: Record<keyof EntryInput, PostingEntryKind> = {
  payment: 'PAYMENT',
  writeOff: 'WRITE_OFF',
  removeWriteOff: 'REMOVE_WRITE_OFF',
  applyCredit: 'APPLY_CREDIT',
  remittance: 'REMITTANCE',
  reverseRemittance: 'REVERSE_REMITTANCE',
};
const MEMBER_OF = Object.fromEntries(Object.entries(MEMBERS).map(([member, kind]) => [kind, member])) as Record<PostingEntryKind, keyof EntryInput>;

/** What each kind of batch holds (docs/design.md §8.1). */
const ALLOWED: Record<PostingBatchKind, readonly PostingEntryKind[]> = {
  DEPOSIT: ['PAYMENT', 'APPLY_CREDIT'],
  REMITTANCE: ['REMITTANCE', 'REVERSE_REMITTANCE', 'WRITE_OFF'],
  ADJUSTMENT: ['WRITE_OFF', 'REMOVE_WRITE_OFF', 'APPLY_CREDIT'],
};

const forbidden = (): Refusal => refusal(RefusalCode.FORBIDDEN, Tooltip.FORBIDDEN);
const tooMany = (max: number, field: readonly string[]): Refusal => refusal(RefusalCode.TOO_MANY_ITEMS, `At most ${max} entries: split the batch.`, field);

export interface PostingServices {
  payments: PaymentService;
  cancellations: CancellationService;
  writeOffs: WriteOffService;
  credit: CreditService;
  remittances: RemittanceService;
  /** What a replayed post or negation answers with: the touched patients' balances as they are now. */
  reader: LedgerReader;
}

/**
 * The Posting Tool (docs/design.md §8.1): batches of deferred mutations, built up while DRAFT, previewed on copies of
 * the patients' ledgers, posted as one unit of work, and undone only by a negating batch.
 */
export class PostingService {
  constructor(
    private readonly db: Database,
    private readonly mutations: MoneyMutations,
    private readonly audit: AuditService,
    private readonly services: PostingServices,
  ) {}

  async create(caller: AuditCaller, { idempotencyKey, ...input }: CreateBatchCommand): Promise<BatchResult | Refusal> {
    const practiceId = caller.actor.practiceId;
    const operation = 'createPostingBatch';
    const refuse = (why: Refusal) => this.refuse(caller, operation, why);
    // One call adds at most MAX_ENTRIES_PER_ADD, as addPostingEntries; a batch checked whole (`check`) holds more.
    if ((input.entries?.length ?? 0) > MAX_ENTRIES_PER_ADD) return refuse(tooMany(MAX_ENTRIES_PER_ADD, ['input', 'entries']));
    const checked = await this.check(caller, input);
    if (isRefusal(checked)) return refuse(checked);
    const key = RequestKey.of(practiceId, operation, idempotencyKey, input);
    if (isRefusal(key)) return refuse(key);
    const earlier = key && (await key.earlier<BatchResult>(this.db));
    if (earlier) return earlier.status === 'reused' ? refuse(earlier.refusal) : earlier.result;

    const now = new Date().toISOString();
    const batchId = await this.db.transaction(async (tx) => {
      const id = await this.insertDraft(tx, caller, checked, now);
      await key?.store(tx, '', { batchId: id }, now);
      await this.audit.recordIn(tx, caller, { operation, outcome: 'ACCEPTED', ...patientsOf(checked.entries), entityIds: [id] });
      return id;
    });
    return { batchId };
  }

  /**
   * Checks a new batch and its entries as createPostingBatch does (role, texts, amounts, each entry's shape and
   * ownership, the line budget), and writes nothing: what `insertDraft` then writes. An 835 import checks every batch
   * of a file this way before it writes any (docs/design.md §9.1), and a write-off rule run its one batch (§9.2): up to
   * MAX_ENTRIES_PER_BATCH entries, in the caller's one unit of work, where createPostingBatch takes MAX_ENTRIES_PER_ADD.
   */
  async check(caller: AuditCaller, input: Omit<CreateBatchCommand, 'idempotencyKey'>): Promise<CheckedBatch | Refusal> {
    if ((input.entries?.length ?? 0) > MAX_ENTRIES_PER_BATCH) return tooMany(MAX_ENTRIES_PER_BATCH, ['input', 'entries']);
    if (!this.mayWork(caller, input.kind)) return forbidden();
    const reference = cleanText(input.reference, { label: 'reference', field: ['input', 'reference'] });
    if (isRefusal(reference)) return reference;
    const payerName = cleanOptionalText(input.payerName, { label: 'payer name', field: ['input', 'payerName'] });
    if (isRefusal(payerName)) return payerName;
    const depositDate = input.depositDate ? checkCalendarDate(input.depositDate, 'deposit date', ['input', 'depositDate']) : null;
    if (isRefusal(depositDate)) return depositDate;
    const expected = input.expectedTotalCents ?? null;
    if (expected !== null && !(Number.isSafeInteger(expected) && expected >= 0)) {
      return refusal(RefusalCode.INVALID_AMOUNT, 'The expected total is a whole number of cents, $0.00 or more.', ['input', 'expectedTotalCents']);
    }
    const entries = await this.prepare(caller, input.kind, input.entries ?? []);
    if (isRefusal(entries)) return entries;
    if (lineBudget(entries) > MAX_PREVIEW_LINES) return tooManyLines();
    return { kind: input.kind, reference, payerName, depositDate, expectedTotalCents: expected, entries };
  }

  /**
   * Writes a checked DRAFT batch and its entries in the caller's unit of work, with what an 835 import could not
   * propose (docs/design.md §9.1); returns its id. The caller records the audit event and any idempotency key.
   */
  async insertDraft(tx: Transaction, caller: AuditCaller, checked: CheckedBatch, now: string, issues: readonly RemittanceIssueView[] = []): Promise<string> {
    const practiceId = caller.actor.practiceId;
    const batchId = crypto.randomUUID();
    const { kind, reference, payerName, depositDate, expectedTotalCents, entries } = checked;
    await insertBatch(tx, { id: batchId, practiceId, kind, status: 'DRAFT', reference, payerName, depositDate, expectedTotalCents, createdAt: now, createdBy: caller.actor.userId, createdRole: caller.actor.role, issues });
    await appendEntries(tx, practiceId, batchId, entries, now);
    return batchId;
  }

  async addEntries(caller: AuditCaller, input: { batchId: string; entries: EntryInput[] }): Promise<BatchResult | Refusal> {
    const operation = 'addPostingEntries';
    const practiceId = caller.actor.practiceId;
    const refuse = (why: Refusal) => this.refuse(caller, operation, why);
    if (input.entries.length > MAX_ENTRIES_PER_ADD) return refuse(tooMany(MAX_ENTRIES_PER_ADD, ['input', 'entries']));
    const batch = await this.draft(caller, input.batchId);
    if (isRefusal(batch)) return refuse(batch);
    const entries = await this.prepare(caller, batch.kind as PostingBatchKind, input.entries);
    if (isRefusal(entries)) return refuse(entries);
    const outcome = await this.db.transaction(async (tx) => {
      // Checked again inside the unit: the batch may have been posted meanwhile.
      const locked = await lockBatch(tx, practiceId, batch.id);
      if (locked?.status !== 'DRAFT') return notDraft();
      const stored = await entriesOf(tx, practiceId, batch.id);
      if (stored.length + entries.length > MAX_ENTRIES_PER_BATCH) return tooMany(MAX_ENTRIES_PER_BATCH, ['input', 'entries']);
      if (lineBudget([...stored, ...entries]) > MAX_PREVIEW_LINES) return tooManyLines();
      await appendEntries(tx, practiceId, batch.id, entries, new Date().toISOString());
      await this.audit.recordIn(tx, caller, { operation, outcome: 'ACCEPTED', ...patientsOf(entries), entityIds: [batch.id] });
      return null;
    });
    return outcome ? refuse(outcome) : { batchId: batch.id };
  }

  async removeEntry(caller: AuditCaller, input: { entryId: string }): Promise<BatchResult | Refusal> {
    const operation = 'removePostingEntry';
    const practiceId = caller.actor.practiceId;
    const refuse = (why: Refusal) => this.refuse(caller, operation, why);
    const owner = await entryOwner(this.db, practiceId, input.entryId);
    if (!owner) return refuse(notFound('batch entry', ['input', 'entryId']));
    const { batchId, patientId } = owner;
    const batch = await this.draft(caller, batchId);
    if (isRefusal(batch)) return refuse(batch);
    const outcome = await this.db.transaction(async (tx) => {
      const locked = await lockBatch(tx, practiceId, batchId);
      if (locked?.status !== 'DRAFT') return notDraft();
      await deleteEntry(tx, practiceId, batchId, input.entryId);
      await this.audit.recordIn(tx, caller, { operation, outcome: 'ACCEPTED', patientId, entityIds: [batchId, input.entryId] });
      return null;
    });
    return outcome ? refuse(outcome) : { batchId };
  }

  /**
   * What posting the batch would do now (docs/design.md §8.1): the same commands applied, in order, to copies of the
   * touched patients' ledgers. Changes, locks and publishes nothing; cheap enough for every keystroke.
   */
  async preview(caller: AuditCaller, batchId: string): Promise<PostingPreviewView> {
    const practiceId = caller.actor.practiceId;
    const batch = await batchRow(this.db, practiceId, batchId);
    if (!batch) throw new Error('preview of a batch the resolver did not find');
    const entries = await entriesOf(this.db, practiceId, batchId);
    // A posted batch is never posted again: there is nothing to preview.
    if (batch.status !== 'DRAFT') {
      const why = notDraft();
      return { valid: false, userErrors: [{ code: why.code, message: why.message, field: [...why.field!] }], patients: [], lines: [], token: '' };
    }
    const run = await this.mutations.dryRun(caller, this.steps(caller, entries), batch.id, () => outOfBalance(batch));
    const userErrors = run.refusals.map((r) => ({ code: r.code, message: r.message, field: r.field ? [...r.field] : undefined }));
    return {
      valid: userErrors.length === 0,
      userErrors,
      patients: run.patients.map((p) => ({ patientId: p.patientId, before: { patientId: p.patientId, ...p.before }, after: { patientId: p.patientId, ...p.after } })),
      lines: run.lines,
      token: previewToken(batch, entries, run.versions),
    };
  }

  /** Posts every entry in one unit of work, or none (docs/design.md §8.1). */
  async post(caller: AuditCaller, input: { batchId: string; previewToken: string; idempotencyKey?: string | null }): Promise<PostResult | Refusal> {
    const operation = 'postPostingBatch';
    const practiceId = caller.actor.practiceId;
    const batch = await batchRow(this.db, practiceId, input.batchId);
    if (!batch) return this.refuse(caller, operation, notFound('posting batch', ['input', 'batchId']));
    if (!this.mayWork(caller, batch.kind as PostingBatchKind)) return this.refuse(caller, operation, forbidden());
    const entries = await entriesOf(this.db, practiceId, batch.id);
    // The batch as locked inside the unit: its status, and the payment total the entries posted add up to.
    let locked: BatchRow | null = null;
    const outcome = await this.mutations.runMany(caller, {
      operation,
      input: { batchId: batch.id, previewToken: input.previewToken },
      idempotencyKey: input.idempotencyKey,
      steps: this.steps(caller, entries),
      batchId: batch.id,
      stale: async (tx, versions) => {
        locked = await lockBatch(tx, practiceId, batch.id);
        if (locked?.status !== 'DRAFT') return notDraft();
        return previewToken(batch, entries, versions) === input.previewToken ? null : stalePreview();
      },
      check: () => outOfBalance(locked ?? batch),
      finish: async (tx, results, now) => {
        // Entries added or removed since they were read make the preview stale, whatever the versions say.
        const current = await entriesOf(tx, practiceId, batch.id);
        if (current.map((e) => e.id).join() !== entries.map((e) => e.id).join()) return stalePreview();
        await markBatch(
          tx,
          practiceId,
          { id: batch.id, status: 'POSTED', at: now, by: caller.actor.userId, role: caller.actor.role },
          entries.map((entry, i) => ({ entryId: entry.id, result: results[i] })),
        );
        return { batchId: batch.id };
      },
    });
    if (outcome.status === 'refused') return outcome.refusal;
    return { batchId: batch.id, status: outcome.status, balances: await this.balancesOf(caller, outcome, entries) };
  }

  /** A unit's own balances; for a replay, the touched patients' balances as they are now (docs/design.md §3). */
  private async balancesOf(caller: AuditCaller, outcome: { status: 'accepted'; balances: CommittedBalance[] } | { status: 'replayed' }, entries: readonly EntryRow[]) {
    if (outcome.status === 'accepted') return outcome.balances;
    const balances = await this.services.reader.balances(caller.actor.practiceId, [...new Set(entries.map((e) => e.patientId))]);
    return balances.sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0));
  }

  /**
   * Posts the equal and opposite of a posted batch as a new batch that references it (docs/design.md §8.1), in one
   * unit of work, and marks the original NEGATED. Refused when later activity depends on one of its entries.
   */
  async negate(caller: AuditCaller, input: { batchId: string; reason: string; idempotencyKey?: string | null }): Promise<NegateResult | Refusal> {
    const operation = 'negatePostingBatch';
    const practiceId = caller.actor.practiceId;
    const refuse = (why: Refusal) => this.refuse(caller, operation, why);
    const batch = await batchRow(this.db, practiceId, input.batchId);
    if (!batch) return refuse(notFound('posting batch', ['input', 'batchId']));
    // ALREADY_NEGATED is decided inside the unit, after a retry of the negation itself was recognised.
    if (batch.status === 'DRAFT') return refuse(refusal(RefusalCode.BATCH_NOT_POSTED, 'Only a posted batch can be negated; a draft can simply be changed.', ['input', 'batchId']));
    const reason = cleanText(input.reason, { label: 'reason', field: ['input', 'reason'] });
    if (isRefusal(reason)) return refuse(reason);
    const entries = await entriesOf(this.db, practiceId, batch.id);
    const negationId = crypto.randomUUID();
    const inverse = await this.inverseEntries(caller, entries, reason);
    const outcome = await this.mutations.runMany(caller, {
      operation,
      input: { batchId: batch.id, reason },
      idempotencyKey: input.idempotencyKey,
      steps: inverse.map((e) => e.step),
      batchId: negationId,
      stale: async (tx) => {
        const locked = await lockBatch(tx, practiceId, batch.id);
        return locked?.status === 'POSTED' ? null : refusal(RefusalCode.ALREADY_NEGATED, 'This batch was already negated.', ['input', 'batchId']);
      },
      finish: async (tx, results, now) => {
        await insertBatch(tx, {
          id: negationId,
          practiceId,
          kind: batch.kind,
          status: 'POSTED',
          reference: `Negation of ${batch.reference}`.slice(0, 255),
          payerName: null,
          depositDate: null,
          expectedTotalCents: null,
          createdAt: now,
          createdBy: caller.actor.userId,
          createdRole: caller.actor.role,
          negatesId: batch.id,
        });
        await appendEntries(tx, practiceId, negationId, inverse.map((e, i) => ({ ...e.entry, created: results[i] })), now);
        await markBatch(tx, practiceId, { id: batch.id, status: 'NEGATED', negatedById: negationId });
        return { batchId: batch.id, negationId };
      },
    });
    if (outcome.status === 'refused') return outcome.refusal;
    return { batchId: batch.id, negationId: String(outcome.result.negationId), status: outcome.status, balances: await this.balancesOf(caller, outcome, entries) };
  }

  /** DEPOSIT batches are worked like payments; REMITTANCE and ADJUSTMENT batches like remittances (docs/design.md §8.1). */
  private mayWork(caller: AuditCaller, kind: PostingBatchKind): boolean {
    return roleCan(caller.actor.role, BATCH_KIND_PERMISSIONS[kind]);
  }

  private async draft(caller: AuditCaller, batchId: string): Promise<BatchRow | Refusal> {
    const batch = await batchRow(this.db, caller.actor.practiceId, batchId);
    if (!batch) return notFound('posting batch', ['input', 'batchId']);
    if (!this.mayWork(caller, batch.kind as PostingBatchKind)) return forbidden();
    if (batch.status !== 'DRAFT') return notDraft();
    return batch;
  }

  /** Checks entries' shape and ownership as they are added (docs/design.md §8.1); the ledger rules wait for preview and post. */
  private async prepare(caller: AuditCaller, kind: PostingBatchKind, inputs: readonly EntryInput[]): Promise<NewEntry[] | Refusal> {
    const entries: NewEntry[] = [];
    for (const [i, entry] of inputs.entries()) {
      const path = ['input', 'entries', String(i)];
      const set = (Object.keys(MEMBERS) as (keyof EntryInput)[]).filter((m) => entry[m] !== null && entry[m] !== undefined);
      if (set.length !== 1) return refusal(RefusalCode.INVALID_ENTRY, 'Set exactly one kind of entry: payment, writeOff, removeWriteOff, applyCredit, remittance or reverseRemittance.', path);
      const member = set[0];
      const entryKind = MEMBERS[member];
      if (!ALLOWED[kind].includes(entryKind)) {
        return refusal(RefusalCode.ENTRY_NOT_ALLOWED, `A ${kind} batch holds ${ALLOWED[kind].join(', ')} entries, not ${entryKind}.`, [...path, member]);
      }
      const body = entry[member] as unknown as Record<string, unknown> & { idempotencyKey?: string | null };
      if (body.idempotencyKey !== null && body.idempotencyKey !== undefined) {
        return refusal(RefusalCode.INVALID_ENTRY, 'An entry takes no idempotency key of its own: give one to postPostingBatch.', [...path, member, 'idempotencyKey']);
      }
      const { idempotencyKey: _ignored, ...stored } = body;
      const command = this.command(caller, entryKind, stored);
      // The refusal the single mutation gives its input alone, with its code, message and field: its list bounds, then
      // its amounts and texts (src/ledger). A single mutation checks the latter after the rows it names and their rules.
      const inputRefusal = command.inputRefusal ?? inputRefusalOf(entryKind, stored);
      if (inputRefusal) return atEntry(inputRefusal, [...path, member]);
      const patientId = await command.locate(this.db);
      if (isRefusal(patientId)) return atEntry(patientId, [...path, member]);
      entries.push({ id: crypto.randomUUID(), kind: entryKind, patientId, input: stored, ...display(entryKind, stored) });
    }
    return entries;
  }

  /** The command an entry defers: the very one its single mutation runs. */
  private command(caller: AuditCaller, kind: PostingEntryKind, input: Record<string, unknown>): MoneyCommand<MutationResult> {
    const { payments, writeOffs, credit, remittances } = this.services;
    switch (kind) {
      case 'PAYMENT':
        return payments.recordCommand(caller, input as unknown as RecordPaymentCommand);
      case 'WRITE_OFF':
        return writeOffs.writeOffCommand(caller, input as unknown as WriteOffCommand);
      case 'REMOVE_WRITE_OFF':
        return writeOffs.removeCommand(caller, input as unknown as RemoveWriteOffCommand);
      case 'APPLY_CREDIT':
        return credit.applyCommand(caller, input as unknown as ApplyCreditCommand);
      case 'REMITTANCE':
        return remittances.recordCommand(caller, input as unknown as RecordRemittanceCommand);
      case 'REVERSE_REMITTANCE':
        return remittances.reverseCommand(caller, input as unknown as ReverseRemittanceCommand);
    }
  }

  private steps(caller: AuditCaller, entries: readonly EntryRow[]): Step[] {
    return entries.map((entry, i) => ({
      patientId: entry.patientId,
      command: this.command(caller, entry.kind as PostingEntryKind, entry.input),
      path: ['entries', String(i), MEMBER_OF[entry.kind as PostingEntryKind]],
    }));
  }

  /**
   * The equal and opposite of each entry, last first: a payment is voided, a write-off has what is still active
   * removed, a removal is written off again, applied credit goes back to credit, a remittance is reversed, a reversal
   * is recorded again. What later activity stands in the way of refuses with BATCH_HAS_DEPENDENTS, naming it.
   */
  private async inverseEntries(caller: AuditCaller, entries: readonly EntryRow[], reason: string): Promise<{ step: Step; entry: NewEntry }[]> {
    const practiceId = caller.actor.practiceId;
    const { payments, writeOffs } = this.services;
    const inverse: { step: Step; entry: NewEntry }[] = [];
    const id = (value: unknown) => (typeof value === 'string' ? value : '');
    const allocationIdsOf = (entry: EntryRow) => (Array.isArray(entry.created.allocationIds) ? entry.created.allocationIds.map(id) : []);
    // What the entries name, read with one statement per kind of row (per IN-list chunk), not one per entry.
    const ofKind = (...kinds: PostingEntryKind[]) => entries.filter((e) => kinds.includes(e.kind as PostingEntryKind));
    const removals = await removalsOf(this.db, practiceId, ofKind('REMOVE_WRITE_OFF').map((e) => id(e.created.removalId)));
    const allocations = await allocationAmounts(this.db, practiceId, ofKind('APPLY_CREDIT').flatMap(allocationIdsOf));
    const remittances = await remittancesOf(this.db, practiceId, ofKind('REMITTANCE', 'REVERSE_REMITTANCE').map((e) => id(e.created.remittanceRecordId)));
    for (const [i, entry] of entries.map((e, index) => [index, e] as const).reverse()) {
      const path = ['entries', String(i)];
      const blank = { chargeId: null, responsibilityId: null, paymentId: null, writeOffId: null };
      const add = (kind: PostingEntryKind, input: Record<string, unknown>, command: MoneyCommand<MutationResult>, amountCents: number, refs: Partial<NewEntry> = {}) =>
        inverse.push({
          step: { patientId: entry.patientId, command: dependent(command, i + 1, entry), path },
          entry: { id: crypto.randomUUID(), kind, patientId: entry.patientId, input, amountCents, ...blank, ...refs },
        });
      const { created } = entry;
      switch (entry.kind as PostingEntryKind) {
        case 'PAYMENT': {
          // An up-front or self-pay payment made its own line: the opposite of it voids the payment and cancels the line.
          const paymentId = id(created.paymentId);
          const input = { paymentId, reason };
          const line = typeof created.responsibilityId === 'string' ? created.responsibilityId : null;
          const undo = payments.voidCommand(caller, input);
          const command = line ? inOrder(undo, this.services.cancellations.cancelCommand(caller, { responsibilityId: line, reason })) : undo;
          add('PAYMENT', { void: input, ...(line ? { cancelPR: { responsibilityId: line, reason } } : {}) }, command, -entry.amountCents, { paymentId, responsibilityId: line });
          break;
        }
        case 'WRITE_OFF': {
          const writeOffId = id(created.writeOffId);
          const input = { writeOffId, reason };
          add('WRITE_OFF', { removeWriteOff: input }, nothingLeftIsDone(writeOffs.removeCommand(caller, input)), -entry.amountCents, { writeOffId });
          break;
        }
        case 'REMOVE_WRITE_OFF': {
          const removal = removals.get(id(created.removalId));
          if (!removal) throw new Error(`posted removal entry ${entry.id} names no removal`);
          const input = { responsibilityId: removal.lineId, amountCents: removal.amountCents, reason: removal.reason, customReason: removal.customReason, note: reason };
          add('REMOVE_WRITE_OFF', { writeOff: input }, writeOffs.writeOffCommand(caller, input as WriteOffCommand), -removal.amountCents, { responsibilityId: removal.lineId });
          break;
        }
        case 'APPLY_CREDIT': {
          const amounts = new Map(allocationIdsOf(entry).flatMap((a) => (allocations.has(a) ? [[a, allocations.get(a)!] as const] : [])));
          add('APPLY_CREDIT', { returnCredit: [...amounts.keys()] }, returnCredit(entry.patientId, amounts), -entry.amountCents);
          break;
        }
        case 'REMITTANCE': {
          const remittance = remittances.get(id(created.remittanceRecordId));
          if (!remittance) throw new Error(`posted remittance entry ${entry.id} names no remittance`);
          const input = { chargeId: remittance.chargeId, remittanceId: remittance.externalId, reason };
          add('REMITTANCE', { reverseRemittance: input }, this.services.remittances.reverseCommand(caller, input), -entry.amountCents, { chargeId: remittance.chargeId });
          break;
        }
        case 'REVERSE_REMITTANCE': {
          const remittance = remittances.get(id(created.remittanceRecordId));
          if (!remittance) throw new Error(`posted reversal entry ${entry.id} names no remittance`);
          const input = { chargeId: remittance.chargeId, remittanceId: `${remittance.externalId} (recorded again)`.slice(0, 255), adjustments: remittance.adjustments as Adjustment[] };
          add('REVERSE_REMITTANCE', { remittance: input }, this.services.remittances.recordCommand(caller, input), -entry.amountCents, { chargeId: remittance.chargeId });
          break;
        }
      }
    }
    return inverse;
  }

  private async refuse(caller: AuditCaller, operation: string, why: Refusal): Promise<Refusal> {
    await this.audit.record(caller, { operation, outcome: 'REFUSED', code: why.code });
    return why;
  }
}

/**
 * The most lines an entry can touch, as the preview must list them all (docs/design.md §8.1): a payment its
 * allocations (or its own new line), a write-off or removal one, applied credit its allocations (or as many as an
 * automatic application pays), a remittance its charge's lines twice over (the new ones and those it empties).
 */
function lineBudget(entries: readonly { kind: string; input: Record<string, unknown> }[]): number {
  const listed = (list: unknown) => (Array.isArray(list) ? list.length : 0);
  let lines = 0;
  for (const { kind, input } of entries) {
    if (kind === 'PAYMENT') lines += Math.max(1, listed(input.allocations));
    else if (kind === 'APPLY_CREDIT') lines += listed(input.allocations) || MAX_LINES_PER_CREDIT;
    else if (kind === 'REMITTANCE' || kind === 'REVERSE_REMITTANCE') lines += MAX_LINES_PER_REMITTANCE_ENTRY;
    else lines += 1;
  }
  return lines;
}

function tooManyLines(): Refusal {
  return refusal(RefusalCode.TOO_MANY_ITEMS, `A batch may touch at most ${MAX_PREVIEW_LINES.toLocaleString('en-US')} PR lines, so that its preview can list them all: split it.`, ['input', 'entries']);
}

function notDraft(): Refusal {
  return refusal(RefusalCode.BATCH_NOT_DRAFT, 'This batch is already posted: its entries can no longer change. Negate it to undo it.', ['input', 'batchId']);
}

function stalePreview(): Refusal {
  return refusal(RefusalCode.PREVIEW_STALE, 'Something changed since the preview (a patient, or the batch): preview again, then post.', ['input', 'previewToken']);
}

/** What the mutation an entry of `kind` defers refuses about its amounts and texts alone (docs/design.md §2.5, §8.1). */
function inputRefusalOf(kind: PostingEntryKind, input: Record<string, unknown>): Refusal | null {
  switch (kind) {
    case 'PAYMENT':
      return paymentInputRefusal(input as unknown as RecordPaymentCommand);
    case 'WRITE_OFF':
      return writeOffInputRefusal(input as unknown as WriteOffCommand);
    case 'REMOVE_WRITE_OFF':
      return removalInputRefusal(input as unknown as RemoveWriteOffCommand);
    case 'APPLY_CREDIT':
      return creditInputRefusal(input as unknown as ApplyCreditCommand);
    case 'REMITTANCE':
      return remittanceInputRefusal(input as unknown as RecordRemittanceCommand);
    case 'REVERSE_REMITTANCE':
      return reverseRemittanceInputRefusal(input as unknown as ReverseRemittanceCommand);
  }
}

function atEntry(why: Refusal, path: readonly string[]): Refusal {
  const rest = why.field?.[0] === 'input' ? why.field.slice(1) : (why.field ?? []);
  return refusal(why.code, why.message, [...path, ...rest]);
}

/** Fingerprints what a preview saw: the batch's entries in order and every touched patient's version. */
function previewToken(batch: BatchRow, entries: readonly EntryRow[], versions: ReadonlyMap<string, number>): string {
  const seen = { batch: batch.id, entries: entries.map((e) => e.id), versions: [...versions].sort(([a], [b]) => (a < b ? -1 : 1)) };
  return crypto.createHash('sha256').update(JSON.stringify(seen)).digest('base64url');
}

/** A DEPOSIT with an expected total must add up to it (docs/design.md §8.1): its stored payment total, kept as entries change. */
function outOfBalance(batch: BatchRow): Refusal | null {
  if (batch.kind !== 'DEPOSIT' || batch.expectedTotalCents === null) return null;
  const total = batch.paymentTotalCents;
  if (total === batch.expectedTotalCents) return null;
  return refusal(
    RefusalCode.BATCH_OUT_OF_BALANCE,
    `The payments add up to ${formatCents(total)} but the deposit's expected total is ${formatCents(batch.expectedTotalCents)}.`,
    ['expectedTotalCents'],
  );
}

/** What the batch screen shows of an entry: its amount and the rows it names. */
function display(kind: PostingEntryKind, input: Record<string, unknown>): Pick<NewEntry, 'amountCents' | 'chargeId' | 'responsibilityId' | 'paymentId' | 'writeOffId'> {
  const refs = {
    chargeId: typeof input.chargeId === 'string' ? input.chargeId : null,
    responsibilityId: typeof input.responsibilityId === 'string' ? input.responsibilityId : null,
    paymentId: typeof input.paymentId === 'string' ? input.paymentId : null,
    writeOffId: typeof input.writeOffId === 'string' ? input.writeOffId : null,
  };
  const cents = (value: unknown) => (typeof value === 'number' ? value : 0);
  const allocated = (list: unknown) => (Array.isArray(list) ? sumCents(list.map((a) => cents((a as { amountCents?: unknown }).amountCents))) : 0);
  switch (kind) {
    case 'PAYMENT':
    case 'WRITE_OFF':
    case 'REMOVE_WRITE_OFF':
      return { ...refs, amountCents: cents(input.amountCents) };
    case 'APPLY_CREDIT':
      return { ...refs, amountCents: allocated(input.allocations) };
    case 'REMITTANCE': {
      const adjustments = Array.isArray(input.adjustments) ? (input.adjustments as Adjustment[]) : [];
      return { ...refs, amountCents: sumCents(adjustments.filter((a) => String(a.groupCode).toUpperCase() === 'PR').map((a) => cents(a.amountCents))) };
    }
    case 'REVERSE_REMITTANCE':
      return { ...refs, amountCents: 0 };
  }
}

/** A negating step whose refusal means later activity stands in its way: BATCH_HAS_DEPENDENTS, naming the entry. */
function dependent(command: MoneyCommand<MutationResult>, number: number, entry: EntryRow): MoneyCommand<MutationResult> {
  return {
    ...command,
    apply: (write) => {
      const applied = command.apply(write);
      if (!isRefusal(applied)) return applied;
      return refusal(
        RefusalCode.BATCH_HAS_DEPENDENTS,
        `Entry ${number} (${entry.kind.toLowerCase().replace(/_/g, ' ')} of ${formatCents(entry.amountCents)}) can no longer be undone exactly: ${applied.message}`,
      );
    },
  };
}

/** Two commands on one patient applied one after the other, as one step: the first's result, or the first refusal. */
function inOrder(first: MoneyCommand<MutationResult>, then: MoneyCommand<MutationResult>): MoneyCommand<MutationResult> {
  return {
    ...first,
    apply: (write) => {
      const applied = first.apply(write);
      if (isRefusal(applied)) return applied;
      const next = then.apply(write);
      return isRefusal(next) ? next : applied;
    },
  };
}

/** Removing what is still active of a write-off: nothing left active is already undone. */
function nothingLeftIsDone(command: MoneyCommand<MutationResult>): MoneyCommand<MutationResult> {
  return {
    ...command,
    apply: (write) => {
      const applied = command.apply(write);
      return isRefusal(applied) && applied.code === RefusalCode.NOTHING_TO_REMOVE ? {} : applied;
    },
  };
}

/** Applied credit goes back to credit: every allocation it made, whole, or the batch has dependents. */
function returnCredit(patientId: string, amounts: ReadonlyMap<string, number>): MoneyCommand<MutationResult> {
  return {
    operation: 'negatePostingBatch',
    input: { returnCredit: [...amounts.keys()] },
    locate: async () => patientId,
    apply: (write) => {
      for (const [allocationId, cents] of amounts) {
        const allocation = write.ledger.allocations.get(allocationId);
        if (!allocation || allocation.remainingCents !== cents) {
          return refusal(RefusalCode.BATCH_HAS_DEPENDENTS, `Applied credit of ${formatCents(cents)} was since moved by a refund or a correction, so it can no longer be returned exactly.`);
        }
      }
      for (const [allocationId, cents] of amounts) write.reduce(allocationId, cents, 'CREDIT_RETURNED');
      return { patientId };
    },
  };
}
