import Redis from 'ioredis';
import type { Logger } from '../logger';
import { BalanceBus, BalanceEvent } from './balance-event';

const CHANNEL_PREFIX = 'pr-ledger:balances:';
/** How long a readiness check waits for Redis to answer. */
const REDIS_ANSWER_MS = 1000;
/** Patients whose newest balance is waiting for Redis to come back (a long outage keeps only the most recent ones). */
const MAX_UNPUBLISHED = 10_000;

function within<T>(promise: Promise<T>, ms: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(otherwise), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Balance events between instances over Redis pub/sub, one channel per practice. Redis pub/sub is at-most-once, so
 * events carry versions and every (re)connection is reported as a gap: subscribers then re-read from the database.
 * An event that could not be published (this instance's link to Redis was down) is published again when the link is
 * back: subscribers on other instances, whose own connection never dropped, have no gap to resync on.
 */
export class RedisBalanceBus implements BalanceBus {
  private readonly listeners = new Map<string, Set<(event: BalanceEvent) => void>>();
  private readonly gapListeners = new Set<() => void>();
  private readonly unpublished = new Map<string, BalanceEvent>();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private connectedOnce = false;

  constructor(url: string, private readonly logger: Logger) {
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
    this.subscriber.on('ready', () => {
      if (!this.connectedOnce) {
        this.connectedOnce = true;
        return;
      }
      this.logger.log('warn', 'redis_reconnected');
      // ioredis resubscribes only the channels Redis had confirmed; a SUBSCRIBE sent during the outage was dropped with
      // the offline queue. So every channel listened to now is subscribed again (idempotent). The PING answers after
      // the SUBSCRIBEs on this connection: from then on nothing is missed, and subscribers re-read the database.
      const channels = [...this.listeners.keys()].map((practiceId) => CHANNEL_PREFIX + practiceId);
      void Promise.allSettled([channels.length ? this.subscriber.subscribe(...channels) : null, this.subscriber.ping()]).then(() =>
        this.gapListeners.forEach((listener) => listener()),
      );
    });
    this.publisher.on('ready', () => this.republish());
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.logger.log('warn', 'redis_error', { errorType: error.constructor.name }));
    }
  }

  /** Connects both clients; a failure names its cause (e.g. ECONNREFUSED), not ioredis's "Connection is closed.". */
  async connect(): Promise<void> {
    let cause: Error | null = null;
    const note = (error: Error) => void (cause ??= error);
    this.publisher.once('error', note);
    this.subscriber.once('error', note);
    try {
      await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    } catch (error) {
      throw cause ?? error;
    } finally {
      this.publisher.off('error', note);
      this.subscriber.off('error', note);
    }
  }

  publish(event: BalanceEvent): void {
    this.publisher.publish(CHANNEL_PREFIX + event.practiceId, JSON.stringify(event)).catch(() => {
      // The change itself is committed: its balance goes out again once Redis is back (republish).
      this.logger.log('warn', 'redis_publish_failed', { practiceId: event.practiceId, patientId: event.patientId, version: event.version });
      this.keepUnpublished(event);
    });
  }

  listen(practiceId: string, listener: (event: BalanceEvent) => void): () => void {
    let set = this.listeners.get(practiceId);
    if (!set) {
      this.listeners.set(practiceId, (set = new Set()));
      this.subscriber.subscribe(CHANNEL_PREFIX + practiceId).catch(() => undefined);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(practiceId) === set) {
        this.listeners.delete(practiceId);
        this.subscriber.unsubscribe(CHANNEL_PREFIX + practiceId).catch(() => undefined);
      }
    };
  }

  onGap(listener: () => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  async ready(): Promise<boolean> {
    if (this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return false;
    // A PING written just as the connection broke waits for the next connection: /readyz must not hang on it.
    return within(
      this.publisher.ping().then((pong) => pong === 'PONG', () => false),
      REDIS_ANSWER_MS,
      false,
    );
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.gapListeners.clear();
    this.unpublished.clear();
    await Promise.all([this.publisher.quit().catch(() => this.publisher.disconnect()), this.subscriber.quit().catch(() => this.subscriber.disconnect())]);
  }

  /** Keeps the newest balance per patient that could not be published. */
  private keepUnpublished(event: BalanceEvent): void {
    const key = JSON.stringify([event.practiceId, event.patientId]);
    const kept = this.unpublished.get(key);
    if (kept && kept.version >= event.version) return;
    this.unpublished.delete(key);
    this.unpublished.set(key, event);
    if (this.unpublished.size > MAX_UNPUBLISHED) {
      const [oldest] = this.unpublished.keys();
      this.unpublished.delete(oldest);
      this.logger.log('warn', 'redis_unpublished_dropped', { max: MAX_UNPUBLISHED });
    }
  }

  /** Once the publisher is connected again: each waiting balance goes out (a whole balance with its version, so a stale one is ignored). */
  private republish(): void {
    if (this.unpublished.size === 0) return;
    const events = [...this.unpublished.values()];
    this.unpublished.clear();
    this.logger.log('info', 'redis_republished', { count: events.length });
    events.forEach((event) => this.publish(event));
  }

  private deliver(channel: string, message: string): void {
    if (!channel.startsWith(CHANNEL_PREFIX)) return;
    const practiceId = channel.slice(CHANNEL_PREFIX.length);
    let event: BalanceEvent;
    try {
      event = JSON.parse(message) as BalanceEvent;
    } catch {
      return;
    }
    // The channel names the practice; an event claiming another practice is dropped, never delivered.
    if (event.practiceId !== practiceId) return;
    for (const listener of this.listeners.get(practiceId) ?? []) listener(event);
  }
}
