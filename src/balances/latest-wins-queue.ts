/**
 * An async iterator that holds at most one pending value per key: a newer value replaces an older one that was not
 * yet taken. A slow reader therefore always gets the newest balance instead of a growing backlog, and memory stays
 * bounded by the number of keys with news. Keys come out in the order they first had news.
 */
export class LatestWinsQueue<T> implements AsyncIterableIterator<T> {
  /**
   * The oldest key with news, and its newest value, in fields: a queue of one patient (most of them) never needs the
   * map below, so taking and offering allocate nothing, and an idle queue holds no table.
   */
  private firstKey: string | null = null;
  private firstValue: T | undefined = undefined;
  /** The other keys with news, in the order they first had it; made when a second key has news at once. */
  private rest: Map<string, T> | null = null;
  /** Readers waiting for a value, first come first served (the iterator protocol allows several `next()` at once). */
  private waiting: ((result: IteratorResult<T>) => void)[] | null = null;
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
    const reader = this.waiting?.shift();
    if (reader) {
      reader({ value, done: false });
      return;
    }
    // A key with news already pending keeps its place and takes the newer value: moving it to the back would let
    // keys that change often starve the others.
    if (this.firstKey === null) {
      this.firstKey = key;
      this.firstValue = value;
    } else if (this.firstKey === key) this.firstValue = value;
    else (this.rest ??= new Map()).set(key, value);
    this.wakeReader();
  }

  /** The next value if one is pending, else undefined (then see `closed`, or set `waker` to hear of the next). */
  take(): T | undefined {
    if (this.done || this.firstKey === null) return undefined;
    const value = this.firstValue;
    this.firstKey = null;
    this.firstValue = undefined;
    if (this.rest?.size) {
      for (const [key, next] of this.rest) {
        this.rest.delete(key);
        this.firstKey = key;
        this.firstValue = next;
        break;
      }
    }
    return value;
  }

  private wakeReader(): void {
    const waker = this.waker;
    if (!waker) return;
    this.waker = null;
    waker.wake();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.firstKey !== null) return Promise.resolve({ value: this.take()!, done: false });
    return new Promise((resolve) => (this.waiting ??= []).push(resolve));
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
    this.firstKey = null;
    this.firstValue = undefined;
    this.rest = null;
    for (const reader of this.waiting?.splice(0) ?? []) reader({ value: undefined, done: true });
    this.onClose();
    this.wakeReader();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
