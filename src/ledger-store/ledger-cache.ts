import type { PatientLedger } from '../ledger';

/**
 * The ledger state of recently used patients, at most `capacity` of them (least recently used leave first). An entry
 * is only a hint: a mutation takes it out, uses it only if its version is the one it reads under the patient's lock,
 * and puts back the state it leaves. Another instance may have changed the patient meanwhile (its version then
 * differs), and a mutation that fails never puts its state back, so a wrong state can never be used twice.
 */
export class LedgerCache {
  private readonly entries = new Map<string, PatientLedger>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The patient's state at `version`, removed from the cache; null when it is missing or at another version. */
  take(patientId: string, version: number): PatientLedger | null {
    const ledger = this.entries.get(patientId);
    if (!ledger) return null;
    this.entries.delete(patientId);
    return ledger.version === version ? ledger : null;
  }

  /** The patient's state at `version`, left in the cache: for reading only (a preview works on a copy). */
  peek(patientId: string, version: number): PatientLedger | null {
    const ledger = this.entries.get(patientId);
    return ledger?.version === version ? ledger : null;
  }

  put(ledger: PatientLedger): void {
    if (this.capacity <= 0) return;
    this.entries.delete(ledger.patientId);
    this.entries.set(ledger.patientId, ledger);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  drop(patientId: string): void {
    this.entries.delete(patientId);
  }
}
