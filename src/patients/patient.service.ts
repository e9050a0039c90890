import crypto from 'node:crypto';
import type { Database } from '../db/database';
import type { AuditCaller, AuditService } from '../audit/audit.service';
import type { BalanceBus } from '../balances/balance-event';
import { PatientEntity } from './patient.entity';
import { Refusal, checkCalendarDate, cleanOptionalText, cleanText, isRefusal, refusal, RefusalCode } from '../ledger';

export interface CreatePatientCommand {
  firstName: string;
  lastName: string;
  dateOfBirth?: string | null;
  mrn?: string | null;
}

/** Patients: created with a zero balance at version 0 (docs/design.md §2.6). */
export class PatientService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
    private readonly bus: BalanceBus,
  ) {}

  async create(caller: AuditCaller, input: CreatePatientCommand): Promise<{ patientId: string } | Refusal> {
    const checked = this.check(input);
    if (isRefusal(checked)) {
      await this.audit.record(caller, { operation: 'createPatient', outcome: 'REFUSED', code: checked.code });
      return checked;
    }
    const now = new Date().toISOString();
    const patient: PatientEntity = Object.assign(new PatientEntity(), {
      id: crypto.randomUUID(),
      practiceId: caller.actor.practiceId,
      ...checked,
      version: 0,
      responsibilityCents: 0,
      paidCents: 0,
      writtenOffCents: 0,
      outstandingCents: 0,
      creditCents: 0,
      balanceUpdatedAt: now,
      createdAt: now,
      createdBy: caller.actor.userId,
    });
    await this.db.transaction(async (tx) => {
      await tx.manager.insert(PatientEntity, patient);
      await this.audit.recordIn(tx, caller, { operation: 'createPatient', outcome: 'ACCEPTED', patientId: patient.id, entityIds: [patient.id] });
    });
    // Dashboards of the practice learn of the new patient with its first (zero) balance.
    this.bus.publish({
      practiceId: patient.practiceId,
      patientId: patient.id,
      version: 0,
      updatedAt: now,
      responsibilityCents: 0,
      paidCents: 0,
      writtenOffCents: 0,
      outstandingCents: 0,
      creditCents: 0,
    });
    return { patientId: patient.id };
  }

  private check(input: CreatePatientCommand): Pick<PatientEntity, 'firstName' | 'lastName' | 'dateOfBirth' | 'mrn'> | Refusal {
    const firstName = cleanText(input.firstName, { label: 'first name', field: ['input', 'firstName'] });
    if (isRefusal(firstName)) return firstName;
    const lastName = cleanText(input.lastName, { label: 'last name', field: ['input', 'lastName'] });
    if (isRefusal(lastName)) return lastName;
    const mrn = cleanOptionalText(input.mrn, { label: 'MRN', field: ['input', 'mrn'], max: 64 });
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
