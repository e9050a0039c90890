import type { Role } from './roles';

/** The verified caller: who (`sub`), for which practice, in which role, until when. */
export interface Actor {
  userId: string;
  practiceId: string;
  role: Role;
  /** Seconds since the epoch (`exp`). */
  expiresAt: number;
}
