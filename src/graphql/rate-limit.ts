import { GraphQLError } from 'graphql';

/**
 * A token bucket per caller (practice + user) for mutations: `perSecond` sustained, bursts up to five seconds' worth.
 * In memory, so per instance; the limit protects the instance, not a billing quota.
 */
export class MutationRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  take(caller: string, now = Date.now()): void {
    if (this.perSecond <= 0) return;
    const capacity = this.perSecond * 5;
    const bucket = this.buckets.get(caller) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(caller, bucket);
      const waitMs = Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
      throw new GraphQLError(`Too many changes too quickly: at most ${this.perSecond} per second. Try again in ${waitMs} ms.`, {
        extensions: { code: 'RATE_LIMITED', retryAfterMs: waitMs },
      });
    }
    bucket.tokens -= 1;
    this.buckets.set(caller, bucket);
    if (this.buckets.size > 10_000) this.forgetIdle(now);
  }

  private forgetIdle(now: number): void {
    for (const [caller, bucket] of this.buckets) if (now - bucket.at > 60_000) this.buckets.delete(caller);
  }
}
