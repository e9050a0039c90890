import { Refusal } from './codes';
import { cancelBlocker } from './availability';
import { AllocationState, LineState } from './types';

export interface CancelPlan {
  /** Allocations to release to the patient's credit: the whole remainder of each (docs/design.md §2.4). */
  releases: { allocationId: string; cents: number }[];
}

/** Checks cancelling a line and says which payment money it frees. `allocations` are those on this line. */
export function planCancel(line: LineState, allocations: readonly AllocationState[]): CancelPlan | Refusal {
  const blocker = cancelBlocker(line, true);
  if (blocker) return blocker;
  return {
    releases: allocations
      .filter((a) => a.responsibilityId === line.id && a.remainingCents > 0)
      .map((a) => ({ allocationId: a.id, cents: a.remainingCents })),
  };
}
