import { Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '../db/columns';

/** A practice exists from the first valid token that names it (docs/design.md §4): the identity provider owns practices. */
@Entity('practices')
export class PracticeEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @InstantColumn('created_at')
  createdAt: string;
}
