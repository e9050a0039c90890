import crypto from 'node:crypto';
import type { Database, SqlRunner } from '../db/database';
import { type AuditCaller, type AuditService, patientsOf } from '../audit/audit.service';
import { roleCan } from '../auth/roles';
import { RequestKey } from '../idempotency/request-key';
import { candidateCharges, fileImportedAt, importedPayments, recordImports } from '../ledger-store/era-store';
import { MAX_BATCHES_PER_IMPORT, Refusal, RefusalCode, Tooltip, cleanOptionalText, isRefusal, refusal } from '../ledger';
import type { CheckedBatch, PostingService } from '../posting/posting.service';
import { Era835, InvalidX12, MAX_ERA_BYTES, parse835 } from './era835';
import { ProposedBatch, describePayment, matchKeys, paymentKey, plain, proposeBatches, repeatedPayment } from './era-import';

export interface ImportRemittanceFileCommand {
  content: string;
  fileName?: string | null;
  idempotencyKey?: string | null;
}

/** The DRAFT batches the file became, in file order. */
export type ImportResult = { batchIds: string[] };

const OPERATION = 'importRemittanceFile';
const CONTENT = ['input', 'content'];
/** TRN02 is at most 50 characters in the 835; `remittance_imports.trace_number` holds 64. */
const MAX_TRACE_LENGTH = 50;

/**
 * Importing an 835 (docs/design.md §9.1): the file is parsed (src/era/era835.ts), its claims matched to the
 * practice's charges (src/era/era-import.ts), and each payment becomes a DRAFT REMITTANCE batch that staff preview
 * and post (§8.1); nothing posts money by itself. A file is taken whole or refused whole: every batch and the record
 * of its payments are written in one unit of work, so a payment is never imported twice.
 */
export class EraImportService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
    private readonly posting: PostingService,
  ) {}

  async import(caller: AuditCaller, { idempotencyKey, ...input }: ImportRemittanceFileCommand): Promise<ImportResult | Refusal> {
    const practiceId = caller.actor.practiceId;
    const refuse = async (why: Refusal) => {
      await this.audit.record(caller, { operation: OPERATION, outcome: 'REFUSED', code: why.code });
      return why;
    };
    if (!roleCan(caller.actor.role, 'RECORD_REMITTANCE')) return refuse(refusal(RefusalCode.FORBIDDEN, Tooltip.FORBIDDEN));
    const bytes = Buffer.byteLength(input.content, 'utf8');
    if (bytes > MAX_ERA_BYTES) return refuse(tooLarge(bytes));
    const fileName = cleanOptionalText(input.fileName, { label: 'file name', field: ['input', 'fileName'] });
    if (isRefusal(fileName)) return refuse(fileName);
    const fileHash = crypto.createHash('sha256').update(input.content, 'utf8').digest('hex');
    // The key's fingerprint is the file's hash, not its megabytes.
    const key = RequestKey.of(practiceId, OPERATION, idempotencyKey, { fileHash, fileName });
    if (isRefusal(key)) return refuse(key);
    const earlier = key && (await key.earlier<ImportResult>(this.db));
    if (earlier) return earlier.status === 'reused' ? refuse(earlier.refusal) : this.replayed(caller, earlier.result);

    const era = readFile(input.content);
    if (isRefusal(era)) return refuse(era);
    const payments = era.payments.map(paymentKey);
    const seen = await this.alreadyImported(this.db, practiceId, fileHash, era, payments);
    if (seen) {
      // A retry with the same key may have committed between the key's check above and this one: it is a replay.
      const committed = key && (await key.earlier<ImportResult>(this.db));
      if (committed) return committed.status === 'reused' ? refuse(committed.refusal) : this.replayed(caller, committed.result);
      return refuse(seen);
    }

    const charges = await candidateCharges(this.db, practiceId, matchKeys(era));
    const proposals = proposeBatches(era, charges);
    if (proposals.length > MAX_BATCHES_PER_IMPORT) {
      return refuse(
        refusal(
          RefusalCode.TOO_MANY_ITEMS,
          `This file would make ${proposals.length} batches (one per payment, more for a payment of over a few hundred claims); an import makes at most ${MAX_BATCHES_PER_IMPORT}. Ask the clearinghouse to split the file.`,
          CONTENT,
        ),
      );
    }
    const checked: { proposal: ProposedBatch; batch: CheckedBatch }[] = [];
    for (const proposal of proposals) {
      const batch = await this.posting.check(caller, {
        kind: 'REMITTANCE',
        reference: proposal.reference,
        payerName: proposal.payerName,
        depositDate: proposal.depositDate,
        expectedTotalCents: proposal.expectedTotalCents,
        entries: proposal.entries,
      });
      // The proposals are built to pass; a refusal here is about the file's data (a text the ledger cannot keep).
      if (isRefusal(batch)) return refuse(refusal(batch.code, `${capitalize(describePayment(era.payments[proposal.paymentIndex]))}: ${batch.message}`, CONTENT));
      checked.push({ proposal, batch });
    }

    const now = new Date().toISOString();
    const outcome = await this.db.transaction(async (tx): Promise<ImportResult | Refusal | { replayed: ImportResult }> => {
      // A concurrent import of the same file or payment may have committed since the checks above. On PostgreSQL one
      // committing later makes an insert below a unique violation, and the Database retries the unit, which sees it.
      const raced = key && (await key.earlier<ImportResult>(tx));
      if (raced) return raced.status === 'reused' ? raced.refusal : { replayed: raced.result };
      const imported = await this.alreadyImported(tx, practiceId, fileHash, era, payments);
      if (imported) {
        // On PostgreSQL each statement sees the latest commit: the same key may have landed between the two reads.
        const landed = key && (await key.earlier<ImportResult>(tx));
        if (landed) return landed.status === 'reused' ? landed.refusal : { replayed: landed.result };
        return imported;
      }
      const batchIds: string[] = [];
      const firstBatch = new Map<number, string>();
      for (const { proposal, batch } of checked) {
        const batchId = await this.posting.insertDraft(tx, caller, batch, now, proposal.issues);
        batchIds.push(batchId);
        if (!firstBatch.has(proposal.paymentIndex)) firstBatch.set(proposal.paymentIndex, batchId);
      }
      await recordImports(
        tx,
        practiceId,
        payments.map((p, i) => ({ id: crypto.randomUUID(), ...p, fileHash, batchId: firstBatch.get(i)!, importedAt: now, importedBy: caller.actor.userId })),
      );
      await key?.store(tx, '', { batchIds }, now);
      await this.audit.recordIn(tx, caller, { operation: OPERATION, outcome: 'ACCEPTED', ...patientsOf(checked.flatMap(({ batch }) => batch.entries)), entityIds: batchIds, occurredAt: now });
      return { batchIds };
    });
    if (isRefusal(outcome)) return refuse(outcome);
    if ('replayed' in outcome) return this.replayed(caller, outcome.replayed);
    return outcome;
  }

  private async replayed(caller: AuditCaller, result: ImportResult): Promise<ImportResult> {
    await this.audit.record(caller, { operation: OPERATION, outcome: 'ACCEPTED', code: 'IDEMPOTENT_REPLAY', entityIds: result.batchIds });
    return result;
  }

  /**
   * DUPLICATE_REMITTANCE when the same file, or any payment of it (payer + TRN02), was imported before. `keys` are the
   * file's payments' keys (paymentKey), in the file's order.
   */
  private async alreadyImported(
    sql: SqlRunner,
    practiceId: string,
    fileHash: string,
    era: Era835,
    keys: readonly ReturnType<typeof paymentKey>[],
  ): Promise<Refusal | null> {
    const fileAt = await fileImportedAt(sql, practiceId, fileHash);
    if (fileAt) {
      return refusal(RefusalCode.DUPLICATE_REMITTANCE, `This file was already imported on ${fileAt.slice(0, 10)}: its batches are in the Posting Tool. Nothing was imported again.`, CONTENT);
    }
    const [found] = await importedPayments(sql, practiceId, keys);
    if (!found) return null;
    const payment = era.payments[keys.findIndex((k) => k.payerKey === found.payerKey && k.traceNumber === found.traceNumber)];
    return refusal(
      RefusalCode.DUPLICATE_REMITTANCE,
      `${capitalize(describePayment(payment))} (segment ${payment.segment}) was already imported on ${found.importedAt.slice(0, 10)}, so this file was not imported. ` +
        'If the payer sent a corrected file, post the difference by hand.',
      CONTENT,
    );
  }
}

/** The parsed file, or why it cannot be imported: INVALID_X12 (what and where), or a payment it holds twice. */
function readFile(content: string): Era835 | Refusal {
  let era: Era835;
  try {
    era = parse835(content);
  } catch (error) {
    // The message names the segment (counting from ISA as 1) and what is wrong with it.
    if (error instanceof InvalidX12) return refusal(RefusalCode.INVALID_X12, error.message.slice(0, 1000), CONTENT);
    throw error;
  }
  if (era.payments.length === 0) return refusal(RefusalCode.INVALID_X12, 'The file holds no payment: it has no 835 transaction set (ST … SE).', CONTENT);
  // The trace number is the batch's reference and the payment's key: plain text, as X12 defines it.
  const long = era.payments.find((p) => p.traceNumber.length > MAX_TRACE_LENGTH || plain(p.traceNumber) !== p.traceNumber);
  if (long) return refusal(RefusalCode.INVALID_X12, `Segment ${long.segment + 1} (TRN): TRN02 (the trace number) must be 1 to ${MAX_TRACE_LENGTH} printable characters.`, CONTENT);
  const repeated = repeatedPayment(era);
  if (repeated) {
    return refusal(
      RefusalCode.DUPLICATE_REMITTANCE,
      `${capitalize(describePayment(repeated.again))} appears twice in this file (segments ${repeated.first.segment} and ${repeated.again.segment}), so it was not imported. Ask the sender for a corrected file.`,
      CONTENT,
    );
  }
  return era;
}

function tooLarge(bytes: number): Refusal {
  return refusal(
    RefusalCode.FILE_TOO_LARGE,
    `The file is ${bytes.toLocaleString('en-US')} bytes; an 835 import takes at most ${MAX_ERA_BYTES.toLocaleString('en-US')} (5 MiB). Ask the clearinghouse to split it.`,
    CONTENT,
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
