import DataLoader from 'dataloader';
import type { LedgerReader } from '../read-model/ledger-reader';
import type {
  BalanceView,
  ChargeView,
  LineView,
  PatientView,
  PaymentView,
  PostingBatchView,
  RefundView,
  TimelineEntry,
  WriteOffRemovalView,
  WriteOffView,
} from '../read-model/views';

function byId<T extends { id: string }>(load: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const found = new Map((await load(ids)).map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

function groupedBy<T>(key: (row: T) => string, load: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T[]>(async (ids) => {
    const groups = new Map<string, T[]>(ids.map((id) => [id, []]));
    for (const row of await load(ids)) groups.get(key(row))?.push(row);
    return ids.map((id) => groups.get(id) ?? []);
  });
}

/** The rows these ids name, in their order; an id that names nothing (or another practice's row) is left out. */
export async function loadExisting<T>(loader: DataLoader<string, T | null>, ids: readonly string[]): Promise<T[]> {
  return (await loader.loadMany(ids)).filter((row): row is T => {
    if (row instanceof Error) throw row;
    return row !== null;
  });
}

/** The row an optional id names; null without an id. */
export async function loadOptional<T>(loader: DataLoader<string, T | null>, id: string | null): Promise<T | null> {
  return id ? loader.load(id) : null;
}

/** Batching per request, scoped to the caller's practice: one statement per kind of row, whatever the query's size. */
export function createLoaders(reader: LedgerReader, practiceId: string) {
  return {
    patient: byId<PatientView>((ids) => reader.patients(practiceId, ids)),
    balance: new DataLoader<string, BalanceView | null>(async (ids) => {
      const found = new Map((await reader.balances(practiceId, ids)).map((b) => [b.patientId, b]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    charge: byId<ChargeView>((ids) => reader.charges(practiceId, ids)),
    line: byId<LineView>((ids) => reader.lines(practiceId, ids)),
    timelineOfCharge: groupedBy<TimelineEntry>((e) => e.chargeId, (ids) => reader.timelines(practiceId, ids)),
    linesOfCharge: groupedBy<LineView>((l) => l.chargeId, (ids) => reader.linesOfCharges(practiceId, ids)),
    writeOff: byId<WriteOffView>((ids) => reader.writeOffs(practiceId, ids)),
    writeOffsOfLine: groupedBy<WriteOffView>((w) => w.responsibilityId, (ids) => reader.writeOffsOfLines(practiceId, ids)),
    removalsOfWriteOff: groupedBy<WriteOffRemovalView>((r) => r.writeOffId, (ids) => reader.removalsOfWriteOffs(practiceId, ids)),
    payment: byId<PaymentView>((ids) => reader.payments(practiceId, ids)),
    refund: byId<RefundView>((ids) => reader.refunds(practiceId, ids)),
    refundsOfPayment: groupedBy<RefundView>((r) => r.paymentId, (ids) => reader.refundsOfPayments(practiceId, ids)),
    postingBatch: byId<PostingBatchView>((ids) => reader.batches(practiceId, ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
