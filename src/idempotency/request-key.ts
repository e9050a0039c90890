import crypto from 'node:crypto';
import type { SqlRunner, Transaction } from '../db/database';
import { Refusal, RefusalCode, cleanText, isRefusal, refusal } from '../ledger';
import { insertRows } from '../db/sql';

/** The ids a payload is rebuilt from: for a replay, "the same objects, as they are now". */
export type MutationResult = Record<string, string | string[] | null>;

/** What an earlier request with the same key did: the same request (replay it), or another one (refuse). */
export type EarlierRequest<R extends MutationResult> =
  | { status: 'replayed'; patientId: string; result: R }
  | { status: 'reused'; patientId: string; refusal: Refusal };

const KEY_FIELD = ['input', 'idempotencyKey'];

/** Stable JSON: keys sorted, absent and null alike, so the same input always hashes the same. */
function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fingerprint(operation: string, input: unknown): string {
  return crypto.createHash('sha256').update(`${operation}\n${canonical(input)}`).digest('hex');
}

/**
 * The idempotency key one request sent (docs/design.md §3), scoped to the caller's practice, with the fingerprint of
 * its operation and input. It is stored in the same transaction as the request's effect, so a crash can never keep
 * one without the other; a refusal stores nothing.
 */
export class RequestKey {
  private constructor(
    private readonly practiceId: string,
    private readonly key: string,
    private readonly operation: string,
    private readonly print: string,
  ) {}

  /** The request's key; null when it sent none; INVALID_TEXT when the key is not clean text. */
  static of(practiceId: string, operation: string, key: string | null | undefined, input: unknown): RequestKey | Refusal | null {
    if (key === null || key === undefined) return null;
    const cleaned = cleanText(key, { label: 'idempotency key', field: KEY_FIELD });
    if (isRefusal(cleaned)) return cleaned;
    return new RequestKey(practiceId, cleaned, operation, fingerprint(operation, input));
  }

  /** What the request that stored this key did, or null when the key is new. */
  async earlier<R extends MutationResult>(sql: SqlRunner): Promise<EarlierRequest<R> | null> {
    const [stored] = await sql.query<{ operation: string; fingerprint: string; patient_id: string; result: string }>(
      'SELECT operation, fingerprint, patient_id, result FROM idempotency_keys WHERE practice_id = ? AND key = ?',
      [this.practiceId, this.key],
    );
    if (!stored) return null;
    if (stored.operation !== this.operation || stored.fingerprint !== this.print) {
      const reused = refusal(
        RefusalCode.IDEMPOTENCY_KEY_REUSED,
        'This idempotency key was already used for a different request. Use a new key for a new request.',
        KEY_FIELD,
      );
      return { status: 'reused', patientId: stored.patient_id, refusal: reused };
    }
    return { status: 'replayed', patientId: stored.patient_id, result: JSON.parse(stored.result) as R };
  }

  /** Keeps the key with what the request did, in the transaction that did it. */
  async store(tx: Transaction, patientId: string, result: MutationResult, now: string): Promise<void> {
    await insertRows(tx, 'idempotency_keys', [
      { practice_id: this.practiceId, key: this.key, operation: this.operation, fingerprint: this.print, patient_id: patientId, result: JSON.stringify(result), created_at: now },
    ]);
  }
}
