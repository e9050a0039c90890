import crypto from 'node:crypto';
import type { Database, Transaction } from '../db/database';
import type { Actor } from '../auth/actor';
import { describeError, type Logger } from '../logger';
import { insertRows } from '../db/sql';
import { BatchBuffer } from './audit-buffer';
import type { Page } from '../read-model/ledger-reader';

/**
 * Read events wait at most this long before they are written: the bound on how long a read can be missing from the
 * trail (of another instance; this instance's `auditTrail` writes what waits first).
 */
export const READ_AUDIT_MAX_DELAY_MS = 250;
/** Read events are written as soon as this many wait, in one transaction: one per batch, not one per read. */
export const READ_AUDIT_BATCH_SIZE = 500;
/** While the database cannot take them, at most this many read events wait in memory; then the oldest are dropped. */
export const READ_AUDIT_CAPACITY = 50_000;
/** A failed flush is retried after 250 ms, 500 ms, 1 s, … and at most every 10 s while the database stays down. */
const READ_AUDIT_RETRY_BASE_MS = 250;
const READ_AUDIT_RETRY_MAX_MS = 10_000;

export interface AuditEventView {
  id: string;
  occurredAt: string;
  operation: string;
  outcome: string;
  code: string | null;
  patientId: string | null;
  entityIds: string[];
  actor: { id: string; role: string };
  requestId: string;
  clientRequestId: string | null;
}

export interface AuditQuery {
  first: number;
  after: string[] | null;
  patientId: string | null;
  from: string | null;
  to: string | null;
}

export type AuditOutcome = 'ACCEPTED' | 'REFUSED' | 'FAILED' | 'READ';

export interface AuditEntry {
  operation: string;
  outcome: AuditOutcome;
  code?: string | null;
  /** The one patient the event is about, when there is one. */
  patientId?: string | null;
  /** Every other patient whose data the event concerns, e.g. each patient a list read returned. */
  patientIds?: string[];
  entityIds?: string[];
  /**
   * An accepted money mutation's new version of each patient it changed (docs/design.md §2.6), kept on the event's
   * patient rows: a past balance's version is read from them (§8.5). Absent on every event that raised no version.
   */
  versions?: ReadonlyMap<string, number>;
  /** When it happened, if not now: an accepted mutation's event carries the time its rows carry (docs/design.md §8.5). */
  occurredAt?: string;
}

/**
 * The patients an audit event of a unit over many rows is about (docs/design.md §3): every patient, once, and named as
 * its patient when there is only one. Batch edits, write-off rule runs and 835 imports record their events this way.
 */
export function patientsOf(rows: readonly { patientId: string }[]): { patientId: string | null; patientIds: string[] } {
  const patientIds = [...new Set(rows.map((r) => r.patientId))];
  return { patientId: patientIds.length === 1 ? patientIds[0] : null, patientIds };
}

export interface AuditCaller {
  actor: Actor;
  /** Made by the server. */
  requestId: string;
  /** What the client sent as `x-request-id`, if anything: kept beside `requestId`, never instead of it. */
  clientRequestId?: string | null;
}

/** One event (an audit_events row) and the audit_event_patients rows that index it by patient. */
interface AuditRecord {
  event: { id: string; practice_id: string; occurred_at: string; patient_id: string | null } & Record<string, unknown>;
  patients: Record<string, unknown>[];
}

/**
 * Whatever text a token or request carried, the row is storable on both databases: PostgreSQL text cannot hold NUL,
 * and a varchar(n) refuses longer values. An audit write must never be what fails a request.
 */
function storable(value: string, maxLength: number): string {
  return value.replace(/\u0000/g, '\uFFFD').slice(0, maxLength);
}

/**
 * Writes audit events. Mutation attempts are durable before their answer: an accepted money mutation's event is in
 * its own transaction, a refusal's or failure's in a short one of its own. Reads are buffered and written in batches
 * (at most READ_AUDIT_MAX_DELAY_MS later), so that readers never queue one transaction each behind writers.
 */
export class AuditService {
  private readonly reads: BatchBuffer<AuditRecord>;

  constructor(
    private readonly db: Database,
    private readonly logger?: Logger,
  ) {
    this.reads = new BatchBuffer<AuditRecord>((records) => this.db.transaction((tx) => this.insert(tx, records, { skipExisting: true })), {
      maxDelayMs: READ_AUDIT_MAX_DELAY_MS,
      batchSize: READ_AUDIT_BATCH_SIZE,
      capacity: READ_AUDIT_CAPACITY,
      retryBaseMs: READ_AUDIT_RETRY_BASE_MS,
      retryMaxMs: READ_AUDIT_RETRY_MAX_MS,
      onDropped: (count) => this.logger?.log('error', 'audit_reads_dropped', { count, capacity: READ_AUDIT_CAPACITY }),
      onFlushFailed: (error, waiting, failures) => this.logger?.log('error', 'audit_flush_failed', { waiting, failures, ...describeError(error) }),
    });
  }

  async recordIn(tx: Transaction, caller: AuditCaller, entry: AuditEntry): Promise<void> {
    await this.insert(tx, [this.build(caller, entry)], { skipExisting: false });
  }

  /** An event of its own (a refusal, a failure): its own short transaction, written before the answer leaves. */
  async record(caller: AuditCaller, entry: AuditEntry): Promise<void> {
    await this.db.transaction((tx) => this.recordIn(tx, caller, entry));
  }

  /** A request's read events: returns at once; they are written with the next batch. */
  enqueueReads(caller: AuditCaller, entries: AuditEntry[]): void {
    this.reads.add(entries.map((entry) => this.build(caller, entry)));
  }

  /** Writes every read event waiting now (after a flush already in flight). */
  flush(): Promise<void> {
    return this.reads.flush();
  }

  /** Writes what waits and stops the timer: for shutdown, before the database closes. */
  close(): Promise<void> {
    return this.reads.close();
  }

  /**
   * The practice's events, newest first. This instance's waiting reads are written first, so a caller sees its own
   * earlier reads. By patient, the page is read from audit_event_patients, which also indexes list reads.
   */
  async list(practiceId: string, query: AuditQuery): Promise<Page<AuditEventView>> {
    await this.flush();
    const byPatient = Boolean(query.patientId);
    // By patient, time and cursor bounds apply to the index table, so the index alone finds and orders the page.
    const [at, id] = byPatient ? ['p.occurred_at', 'p.event_id'] : ['e.occurred_at', 'e.id'];
    const where = [byPatient ? 'p.practice_id = ?' : 'e.practice_id = ?'];
    const params: unknown[] = [practiceId];
    if (byPatient) {
      where.push('p.patient_id = ?', 'e.practice_id = p.practice_id');
      params.push(query.patientId);
    }
    if (query.from) {
      where.push(`${at} >= ?`);
      params.push(query.from);
    }
    if (query.to) {
      where.push(`${at} < ?`);
      params.push(query.to);
    }
    if (query.after) {
      where.push(`(${at} < ? OR (${at} = ? AND ${id} < ?))`);
      params.push(query.after[0], query.after[0], query.after[1]);
    }
    const tables = byPatient ? 'audit_event_patients p JOIN audit_events e ON e.id = p.event_id' : 'audit_events e';
    const rows = await this.db.query(`SELECT e.* FROM ${tables} WHERE ${where.join(' AND ')} ORDER BY ${at} DESC, ${id} DESC LIMIT ?`, [
      ...params,
      query.first + 1,
    ]);
    return {
      hasNextPage: rows.length > query.first,
      rows: rows.slice(0, query.first).map((r) => ({
        id: String(r.id),
        occurredAt: String(r.occurred_at),
        operation: String(r.operation),
        outcome: String(r.outcome),
        code: r.code === null ? null : String(r.code),
        patientId: r.patient_id === null ? null : String(r.patient_id),
        entityIds: JSON.parse(String(r.entity_ids)) as string[],
        actor: { id: String(r.actor_id), role: String(r.actor_role) },
        requestId: String(r.request_id),
        clientRequestId: r.client_request_id === null ? null : String(r.client_request_id),
      })),
    };
  }

  private build(caller: AuditCaller, entry: AuditEntry): AuditRecord {
    const event = {
      id: crypto.randomUUID(),
      practice_id: storable(caller.actor.practiceId, 64),
      occurred_at: entry.occurredAt ?? new Date().toISOString(),
      operation: storable(entry.operation, 64),
      outcome: entry.outcome,
      code: entry.code ? storable(entry.code, 64) : null,
      patient_id: entry.patientId ? storable(entry.patientId, 36) : null,
      // JSON escapes NUL, so the document itself is always storable text.
      entity_ids: JSON.stringify([...new Set(entry.entityIds ?? [])]),
      actor_id: storable(caller.actor.userId, 255),
      actor_role: storable(caller.actor.role, 32),
      request_id: storable(caller.requestId, 64),
      client_request_id: caller.clientRequestId ? storable(caller.clientRequestId, 64) : null,
    };
    const patientIds = new Set([...(event.patient_id ? [event.patient_id] : []), ...(entry.patientIds ?? []).map((p) => storable(p, 36))]);
    const patients = [...patientIds].map((patientId) => ({
      event_id: event.id,
      patient_id: patientId,
      practice_id: event.practice_id,
      occurred_at: event.occurred_at,
      version: entry.versions?.get(patientId) ?? null,
    }));
    return { event, patients };
  }

  /**
   * Inserts events and their patient index rows. A retried batch may already be stored (its commit's acknowledgement
   * lost with the connection), so batches `skipExisting` rows rather than failing every retry on their primary keys.
   */
  private async insert(tx: Transaction, records: AuditRecord[], { skipExisting }: { skipExisting: boolean }): Promise<void> {
    await insertRows(tx, 'audit_events', records.map((r) => r.event), { skipExisting });
    await insertRows(tx, 'audit_event_patients', records.flatMap((r) => r.patients), { skipExisting });
  }
}
