import crypto from 'node:crypto';
import type { Database, SqlRunner } from '../db/database';
import type { AuditCaller, AuditService } from '../audit/audit.service';
import type { BalanceBus } from '../balances/balance-event';
import { EarlierRequest, RequestKey } from '../idempotency/request-key';
import { insertPatient } from '../ledger-store/patient-ledger';
import { Refusal, checkCalendarDate, cleanOptionalText, cleanText, isRefusal, refusal, RefusalCode } from '../ledger';

export interface CreatePatientCommand {
  firstName: string;
  lastName: string;
  dateOfBirth?: string | null;
  mrn?: string | null;
  idempotencyKey?: string | null;
}

export type PatientResult = { patientId: string };

const OPERATION = 'createPatient';
const MRN_FIELD = ['input', 'mrn'];

const duplicateMrn = (): Refusal =>
  refusal(RefusalCode.DUPLICATE_MRN, 'A patient with this MRN already exists in your practice. Search by the MRN to open that patient, or check the number.', MRN_FIELD);

async function mrnTaken(sql: SqlRunner, practiceId: string, mrn: string | null): Promise<boolean> {
  if (mrn === null) return false;
  return (await sql.query('SELECT id FROM patients WHERE practice_id = ? AND mrn = ?', [practiceId, mrn])).length > 0;
}

/**
 * Patients: created with a zero balance at version 0 (docs/design.md §2.6), at most one per MRN in a practice, and
 * safe to retry with an idempotency key like the money mutations (docs/design.md §3).
 */
export class PatientService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
    private readonly bus: BalanceBus,
  ) {}

  async create(caller: AuditCaller, { idempotencyKey, ...input }: CreatePatientCommand): Promise<PatientResult | Refusal> {
    const practiceId = caller.actor.practiceId;
    const key = RequestKey.of(practiceId, OPERATION, idempotencyKey, input);
    if (isRefusal(key)) return this.refuse(caller, key);
    const earlier = key && (await key.earlier<PatientResult>(this.db));
    if (earlier) return this.answerAgain(caller, earlier);
    const checked = this.check(input);
    if (isRefusal(checked)) return this.refuse(caller, checked);

    const now = new Date().toISOString();
    const patient = { id: crypto.randomUUID(), practiceId, ...checked, createdBy: caller.actor.userId };
    // On PostgreSQL a concurrent create with the same key or MRN may commit at any moment. Its patient and key commit
    // together, so looking for the key after the MRN finds a retry's first attempt whenever its MRN was seen; one that
    // commits later makes this insert a unique violation, and the Database retries the transaction, which then sees it.
    // SQLite runs one write transaction at a time, so there nothing commits in between.
    const notCreated = await this.db.transaction(async (tx): Promise<EarlierRequest<PatientResult> | Refusal | null> => {
      const taken = await mrnTaken(tx, practiceId, checked.mrn);
      const raced = key && (await key.earlier<PatientResult>(tx));
      if (raced) return raced;
      if (taken) return duplicateMrn();
      await insertPatient(tx, this.bus, patient, now);
      await key?.store(tx, patient.id, { patientId: patient.id }, now);
      await this.audit.recordIn(tx, caller, { operation: OPERATION, outcome: 'ACCEPTED', patientId: patient.id, entityIds: [patient.id] });
      return null;
    });
    if (notCreated) return isRefusal(notCreated) ? this.refuse(caller, notCreated) : this.answerAgain(caller, notCreated);

    return { patientId: patient.id };
  }

  /** A request whose key was stored: the same patient again (nothing changes, nothing is published), or refused. */
  private async answerAgain(caller: AuditCaller, earlier: EarlierRequest<PatientResult>): Promise<PatientResult | Refusal> {
    if (earlier.status === 'reused') return this.refuse(caller, earlier.refusal, earlier.patientId);
    await this.audit.record(caller, { operation: OPERATION, outcome: 'ACCEPTED', code: 'IDEMPOTENT_REPLAY', patientId: earlier.patientId, entityIds: [earlier.patientId] });
    return earlier.result;
  }

  private async refuse(caller: AuditCaller, why: Refusal, patientId: string | null = null): Promise<Refusal> {
    await this.audit.record(caller, { operation: OPERATION, outcome: 'REFUSED', code: why.code, patientId });
    return why;
  }

  private check(input: Omit<CreatePatientCommand, 'idempotencyKey'>): { firstName: string; lastName: string; dateOfBirth: string | null; mrn: string | null } | Refusal {
    const firstName = cleanText(input.firstName, { label: 'first name', field: ['input', 'firstName'] });
    if (isRefusal(firstName)) return firstName;
    const lastName = cleanText(input.lastName, { label: 'last name', field: ['input', 'lastName'] });
    if (isRefusal(lastName)) return lastName;
    const mrn = cleanOptionalText(input.mrn, { label: 'MRN', field: MRN_FIELD, max: 64 });
    if (isRefusal(mrn)) return mrn;
    let dateOfBirth: string | null = null;
    if (input.dateOfBirth && input.dateOfBirth.trim() !== '') {
      const date = checkCalendarDate(input.dateOfBirth, 'date of birth', ['input', 'dateOfBirth']);
      if (isRefusal(date)) return date;
      if (date > new Date().toISOString().slice(0, 10)) return refusal(RefusalCode.INVALID_DATE, "The date of birth can't be in the future.", ['input', 'dateOfBirth']);
      dateOfBirth = date;
    }
    return { firstName, lastName, dateOfBirth, mrn };
  }
}
