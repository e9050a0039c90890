import type { AuditCaller } from '../audit/audit.service';
import { MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { ResponsibilityKind, checkCalendarDate, checkLinesPerCharge, checkNewCharge, cleanOptionalText, cleanText, isRefusal, refusal, RefusalCode } from '../ledger';

export interface CreateChargeCommand {
  patientId: string;
  serviceDate: string;
  procedureCode: string;
  description?: string | null;
  billedCents: number;
  /** Omitted, null or empty: a charge whose PR awaits the insurer's remittance. */
  responsibilities?: { kind: ResponsibilityKind; amountCents: number }[] | null;
  /** The patient control number the practice sent on the claim (CLP01 of an insurer's 835). */
  claimNumber?: string | null;
  /** The line item control number of the service line (REF*6R of an 835). */
  lineControlNumber?: string | null;
  idempotencyKey?: string | null;
}

export type ChargeResult = { chargeId: string };

const PROCEDURE_CODE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,31}$/;

/** Charges (visits) and the PR lines staff enter with them (origin STAFF). */
export class ChargeService {
  constructor(private readonly mutations: MoneyMutations) {}

  create(caller: AuditCaller, { idempotencyKey, responsibilities, ...rest }: CreateChargeCommand): Promise<MoneyOutcome<ChargeResult>> {
    // No lines however they were sent, so a retry that omits them matches one that sent an empty list.
    const input = { ...rest, responsibilities: responsibilities ?? [] };
    return this.mutations.run(caller, {
      operation: 'createCharge',
      input,
      inputRefusal: checkLinesPerCharge(input.responsibilities.length, ['input', 'responsibilities']),
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'patients', input.patientId, caller.actor.practiceId, ['input', 'patientId']),
      apply: (write) => {
        const serviceDate = checkCalendarDate(input.serviceDate, 'date of service', ['input', 'serviceDate']);
        if (isRefusal(serviceDate)) return serviceDate;
        const procedureCode = cleanText(input.procedureCode, { label: 'procedure code', field: ['input', 'procedureCode'], max: 32 });
        if (isRefusal(procedureCode)) return procedureCode;
        if (!PROCEDURE_CODE.test(procedureCode)) {
          return refusal(RefusalCode.INVALID_TEXT, 'A procedure code is letters, digits, dots and dashes, like 99213.', ['input', 'procedureCode']);
        }
        const description = cleanOptionalText(input.description, { label: 'description', field: ['input', 'description'] });
        if (isRefusal(description)) return description;
        const claimNumber = cleanOptionalText(input.claimNumber, { label: 'claim number', field: ['input', 'claimNumber'], max: 64 });
        if (isRefusal(claimNumber)) return claimNumber;
        const lineControlNumber = cleanOptionalText(input.lineControlNumber, { label: 'line control number', field: ['input', 'lineControlNumber'], max: 64 });
        if (isRefusal(lineControlNumber)) return lineControlNumber;
        const problem = checkNewCharge(input.billedCents, input.responsibilities.map((r) => r.amountCents));
        if (problem) return problem;
        const chargeId = write.addCharge({ serviceDate, procedureCode: procedureCode.toUpperCase(), description, billedCents: input.billedCents, claimNumber, lineControlNumber });
        for (const line of input.responsibilities) write.addLine({ chargeId, kind: line.kind, origin: 'STAFF', amountCents: line.amountCents });
        return { chargeId };
      },
    });
  }
}
