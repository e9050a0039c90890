import type { AuditCaller } from '../audit/audit.service';
import { MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { ResponsibilityEntity } from '../responsibilities/responsibility.entity';
import { WriteOffReversalEntity } from '../write-offs/write-off.entity';
import { RemittanceEntity } from './remittance.entity';
import { Adjustment, RefusalCode, checkAdjustmentCount, cleanText, isRefusal, notFound, planRemittance, refusal } from '../ledger';

export interface RecordRemittanceCommand {
  chargeId: string;
  remittanceId: string;
  adjustments: Adjustment[];
  idempotencyKey?: string | null;
}

export type RemittanceResult = { chargeId: string; remittanceRecordId: string };

const SUPERSEDED = 'superseded by remittance';

/** Turning an insurer's adjudication of one charge into PR (docs/design.md §2.8). */
export class RemittanceService {
  constructor(private readonly mutations: MoneyMutations) {}

  record(caller: AuditCaller, { idempotencyKey, ...input }: RecordRemittanceCommand): Promise<MoneyOutcome<RemittanceResult>> {
    return this.mutations.run(caller, {
      operation: 'recordRemittance',
      input,
      inputRefusal: checkAdjustmentCount(input.adjustments.length),
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'charges', input.chargeId, caller.actor.practiceId, ['input', 'chargeId']),
      apply: async (ledger, write) => {
        const externalId = cleanText(input.remittanceId, { label: 'remittance id', field: ['input', 'remittanceId'] });
        if (isRefusal(externalId)) return externalId;
        const [charge] = await write.tx.query('SELECT billed_cents FROM charges WHERE id = ? AND practice_id = ?', [input.chargeId, write.practiceId]);
        if (!charge) return notFound('charge', ['input', 'chargeId']);
        const duplicate = await write.tx.query('SELECT id FROM remittances WHERE charge_id = ? AND external_id = ?', [input.chargeId, externalId]);
        if (duplicate.length > 0) {
          return refusal(RefusalCode.DUPLICATE_REMITTANCE, `Remittance ${externalId} was already recorded for this charge.`, ['input', 'remittanceId']);
        }
        const lines = [...ledger.lines.values()].filter((l) => l.chargeId === input.chargeId);
        const allocations = [...ledger.payments.values()].flatMap((p) => p.allocations);
        const plan = planRemittance({ billedCents: Number(charge.billed_cents), lines }, input.adjustments, allocations, [...ledger.writeOffs.values()]);
        if (isRefusal(plan)) return plan;

        const remittance = { ...write.authored(), chargeId: input.chargeId, externalId, adjustments: JSON.stringify(plan.adjustments) };
        await write.insert(RemittanceEntity, remittance);
        const newLineIds: string[] = [];
        for (const line of plan.newLines) {
          const row = { ...write.authored(), chargeId: input.chargeId, kind: line.kind, origin: 'REMITTANCE' as const, status: 'ACTIVE' as const };
          await write.insert(ResponsibilityEntity, { ...row, amountCents: line.amountCents, remittanceId: remittance.id, reasonCode: line.reasonCode });
          newLineIds.push(row.id);
        }
        for (const reversal of plan.reversals) {
          const writeOff = ledger.writeOffs.get(reversal.writeOffId)!;
          await write.insert(WriteOffReversalEntity, { ...write.authored(), writeOffId: writeOff.id, responsibilityId: writeOff.responsibilityId, amountCents: reversal.cents, reason: SUPERSEDED });
        }
        const byId = new Map(allocations.map((a) => [a.id, a]));
        for (const reduction of plan.reductions) await write.reduce(byId.get(reduction.allocationId)!, reduction.cents, 'SUPERSEDED');
        for (const lineId of plan.supersededLineIds) {
          await write.tx.query(
            `UPDATE responsibilities SET status = 'CANCELLED', cancelled_at = ?, cancelled_by = ?, cancel_reason = ? WHERE id = ? AND practice_id = ?`,
            [write.now, write.actorId, SUPERSEDED, lineId, write.practiceId],
          );
        }
        for (const move of plan.moves) {
          const target = 'newLine' in move.target ? newLineIds[move.target.newLine] : move.target.responsibilityId;
          await write.allocate(move.paymentId, target, move.cents, 'REMITTANCE_MOVE');
        }
        return { chargeId: input.chargeId, remittanceRecordId: remittance.id };
      },
    });
  }
}
