import type { Database } from '../db/database';

/** Practices come from the identity provider: a row appears the first time a valid token names one (docs/design.md §4). */
export class PracticeService {
  private readonly known = new Set<string>();

  constructor(private readonly db: Database) {}

  async ensure(practiceId: string): Promise<void> {
    if (this.known.has(practiceId)) return;
    const existing = await this.db.query('SELECT id FROM practices WHERE id = ?', [practiceId]);
    if (existing.length === 0) {
      await this.db.transaction((tx) =>
        tx.query('INSERT INTO practices (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', [practiceId, new Date().toISOString()]),
      );
    }
    this.known.add(practiceId);
  }
}
