import type { Config } from '../config';
import type { Logger } from '../logger';
import type { BalanceBus } from './balance-event';
import { InProcessBalanceBus } from './in-process-bus';
import { RedisBalanceBus } from './redis-bus';

/** In-process events by default; Redis when REDIS_URL is set, so every instance's subscribers hear every change. */
export async function createBalanceBus(config: Config, logger: Logger): Promise<BalanceBus> {
  if (!config.redisUrl) return new InProcessBalanceBus();
  const bus = new RedisBalanceBus(config.redisUrl, logger);
  try {
    await bus.connect();
  } catch (error) {
    await bus.close().catch(() => undefined);
    throw new Error(`Cannot reach Redis at REDIS_URL (${error instanceof Error ? error.message : 'unknown reason'}).`);
  }
  return bus;
}
