/**
 * Collects items and writes them in batches through an injected writer: one call per flush, at most one in flight.
 * Written to batch read audit events (docs/operations.md §2: reads must not queue one transaction each behind mutations), but
 * knows nothing about audit or databases, so its timing, retry and overflow rules are tested on their own.
 */
export interface BatchBufferOptions {
  /** A flush starts at the latest this long after the oldest waiting item arrived. */
  maxDelayMs: number;
  /** A flush starts as soon as this many items are waiting. */
  batchSize: number;
  /** At most this many items wait; beyond it the oldest are dropped (and counted), so memory stays bounded. */
  capacity: number;
  /** After a failed flush, the retry waits `retryBaseMs` × 2^(failures − 1), capped at `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Told after a flush (successful or not) how many items were dropped since the last report. */
  onDropped?: (count: number) => void;
  /** Told of each failed flush; the items are kept for the retry. */
  onFlushFailed?: (error: unknown, waiting: number, failures: number) => void;
}

export class BatchBuffer<T> {
  private waiting: T[] = [];
  /** When the oldest waiting item arrived (ms since the epoch); meaningful only while items wait. */
  private oldestAt = 0;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = 0;
  private failures = 0;
  private droppedSinceReport = 0;
  private closed = false;
  /** Items dropped since the buffer was made: by overflow, or because they arrived after `close`. */
  droppedTotal = 0;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly options: BatchBufferOptions,
  ) {}

  /** How many items wait to be written (not counting a flush in flight). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Takes items to write later; never waits and never throws. */
  add(items: T[]): void {
    if (items.length === 0) return;
    if (this.closed) {
      this.drop(items.length);
      this.reportDrops();
      return;
    }
    if (this.waiting.length === 0) this.oldestAt = Date.now();
    this.waiting.push(...items);
    this.trim();
    this.schedule();
  }

  /**
   * Writes everything waiting now, after any flush already in flight. Rejects when the write fails (the items are
   * kept for the next attempt).
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.inFlight) {
        await this.inFlight.catch(() => undefined);
        continue;
      }
      if (this.waiting.length === 0) return;
      return this.startWrite();
    }
  }

  /** Flushes and stops the timer; items added afterwards are dropped and counted. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    await this.flush();
  }

  private startWrite(): Promise<void> {
    this.clearTimer();
    const batch = this.waiting;
    const batchOldestAt = this.oldestAt;
    this.waiting = [];
    const write = Promise.resolve()
      .then(() => this.write(batch))
      .then(
        () => {
          this.failures = 0;
          this.settle();
        },
        (error: unknown) => {
          this.failures += 1;
          // The failed batch is older than anything that arrived meanwhile: it goes back in front.
          this.oldestAt = batchOldestAt;
          this.waiting = batch.concat(this.waiting);
          this.trim();
          this.options.onFlushFailed?.(error, this.waiting.length, this.failures);
          this.settle();
          throw error;
        },
      );
    this.inFlight = write;
    return write;
  }

  private settle(): void {
    this.inFlight = null;
    this.reportDrops();
    this.schedule();
  }

  /** Keeps the newest `capacity` items. */
  private trim(): void {
    const excess = this.waiting.length - this.options.capacity;
    if (excess <= 0) return;
    this.waiting.splice(0, excess);
    this.drop(excess);
  }

  private drop(count: number): void {
    this.droppedSinceReport += count;
    this.droppedTotal += count;
  }

  private reportDrops(): void {
    if (this.droppedSinceReport === 0) return;
    const count = this.droppedSinceReport;
    this.droppedSinceReport = 0;
    this.options.onDropped?.(count);
  }

  /** One timer at a time, due at the earliest moment a flush is owed; a flush in flight reschedules when it ends. */
  private schedule(): void {
    if (this.closed || this.inFlight || this.waiting.length === 0) return;
    const { maxDelayMs, batchSize, retryBaseMs, retryMaxMs } = this.options;
    const now = Date.now();
    const delay =
      this.failures > 0
        ? Math.min(retryMaxMs, retryBaseMs * 2 ** (this.failures - 1))
        : this.waiting.length >= batchSize
          ? 0
          : Math.max(0, this.oldestAt + maxDelayMs - now);
    if (this.timer && this.timerDueAt <= now + delay) return;
    this.clearTimer();
    this.timerDueAt = now + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      // Failures are reported through onFlushFailed and retried by the next schedule.
      this.startWrite().catch(() => undefined);
    }, delay);
    // A pending flush alone does not keep the process alive: shutdown calls close(), which writes what waits.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
