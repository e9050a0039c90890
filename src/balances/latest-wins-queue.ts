/**
 * An async iterator that holds at most one pending value per key: a newer value replaces an older one that was not
 * yet taken. A slow reader therefore always gets the newest balance instead of a growing backlog, and memory stays
 * bounded by the number of keys with news. Keys come out in the order they first had news.
 */
export class LatestWinsQueue<T> implements AsyncIterableIterator<T> {
  private readonly pending = new Map<string, T>();
  /** Readers waiting for a value, first come first served (the iterator protocol allows several `next()` at once). */
  private readonly waiting: ((result: IteratorResult<T>) => void)[] = [];
  private done = false;
  /**
   * A reader that takes values synchronously (`take`) instead of awaiting `next()`: woken once when a value arrives or
   * the queue closes, then it takes what is pending. Saves a promise and a turn per value for every subscriber of a
   * fan-out (issue 13).
   */
  waker: { wake(): void } | null = null;

  /** Whether the queue was closed (it then takes and gives nothing more). */
  get closed(): boolean {
    return this.done;
  }

  constructor(private readonly onClose: () => void) {}

  /** Offers a value; ignored once closed. */
  offer(key: string, value: T): void {
    if (this.done) return;
    const reader = this.waiting.shift();
    if (reader) {
      reader({ value, done: false });
      return;
    }
    // A key with news already pending keeps its place and takes the newer value: moving it to the back would let
    // keys that change often starve the others.
    this.pending.set(key, value);
    this.wakeReader();
  }

  /** The next value if one is pending, `done` once closed, else undefined (then set `waker` to hear of the next). */
  take(): IteratorResult<T> | undefined {
    if (this.done) return { value: undefined, done: true };
    const first = this.pending.entries().next();
    if (first.done) return undefined;
    this.pending.delete(first.value[0]);
    return { value: first.value[1], done: false };
  }

  private wakeReader(): void {
    const waker = this.waker;
    if (!waker) return;
    this.waker = null;
    waker.wake();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    const first = this.pending.entries().next();
    if (!first.done) {
      this.pending.delete(first.value[0]);
      return Promise.resolve({ value: first.value[1], done: false });
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(error);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.pending.clear();
    for (const reader of this.waiting.splice(0)) reader({ value: undefined, done: true });
    this.onClose();
    this.wakeReader();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
