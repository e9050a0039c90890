import type { AuditCaller } from '../audit/audit.service';
import { MoneyCommand, MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import {
  WriteOffReason,
  checkWriteOffReason,
  cleanReason,
  cleanWriteOffNote,
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
/** A removal also names its own row, so that a batch negating it knows what to write off again. */
export type RemovalResult = WriteOffResult & { removalId: string };

/** Writing off PR and removing write-offs (docs/design.md §2.3). */
export class WriteOffService {
  constructor(private readonly mutations: MoneyMutations) {}

  writeOff(caller: AuditCaller, command: WriteOffCommand): Promise<MoneyOutcome<WriteOffResult>> {
    return this.mutations.run(caller, this.writeOffCommand(caller, command));
  }

  removeWriteOff(caller: AuditCaller, command: RemoveWriteOffCommand): Promise<MoneyOutcome<RemovalResult>> {
    return this.mutations.run(caller, this.removeCommand(caller, command));
  }

  /** writeOff as a command: run alone, or as an entry of a posting batch. */
  writeOffCommand(caller: AuditCaller, { idempotencyKey, ...input }: WriteOffCommand): MoneyCommand<WriteOffResult> {
    return {
      operation: 'writeOff',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'responsibilities', input.responsibilityId, caller.actor.practiceId, ['input', 'responsibilityId']),
      apply: (write) => {
        const line = write.ledger.lines.get(input.responsibilityId);
        if (!line) return notFound('PR line', ['input', 'responsibilityId']);
        const amount = planWriteOff(line, line.writeOffCount, input.amountCents);
        if (isRefusal(amount)) return amount;
        const customReason = checkWriteOffReason(input.reason, input.customReason);
        if (isRefusal(customReason)) return customReason;
        const note = cleanWriteOffNote(input.note);
        if (isRefusal(note)) return note;
        const writeOffId = write.addWriteOff({ lineId: line.id, amountCents: amount, reason: input.reason, customReason, note });
        return { writeOffId, responsibilityId: line.id };
      },
    };
  }

  /** removeWriteOff as a command: run alone, or as an entry of a posting batch. */
  removeCommand(caller: AuditCaller, { idempotencyKey, ...input }: RemoveWriteOffCommand): MoneyCommand<RemovalResult> {
    return {
      operation: 'removeWriteOff',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'write_offs', input.writeOffId, caller.actor.practiceId, ['input', 'writeOffId']),
      apply: (write) => {
        const writeOff = write.ledger.writeOffs.get(input.writeOffId);
        if (!writeOff) return notFound('write-off', ['input', 'writeOffId']);
        const amount = planRemoval(writeOff, writeOff.removalCount, input.amountCents);
        if (isRefusal(amount)) return amount;
        const reason = cleanReason(input.reason);
        if (isRefusal(reason)) return reason;
        const removalId = write.removeWriteOff(writeOff.id, amount, reason);
        return { writeOffId: writeOff.id, responsibilityId: writeOff.responsibilityId, removalId };
      },
    };
  }
}
