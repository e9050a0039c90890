import Redis from 'ioredis';
import type { Logger } from '../logger';
import { BalanceBus, BalanceEvent } from './balance-event';

const CHANNEL_PREFIX = 'pr-ledger:balances:';

/**
 * Balance events between instances over Redis pub/sub, one channel per practice. Redis pub/sub is at-most-once, so
 * events carry versions and every (re)connection is reported as a gap: subscribers then re-read from the database.
 */
export class RedisBalanceBus implements BalanceBus {
  private readonly listeners = new Map<string, Set<(event: BalanceEvent) => void>>();
  private readonly gapListeners = new Set<() => void>();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private connectedOnce = false;

  constructor(url: string, private readonly logger: Logger) {
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
    this.subscriber.on('ready', () => {
      if (this.connectedOnce) {
        this.logger.log('warn', 'redis_reconnected');
        this.gapListeners.forEach((listener) => listener());
      }
      this.connectedOnce = true;
    });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.logger.log('warn', 'redis_error', { errorType: error.constructor.name }));
    }
  }

  async connect(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
  }

  publish(event: BalanceEvent): void {
    this.publisher.publish(CHANNEL_PREFIX + event.practiceId, JSON.stringify(event)).catch(() => {
      // Subscribers resync from the database when Redis comes back; the change itself is already committed.
      this.logger.log('warn', 'redis_publish_failed', { practiceId: event.practiceId, patientId: event.patientId, version: event.version });
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
    try {
      return (await this.publisher.ping()) === 'PONG' && this.subscriber.status === 'ready';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.gapListeners.clear();
    await Promise.all([this.publisher.quit().catch(() => this.publisher.disconnect()), this.subscriber.quit().catch(() => this.subscriber.disconnect())]);
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
