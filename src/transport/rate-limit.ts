import { GraphQLError } from 'graphql';

/** How long a full bucket lasts at the sustained rate: a caller may burst this many seconds' worth at once. */
export const BURST_SECONDS = 5;

/**
 * A token bucket per caller: `perSecond` sustained, bursts up to BURST_SECONDS' worth. In memory, so per instance;
 * the limit protects the instance, not a billing quota. `what` names the thing limited in the refusal message.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    private readonly what: string,
  ) {}

  /**
   * Takes `count` tokens at once, or none: a document with three mutations is admitted whole or refused whole, so a
   * refusal never lands between two of its commits.
   */
  take(caller: string, count = 1, now = Date.now()): void {
    if (this.perSecond <= 0) return;
    const capacity = this.perSecond * BURST_SECONDS;
    const bucket = this.buckets.get(caller) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (bucket.tokens < count) {
      const waitMs = Math.ceil(((Math.min(count, capacity) - bucket.tokens) / this.perSecond) * 1000);
      throw rateLimited(`Too many ${this.what} too quickly: at most ${this.perSecond} per second. Try again in ${waitMs} ms.`, waitMs);
    }
    bucket.tokens -= count;
    if (this.buckets.size > 10_000) this.forgetIdle(now);
  }

  private forgetIdle(now: number): void {
    for (const [caller, bucket] of this.buckets) if (now - bucket.at > BURST_SECONDS * 2000) this.buckets.delete(caller);
  }
}

export function rateLimited(message: string, retryAfterMs: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'RATE_LIMITED', retryAfterMs } });
}

/** Counts what each caller holds open (WebSocket connections) against a ceiling. */
export class OpenCounter {
  private readonly open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** True and counted when the caller is under the ceiling; false (nothing counted) otherwise. */
  acquire(caller: string): boolean {
    const held = this.open.get(caller) ?? 0;
    if (this.max > 0 && held >= this.max) return false;
    this.open.set(caller, held + 1);
    return true;
  }

  release(caller: string): void {
    const held = (this.open.get(caller) ?? 0) - 1;
    if (held > 0) this.open.set(caller, held);
    else this.open.delete(caller);
  }
}
