import type { Services } from '../services';
import type { Actor } from '../auth/actor';
import type { Logger } from '../logger';
import type { MoneyOutcome, MutationResult } from '../ledger-store/money-mutations';
import { isRefusal } from '../ledger';

export const DEMO_PRACTICE_ID = 'demo-practice';

const seeder = { actor: { userId: 'demo-seed', practiceId: DEMO_PRACTICE_ID, role: 'ADMIN', expiresAt: Number.MAX_SAFE_INTEGER } as Actor, requestId: 'demo-seed' };

function accepted<R extends MutationResult>(outcome: MoneyOutcome<R>): R {
  if (outcome.status === 'refused') throw new Error(`demo seed was refused: ${outcome.refusal.code}`);
  return outcome.result;
}

/**
 * On an empty demo practice, creates patients that together show every state a PR line and a patient can be in:
 * open, partly paid, fully paid, written off, a partly removed write-off, remittance PR, estimated and self-pay PR,
 * cancelled PR, and patient credit.
 */
export async function seedDemoPractice(services: Services, logger: Logger): Promise<void> {
  await services.practices.ensure(DEMO_PRACTICE_ID);
  const existing = await services.reader.listPatients(DEMO_PRACTICE_ID, 1, null, null);
  if (existing.rows.length > 0) return;

  const patient = async (firstName: string, lastName: string, dateOfBirth: string) => {
    const created = await services.patients.create(seeder, { firstName, lastName, dateOfBirth, mrn: `DEMO-${lastName.toUpperCase()}` });
    if (isRefusal(created)) throw new Error(`demo seed was refused: ${created.code}`);
    return created.patientId;
  };
  const charge = async (patientId: string, serviceDate: string, billedCents: number, lines: { kind: 'COPAY' | 'COINSURANCE' | 'CUSTOM' | 'NON_COVERED'; amountCents: number }[] = []) => {
    const { chargeId } = accepted(await services.charges.create(seeder, { patientId, serviceDate, procedureCode: '99213', description: 'Office visit, established patient', billedCents, responsibilities: lines }));
    const [first] = await services.reader.linesOfCharges(DEMO_PRACTICE_ID, [chargeId]);
    return { chargeId, lineId: first?.id };
  };
  const pay = (patientId: string, amountCents: number, allocations: { responsibilityId: string; amountCents: number }[] = []) =>
    services.payments.record(seeder, { patientId, amountCents, method: 'CARD', allocations }).then(accepted);

  // Open: nothing paid or written off.
  const avery = await patient('Avery', 'Open', '1984-02-11');
  await charge(avery, '2026-10-02', 18000, [{ kind: 'COPAY', amountCents: 4000 }]);

  // Remittance PR, partly paid: cancel is disabled (PR_FROM_REMITTANCE).
  const blake = await patient('Blake', 'Partial', '1979-07-23');
  const blakeCharge = await charge(blake, '2026-09-15', 32000);
  accepted(await services.remittances.record(seeder, { chargeId: blakeCharge.chargeId, remittanceId: 'ERA-DEMO-1001', adjustments: [
    { groupCode: 'PR', reasonCode: '2', amountCents: 10000 },
    { groupCode: 'PR', reasonCode: '1', amountCents: 5000 },
    { groupCode: 'CO', reasonCode: '45', amountCents: 12000 },
  ] }));
  const [coinsurance] = await services.reader.linesOfCharges(DEMO_PRACTICE_ID, [blakeCharge.chargeId]);
  await pay(blake, 3000, [{ responsibilityId: coinsurance.id, amountCents: 3000 }]);

  // Fully paid: write-off is disabled (PR_ALREADY_PAID).
  const casey = await patient('Casey', 'Paid', '1990-12-01');
  const caseyCharge = await charge(casey, '2026-08-20', 15000, [{ kind: 'COPAY', amountCents: 2500 }]);
  await pay(casey, 2500, [{ responsibilityId: caseyCharge.lineId!, amountCents: 2500 }]);

  // Written off in full, and a write-off partly removed.
  const devon = await patient('Devon', 'Writeoff', '1965-05-30');
  const devonCharge = await charge(devon, '2026-07-08', 20000, [{ kind: 'CUSTOM', amountCents: 6000 }]);
  accepted(await services.writeOffs.writeOff(seeder, { responsibilityId: devonCharge.lineId!, amountCents: 6000, reason: 'FINANCIAL_HARDSHIP', note: 'Hardship form on file.' }));
  const emery = await patient('Emery', 'Reversal', '2001-03-17');
  const emeryCharge = await charge(emery, '2026-06-11', 22000, [{ kind: 'NON_COVERED', amountCents: 8000 }]);
  const { writeOffId } = accepted(await services.writeOffs.writeOff(seeder, { responsibilityId: emeryCharge.lineId!, amountCents: 8000, reason: 'OTHER', customReason: 'Goodwill after long wait' }));
  accepted(await services.writeOffs.removeWriteOff(seeder, { writeOffId, amountCents: 3000, reason: 'Partly reinstated after review' }));

  // Estimated (copay collected up front) and self-pay PR: outstanding does not move.
  const finley = await patient('Finley', 'Estimate', '1995-09-09');
  const finleyCharge = await charge(finley, '2026-11-20', 16000);
  accepted(await services.payments.record(seeder, { patientId: finley, amountCents: 3500, method: 'CARD', purpose: 'COPAY', chargeId: finleyCharge.chargeId }));
  const gray = await patient('Gray', 'Selfpay', '1988-01-25');
  const grayCharge = await charge(gray, '2026-11-05', 7500);
  accepted(await services.payments.record(seeder, { patientId: gray, amountCents: 7500, method: 'CASH', purpose: 'SELF_PAY', chargeId: grayCharge.chargeId }));

  // Cancelled PR, and patient credit (a payment the practice has not applied to any line).
  const harper = await patient('Harper', 'Cancelled', '1972-10-14');
  const harperCharge = await charge(harper, '2026-05-19', 12000, [{ kind: 'CUSTOM', amountCents: 4500 }]);
  accepted(await services.cancellations.cancel(seeder, { responsibilityId: harperCharge.lineId!, reason: 'Entered on the wrong visit' }));
  const indigo = await patient('Indigo', 'Credit', '1999-04-04');
  await charge(indigo, '2026-04-02', 9000, [{ kind: 'COPAY', amountCents: 2000 }]);
  await pay(indigo, 5000);

  logger.log('info', 'demo_seeded', { practiceId: DEMO_PRACTICE_ID, patients: 9 });
}
