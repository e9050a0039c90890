import type { AuditCaller } from '../audit/audit.service';
import { MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { WriteOffEntity, WriteOffReversalEntity } from './write-off.entity';
import {
  MAX_NOTE_LENGTH,
  WriteOffReason,
  checkWriteOffReason,
  cleanOptionalText,
  cleanText,
  isRefusal,
  notFound,
  planRemoval,
  planWriteOff,
} from '../ledger';

export interface WriteOffCommand {
  responsibilityId: string;
  amountCents: number;
  reason: WriteOffReason;
  customReason?: string | null;
  note?: string | null;
  idempotencyKey?: string | null;
}

export interface RemoveWriteOffCommand {
  writeOffId: string;
  amountCents?: number | null;
  reason: string;
  idempotencyKey?: string | null;
}

export type WriteOffResult = { writeOffId: string; responsibilityId: string };

/** Writing off PR and removing write-offs (docs/design.md §2.3). */
export class WriteOffService {
  constructor(private readonly mutations: MoneyMutations) {}

  writeOff(caller: AuditCaller, { idempotencyKey, ...input }: WriteOffCommand): Promise<MoneyOutcome<WriteOffResult>> {
    return this.mutations.run(caller, {
      operation: 'writeOff',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'responsibilities', input.responsibilityId, caller.actor.practiceId, ['input', 'responsibilityId']),
      apply: async (ledger, write) => {
        const line = ledger.lines.get(input.responsibilityId);
        if (!line) return notFound('PR line', ['input', 'responsibilityId']);
        const writeOffCount = [...ledger.writeOffs.values()].filter((w) => w.responsibilityId === line.id).length;
        const amount = planWriteOff(line, writeOffCount, input.amountCents);
        if (isRefusal(amount)) return amount;
        const customReason = checkWriteOffReason(input.reason, input.customReason);
        if (isRefusal(customReason)) return customReason;
        const note = cleanOptionalText(input.note, { label: 'note', field: ['input', 'note'], max: MAX_NOTE_LENGTH, multiline: true });
        if (isRefusal(note)) return note;
        const row = { ...write.authored(), responsibilityId: line.id, amountCents: amount, reason: input.reason, customReason, note, batchId: null };
        await write.insert(WriteOffEntity, row);
        return { writeOffId: row.id, responsibilityId: line.id };
      },
    });
  }

  removeWriteOff(caller: AuditCaller, { idempotencyKey, ...input }: RemoveWriteOffCommand): Promise<MoneyOutcome<WriteOffResult>> {
    return this.mutations.run(caller, {
      operation: 'removeWriteOff',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'write_offs', input.writeOffId, caller.actor.practiceId, ['input', 'writeOffId']),
      apply: async (ledger, write) => {
        const writeOff = ledger.writeOffs.get(input.writeOffId);
        if (!writeOff) return notFound('write-off', ['input', 'writeOffId']);
        const [removals] = await write.tx.query('SELECT COUNT(*) AS n FROM write_off_reversals WHERE write_off_id = ? AND practice_id = ?', [writeOff.id, write.practiceId]);
        const amount = planRemoval(writeOff, Number(removals.n), input.amountCents);
        if (isRefusal(amount)) return amount;
        const reason = cleanText(input.reason, { label: 'reason', field: ['input', 'reason'] });
        if (isRefusal(reason)) return reason;
        await write.insert(WriteOffReversalEntity, {
          ...write.authored(),
          writeOffId: writeOff.id,
          responsibilityId: writeOff.responsibilityId,
          amountCents: amount,
          reason,
        });
        return { writeOffId: writeOff.id, responsibilityId: writeOff.responsibilityId };
      },
    });
  }
}
