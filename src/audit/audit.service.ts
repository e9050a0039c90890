import crypto from 'node:crypto';
import type { Database, Transaction } from '../db/database';
import type { Actor } from '../auth/actor';
import { AuditEventEntity } from './audit-event.entity';
import type { Page } from '../read-model/ledger-reader';

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
  patientId?: string | null;
  entityIds?: string[];
}

export interface AuditCaller {
  actor: Actor;
  requestId: string;
}

/** Writes audit events. Accepted money mutations write theirs inside their own transaction. */
export class AuditService {
  constructor(private readonly db: Database) {}

  entity(caller: AuditCaller, entry: AuditEntry): AuditEventEntity {
    return Object.assign(new AuditEventEntity(), {
      id: crypto.randomUUID(),
      practiceId: caller.actor.practiceId,
      occurredAt: new Date().toISOString(),
      operation: entry.operation,
      outcome: entry.outcome,
      code: entry.code ?? null,
      patientId: entry.patientId ?? null,
      entityIds: JSON.stringify([...new Set(entry.entityIds ?? [])]),
      actorId: caller.actor.userId,
      actorRole: caller.actor.role,
      requestId: caller.requestId.slice(0, 64),
    });
  }

  async recordIn(tx: Transaction, caller: AuditCaller, entry: AuditEntry): Promise<void> {
    await tx.manager.insert(AuditEventEntity, this.entity(caller, entry));
  }

  /** The practice's events, newest first. */
  async list(practiceId: string, query: AuditQuery): Promise<Page<AuditEventView>> {
    const where = ['practice_id = ?'];
    const params: unknown[] = [practiceId];
    if (query.patientId) {
      where.push('patient_id = ?');
      params.push(query.patientId);
    }
    if (query.from) {
      where.push('occurred_at >= ?');
      params.push(query.from);
    }
    if (query.to) {
      where.push('occurred_at < ?');
      params.push(query.to);
    }
    if (query.after) {
      where.push('(occurred_at < ? OR (occurred_at = ? AND id < ?))');
      params.push(query.after[0], query.after[0], query.after[1]);
    }
    const rows = await this.db.query(`SELECT * FROM audit_events WHERE ${where.join(' AND ')} ORDER BY occurred_at DESC, id DESC LIMIT ?`, [
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
      })),
    };
  }

  /** A request's read events, in one short transaction. */
  async recordReads(caller: AuditCaller, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction((tx) => tx.manager.insert(AuditEventEntity, entries.map((entry) => this.entity(caller, entry))));
  }

  /** An event of its own (a refusal, a failure, a read): its own short transaction. */
  async record(caller: AuditCaller, entry: AuditEntry): Promise<void> {
    await this.db.transaction((tx) => this.recordIn(tx, caller, entry));
  }
}
