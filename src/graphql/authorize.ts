import { operationAllowed } from '../auth/roles';
import type { RequestContext } from './context';
import { forbidden } from './errors';

/** Refuses with FORBIDDEN when the caller's role may not use this root field (DESIGN §4). */
export function requireOperation(ctx: RequestContext, operation: string): void {
  if (!operationAllowed(ctx.actor.role, operation)) throw forbidden();
}
