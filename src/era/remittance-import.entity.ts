import { Entity, Index } from 'typeorm';
import { IdColumn, InstantColumn, PracticeColumn, RefColumn, TextColumn } from '../db/columns';

/**
 * One payment (BPR/TRN) of an imported 835 file and the DRAFT batch it became (docs/design.md §9.1). A payer's trace
 * number is imported once per practice; the file's hash finds every payment a file brought. Append-only.
 */
@Entity('remittance_imports')
@Index('remittance_imports_payment', ['practiceId', 'payerKey', 'traceNumber'], { unique: true })
@Index('remittance_imports_file', ['practiceId', 'fileHash'])
export class RemittanceImportEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  /** The payer's id (or, without one, its name), normalised. */
  @TextColumn('payer_key', 255) payerKey: string;
  /** TRN02: the check or EFT trace number. */
  @TextColumn('trace_number', 64) traceNumber: string;
  /** SHA-256 of the file's content, hex. */
  @TextColumn('file_hash', 64) fileHash: string;
  @RefColumn('batch_id') batchId: string;
  @InstantColumn('imported_at') importedAt: string;
  @TextColumn('imported_by', 255) importedBy: string;
}
