import type { MigrationInterface } from 'typeorm';
import type { DatabaseKind } from '../data-source';
import { Initial1795763274749 as SqliteInitial } from './sqlite/1795763274749-Initial';
import { AppendOnly1795763274750 as SqliteAppendOnly } from './sqlite/1795763274750-AppendOnly';
import { Initial1795763274749 as PostgresInitial } from './postgres/1795763274749-Initial';
import { AppendOnly1795763274750 as PostgresAppendOnly } from './postgres/1795763274750-AppendOnly';
import { AuditInvestigation1796138446443 as SqliteAuditInvestigation } from './sqlite/1796138446443-AuditInvestigation';
import { AuditEventPatients1796138446444 as SqliteAuditEventPatients } from './sqlite/1796138446444-AuditEventPatients';
import { AuditInvestigation1796138446443 as PostgresAuditInvestigation } from './postgres/1796138446443-AuditInvestigation';
import { AuditEventPatients1796138446444 as PostgresAuditEventPatients } from './postgres/1796138446444-AuditEventPatients';
import { UniqueMrnPerPractice1796140509045 as SqliteUniqueMrnPerPractice } from './sqlite/1796140509045-UniqueMrnPerPractice';
import { UniqueMrnPerPractice1796140509045 as PostgresUniqueMrnPerPractice } from './postgres/1796140509045-UniqueMrnPerPractice';
import { StoredAmounts1796142795186 as SqliteStoredAmounts } from './sqlite/1796142795186-StoredAmounts';
import { StoredAmounts1796142795186 as PostgresStoredAmounts } from './postgres/1796142795186-StoredAmounts';
import { Posting1796145213928 as SqlitePosting } from './sqlite/1796145213928-Posting';
import { Posting1796145213928 as PostgresPosting } from './postgres/1796145213928-Posting';
import { Automation1796147336049 as SqliteAutomation } from './sqlite/1796147336049-Automation';
import { Automation1796147336049 as PostgresAutomation } from './postgres/1796147336049-Automation';
import { AuditEventVersions1796151482306 as SqliteAuditEventVersions } from './sqlite/1796151482306-AuditEventVersions';
import { AuditEventVersions1796151482306 as PostgresAuditEventVersions } from './postgres/1796151482306-AuditEventVersions';

type MigrationClass = new () => MigrationInterface;

/**
 * Migrations per database, oldest first. Table changes are generated from the entities
 * (`npm run migration:generate -- Name`); triggers are written by hand.
 */
export const MIGRATIONS: Record<DatabaseKind, MigrationClass[]> = {
  sqlite: [SqliteInitial, SqliteAppendOnly, SqliteAuditInvestigation, SqliteAuditEventPatients, SqliteUniqueMrnPerPractice, SqliteStoredAmounts, SqlitePosting, SqliteAutomation, SqliteAuditEventVersions],
  postgres: [PostgresInitial, PostgresAppendOnly, PostgresAuditInvestigation, PostgresAuditEventPatients, PostgresUniqueMrnPerPractice, PostgresStoredAmounts, PostgresPosting, PostgresAutomation, PostgresAuditEventVersions],
};
