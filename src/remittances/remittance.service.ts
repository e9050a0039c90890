import type { AuditCaller } from '../audit/audit.service';
import { MoneyCommand, MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import type { LedgerWriter } from '../ledger-store/ledger-writer';
import { patientOwning } from '../ledger-store/locate';
import {
  Adjustment,
  RefusalCode,
  allAllocations,
  checkAdjustmentCount,
  cleanReason,
  cleanRemittanceId,
  cleanReplacedRemittanceId,
  isRefusal,
  linesOfCharge,
  notFound,
  planRemittance,
  planReverseRemittance,
  refusal,
  remittanceToReverse,
} from '../ledger';

export interface RecordRemittanceCommand {
  chargeId: string;
  remittanceId: string;
  adjustments: Adjustment[];
  /** The earlier remittance this one corrects: it is reversed, and its payments move to the new lines (§8.3). */
  replacesRemittanceId?: string | null;
  idempotencyKey?: string | null;
}

export interface ReverseRemittanceCommand {
  chargeId: string;
  remittanceId: string;
  reason: string;
  idempotencyKey?: string | null;
}

export type RemittanceResult = { chargeId: string; remittanceRecordId: string };

const SUPERSEDED = 'superseded by remittance';
const corrected = (externalId: string) => `corrected by remittance ${externalId}`;

/** Turning an insurer's adjudication of one charge into PR (docs/design.md §2.8), and its reversal and correction (§8.3). */
export class RemittanceService {
  constructor(private readonly mutations: MoneyMutations) {}

  record(caller: AuditCaller, command: RecordRemittanceCommand): Promise<MoneyOutcome<RemittanceResult>> {
    return this.mutations.run(caller, this.recordCommand(caller, command));
  }

  reverse(caller: AuditCaller, command: ReverseRemittanceCommand): Promise<MoneyOutcome<RemittanceResult>> {
    return this.mutations.run(caller, this.reverseCommand(caller, command));
  }

  /** recordRemittance as a command: run alone, or as an entry of a posting batch. */
  recordCommand(caller: AuditCaller, { idempotencyKey, ...input }: RecordRemittanceCommand): MoneyCommand<RemittanceResult> {
    return {
      operation: 'recordRemittance',
      input,
      inputRefusal: checkAdjustmentCount(input.adjustments.length),
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'charges', input.chargeId, caller.actor.practiceId, ['input', 'chargeId']),
      apply: (write) => {
        const externalId = cleanRemittanceId(input.remittanceId);
        if (isRefusal(externalId)) return externalId;
        const charge = write.ledger.charges.get(input.chargeId);
        if (!charge) return notFound('charge', ['input', 'chargeId']);
        if (charge.remittances.has(externalId)) {
          return refusal(RefusalCode.DUPLICATE_REMITTANCE, `Remittance ${externalId} was already recorded for this charge.`, ['input', 'remittanceId']);
        }
        const replacesId = cleanReplacedRemittanceId(input.replacesRemittanceId);
        if (isRefusal(replacesId)) return replacesId;
        const replaced = replacesId === null ? null : remittanceToReverse(charge, replacesId, ['input', 'replacesRemittanceId']);
        if (isRefusal(replaced)) return replaced;
        const plan = planRemittance(
          { billedCents: charge.billedCents, lines: linesOfCharge(write.ledger, charge.id) },
          input.adjustments,
          allAllocations(write.ledger),
          [...write.ledger.writeOffs.values()],
          replaced,
        );
        if (isRefusal(plan)) return plan;

        const remittanceId = write.addRemittance({ chargeId: charge.id, externalId, adjustments: JSON.stringify(plan.adjustments) });
        const newLineIds = plan.newLines.map((line) =>
          write.addLine({ chargeId: charge.id, kind: line.kind, origin: 'REMITTANCE', amountCents: line.amountCents, remittanceId, reasonCode: line.reasonCode }),
        );
        for (const reversal of plan.reversals) write.removeWriteOff(reversal.writeOffId, reversal.cents, SUPERSEDED);
        for (const reduction of plan.reductions) write.reduce(reduction.allocationId, reduction.cents, reduction.cause);
        for (const lineId of plan.supersededLineIds) write.cancelLine(lineId, SUPERSEDED);
        if (replaced) {
          for (const lineId of plan.reversedLineIds) write.reverseLine(lineId, corrected(externalId));
          write.reverseRemittance({ chargeId: charge.id, recordId: replaced.recordId, reason: corrected(externalId), replacedById: remittanceId });
        }
        for (const move of plan.moves) {
          const target = 'newLine' in move.target ? newLineIds[move.target.newLine] : move.target.responsibilityId;
          write.allocate(move.paymentId, target, move.cents, 'REMITTANCE_MOVE');
        }
        return { chargeId: charge.id, remittanceRecordId: remittanceId };
      },
    };
  }

  /** reverseRemittance as a command: run alone, or as an entry of a posting batch. */
  reverseCommand(caller: AuditCaller, { idempotencyKey, ...input }: ReverseRemittanceCommand): MoneyCommand<RemittanceResult> {
    return {
      operation: 'reverseRemittance',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'charges', input.chargeId, caller.actor.practiceId, ['input', 'chargeId']),
      apply: (write) => reverse(write, input),
    };
  }
}

/** Reverses one remittance's PR lines (docs/design.md §8.3): out of every balance, their payments released to credit. */
function reverse(write: LedgerWriter, input: Omit<ReverseRemittanceCommand, 'idempotencyKey'>): RemittanceResult | ReturnType<typeof refusal> {
  const charge = write.ledger.charges.get(input.chargeId);
  if (!charge) return notFound('charge', ['input', 'chargeId']);
  const externalId = cleanRemittanceId(input.remittanceId);
  if (isRefusal(externalId)) return externalId;
  const reason = cleanReason(input.reason);
  if (isRefusal(reason)) return reason;
  const remittance = remittanceToReverse(charge, externalId, ['input', 'remittanceId']);
  if (isRefusal(remittance)) return remittance;
  const plan = planReverseRemittance(
    remittance.lineIds.map((id) => write.ledger.lines.get(id)!),
    allAllocations(write.ledger),
  );
  if (isRefusal(plan)) return plan;
  for (const release of plan.releases) write.reduce(release.allocationId, release.cents, 'REVERSAL');
  for (const lineId of plan.lineIds) write.reverseLine(lineId, reason);
  write.reverseRemittance({ chargeId: charge.id, recordId: remittance.recordId, reason, replacedById: null });
  return { chargeId: charge.id, remittanceRecordId: remittance.recordId };
}
