import type { Actor } from '../auth/actor';
import type { LedgerReader } from '../read-model/ledger-reader';
import type { BalanceView } from '../read-model/views';
import type { BalanceBus, BalanceEvent } from './balance-event';
import { LatestWinsQueue } from './latest-wins-queue';
import { notFoundError } from '../graphql/errors';


/** The last event's view: every listener of one event gets the same (read-only) object instead of a copy each. */
let lastEvent: BalanceEvent | null = null;
let lastView: BalanceView | null = null;

function viewOf(event: BalanceEvent): BalanceView {
  if (event === lastEvent) return lastView!;
  const { practiceId: _practice, ...balance } = event;
  lastEvent = event;
  lastView = balance;
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
    const queue = new VersionedQueue();
    const watched = patientIds.length === 1 ? patientIds[0] : new Set(patientIds);
    const count = typeof watched === 'string' ? 1 : watched.size;
    const ids = typeof watched === 'string' ? [watched] : [...watched];
    const reader = this.reader;
    // Listen before reading, so a change that commits in between is not lost.
    queue.stops.push(
      this.bus.listen(actor.practiceId, (event) => (typeof watched === 'string' ? event.patientId === watched : watched.has(event.patientId)) && queue.offerView(viewOf(event))),
    );
    queue.stops.push(
      this.bus.onGap(() => void reader.balances(actor.practiceId, ids).then((balances) => balances.forEach((balance) => queue.offerView(balance)), () => undefined)),
    );
    const current = await reader.balances(actor.practiceId, ids).catch((error) => {
      queue.close();
      throw error;
    });
    if (current.length < count) {
      queue.close();
      throw notFoundError(count === 1 ? 'No patient with that id was found.' : 'No patient was found for one or more of those ids.');
    }
    current.forEach((balance) => queue.offerView(balance));
    return queue;
  }

  /** One message per committed change to any patient of the caller's practice. */
  practice(actor: Actor): AsyncIterableIterator<BalanceView> {
    const queue = new VersionedQueue();
    let lastSeen = new Date().toISOString();
    queue.stops.push(
      this.bus.listen(actor.practiceId, (event) => {
        if (event.updatedAt > lastSeen) lastSeen = event.updatedAt;
        queue.offerView(viewOf(event));
      }),
    );
    queue.stops.push(
      this.bus.onGap(() => {
        // Whatever changed since the last event seen may have been missed: re-read those patients.
        void this.reader
          .balancesChangedSince(actor.practiceId, lastSeen)
          .then((balances) => balances.forEach((balance) => queue.offerView(balance)))
          .catch(() => undefined);
      }),
    );
    return queue;
  }
}

/**
 * A latest-wins queue that only ever accepts a patient's version above every version it accepted before, so a
 * subscriber never receives an older balance after a newer one, whichever path (event or resync) brought it. A class
 * rather than closures, so an idle subscription holds little (issue 13: light subscriptions).
 */
class VersionedQueue extends LatestWinsQueue<BalanceView> {
  /** The newest version accepted of the first patient seen (for most streams, the only one), in fields. */
  private firstPatient: string | null = null;
  private firstVersion = -1;
  /** The newest version accepted of every other patient. */
  private versions: Map<string, number> | null = null;
  /** Stop listening (bus and gaps) when the queue closes. */
  readonly stops: (() => void)[] = [];

  constructor() {
    super(NOTHING);
  }

  offerView(balance: BalanceView): void {
    const { patientId, version } = balance;
    if (this.firstPatient === null) this.firstPatient = patientId;
    if (patientId === this.firstPatient) {
      if (version <= this.firstVersion) return;
      this.firstVersion = version;
    } else {
      const versions = (this.versions ??= new Map());
      if (version <= (versions.get(patientId) ?? -1)) return;
      versions.set(patientId, version);
    }
    this.offer(patientId, balance);
  }

  override close(): void {
    const wasOpen = !this.closed;
    super.close();
    if (wasOpen) for (const stop of this.stops.splice(0)) stop();
  }
}

const NOTHING = () => undefined;
