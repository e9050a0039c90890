import type { Actor } from '../auth/actor';
import type { LedgerReader } from '../read-model/ledger-reader';
import type { BalanceView } from '../read-model/views';
import type { BalanceBus, BalanceEvent } from './balance-event';
import { LatestWinsQueue } from './latest-wins-queue';
import { notFoundError } from '../graphql/errors';


function viewOf(event: BalanceEvent): BalanceView {
  const { practiceId: _practice, ...balance } = event;
  return balance;
}

/**
 * Live balances (docs/design.md §3). Each stream listens to its practice only, keeps the newest balance per patient, and never
 * hands out a version older than one it already gave. After a possible gap in delivery (a Redis reconnect) every
 * stream re-reads the balances it cares about, so subscribers converge on the truth.
 */
export class BalanceSubscriptions {
  constructor(
    private readonly bus: BalanceBus,
    private readonly reader: LedgerReader,
  ) {}

  /**
   * Each patient's current balance first (one message per patient, read in one query), then one message per committed
   * change to any of them. Every id must be a patient of the caller's practice: otherwise the stream does not start
   * and the error is the same NOT_FOUND whichever id is wrong and whether it is unknown or another practice's.
   */
  async patients(actor: Actor, patientIds: readonly string[]): Promise<AsyncIterableIterator<BalanceView>> {
    const watched = new Set(patientIds);
    const { queue, offer, stopListening } = versionedQueue();
    const readAll = () => this.reader.balances(actor.practiceId, [...watched]);
    // Listen before reading, so a change that commits in between is not lost.
    stopListening.push(this.bus.listen(actor.practiceId, (event) => watched.has(event.patientId) && offer(viewOf(event))));
    stopListening.push(this.bus.onGap(() => void readAll().then((balances) => balances.forEach(offer), () => undefined)));
    const current = await readAll().catch((error) => {
      queue.close();
      throw error;
    });
    if (current.length < watched.size) {
      queue.close();
      throw notFoundError(watched.size === 1 ? 'No patient with that id was found.' : 'No patient was found for one or more of those ids.');
    }
    current.forEach(offer);
    return queue;
  }

  /** One message per committed change to any patient of the caller's practice. */
  practice(actor: Actor): AsyncIterableIterator<BalanceView> {
    const { queue, offer, stopListening } = versionedQueue();
    let lastSeen = new Date().toISOString();
    stopListening.push(
      this.bus.listen(actor.practiceId, (event) => {
        if (event.updatedAt > lastSeen) lastSeen = event.updatedAt;
        offer(viewOf(event));
      }),
    );
    stopListening.push(
      this.bus.onGap(() => {
        // Whatever changed since the last event seen may have been missed: re-read those patients.
        void this.reader
          .balancesChangedSince(actor.practiceId, lastSeen)
          .then((balances) => balances.forEach(offer))
          .catch(() => undefined);
      }),
    );
    return queue;
  }
}

/**
 * A latest-wins queue that only ever accepts a patient's version above every version it accepted before, so a
 * subscriber never receives an older balance after a newer one, whichever path (event or resync) brought it.
 */
function versionedQueue() {
  const offered = new Map<string, number>();
  const stopListening: (() => void)[] = [];
  const queue = new LatestWinsQueue<BalanceView>(() => stopListening.forEach((stop) => stop()));
  const offer = (balance: BalanceView) => {
    if (balance.version <= (offered.get(balance.patientId) ?? -1)) return;
    offered.set(balance.patientId, balance.version);
    queue.offer(balance.patientId, balance);
  };
  return { queue, offer, stopListening };
}
