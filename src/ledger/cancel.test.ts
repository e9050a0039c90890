import { planCancel } from './cancel';
import { AllocationState, LineState } from './types';

function line(over: Partial<LineState> = {}): LineState {
  return { id: 'L1', chargeId: 'C1', kind: 'COPAY', origin: 'ESTIMATED', status: 'ACTIVE', amountCents: 3000, paidCents: 0, writtenOffCents: 0, ...over };
}
function alloc(id: string, responsibilityId: string, remainingCents: number, sequence: number): AllocationState {
  return { id, responsibilityId, remainingCents, sequence };
}

describe('planCancel', () => {
  it('allows ESTIMATED, SELF_PAY and STAFF lines with nothing on them, releasing nothing', () => {
    for (const origin of ['ESTIMATED', 'SELF_PAY', 'STAFF'] as const) {
      expect(planCancel(line({ origin }), [])).toEqual({ releases: [] });
    }
  });

  it('releases the whole remainder of every allocation on the line to credit', () => {
    const allocations = [alloc('A1', 'L1', 1000, 1), alloc('A2', 'L1', 2000, 2)];
    expect(planCancel(line({ paidCents: 3000 }), allocations)).toEqual({
      releases: [
        { allocationId: 'A1', cents: 1000 },
        { allocationId: 'A2', cents: 2000 },
      ],
    });
  });

  it('skips emptied allocations and allocations on other lines', () => {
    const allocations = [alloc('A1', 'L1', 0, 1), alloc('A2', 'L2', 500, 2), alloc('A3', 'L1', 1, 3)];
    expect(planCancel(line({ paidCents: 1 }), allocations)).toEqual({ releases: [{ allocationId: 'A3', cents: 1 }] });
  });

  it('refuses remittance PR, with or without money on it', () => {
    const refusal = { code: 'PR_FROM_REMITTANCE', message: "PR from an insurance remittance can't be cancelled. Write it off, or post a corrected remittance." };
    expect(planCancel(line({ origin: 'REMITTANCE' }), [])).toEqual(refusal);
    expect(planCancel(line({ origin: 'REMITTANCE', paidCents: 1000 }), [alloc('A1', 'L1', 1000, 1)])).toEqual(refusal);
    expect(planCancel(line({ origin: 'REMITTANCE', writtenOffCents: 1000 }), [])).toEqual(refusal);
  });

  it('refuses while a write-off is active', () => {
    expect(planCancel(line({ writtenOffCents: 1 }), [])).toEqual({ code: 'PR_HAS_WRITE_OFFS', message: 'Remove the write-off before cancelling this PR.' });
    expect(planCancel(line({ writtenOffCents: 1000, paidCents: 2000 }), [alloc('A1', 'L1', 2000, 1)])).toMatchObject({ code: 'PR_HAS_WRITE_OFFS' });
  });

  it('refuses a line that is already cancelled', () => {
    expect(planCancel(line({ status: 'CANCELLED' }), [])).toEqual({ code: 'PR_CANCELLED', message: 'This PR is already cancelled.' });
  });

  it('refuses a reversed line (docs/design.md §8.3), releasing nothing', () => {
    const reversed = { code: 'PR_REVERSED', message: 'This PR was reversed by the insurer; it is already out of the balance.' };
    for (const origin of ['ESTIMATED', 'SELF_PAY', 'STAFF'] as const) {
      expect(planCancel(line({ origin, status: 'REVERSED' }), [alloc('A1', 'L1', 1000, 1)])).toEqual(reversed);
    }
  });

  it('does not modify its inputs', () => {
    const l = Object.freeze(line({ paidCents: 3000 }));
    const allocations = Object.freeze([Object.freeze(alloc('A1', 'L1', 3000, 1))]);
    expect(planCancel(l, allocations)).toEqual({ releases: [{ allocationId: 'A1', cents: 3000 }] });
    expect(allocations[0].remainingCents).toBe(3000);
    expect(l.status).toBe('ACTIVE');
  });
});
