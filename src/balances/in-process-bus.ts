import { BalanceBus, BalanceEvent } from './balance-event';

/** One process, one map of practices to listeners: the default when REDIS_URL is unset. */
export class InProcessBalanceBus implements BalanceBus {
  private readonly listeners = new Map<string, Set<(event: BalanceEvent) => void>>();

  /** Delivers on the next turn of the event loop, so the mutation's own HTTP answer is not held up by the fan-out. */
  publish(event: BalanceEvent): void {
    setImmediate(() => {
      for (const listener of this.listeners.get(event.practiceId) ?? []) listener(event);
    });
  }

  listen(practiceId: string, listener: (event: BalanceEvent) => void): () => void {
    let set = this.listeners.get(practiceId);
    if (!set) this.listeners.set(practiceId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(practiceId);
    };
  }

  onGap(): () => void {
    return () => undefined;
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
