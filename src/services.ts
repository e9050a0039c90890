import type { Database } from './db/database';
import type { Config } from './config';
import type { BalanceBus } from './balances/balance-event';
import type { Logger } from './logger';
import { AuditService } from './audit/audit.service';
import { MoneyMutations } from './ledger-store/money-mutations';
import { LedgerReader } from './read-model/ledger-reader';
import { PracticeService } from './practices/practice.service';
import { PatientService } from './patients/patient.service';
import { ChargeService } from './charges/charge.service';
import { PaymentService } from './payments/payment.service';
import { WriteOffService } from './write-offs/write-off.service';
import { CancellationService } from './responsibilities/cancellation.service';
import { RemittanceService } from './remittances/remittance.service';
import { BalanceSubscriptions } from './balances/balance-subscriptions';
import { CreditService } from './credit/credit.service';
import { PostingService } from './posting/posting.service';
import { BalanceHistory } from './ledger-store/balance-history';
import { WriteOffRuleService } from './write-off-rules/write-off-rule.service';
import { EraImportService } from './era/era-import.service';

/** The application's services, wired once per process. Resolvers reach the data only through these. */
export function createServices(db: Database, bus: BalanceBus, ledger: Config['ledger'], logger?: Logger) {
  const audit = new AuditService(db, logger);
  const mutations = new MoneyMutations(db, bus, audit, ledger);
  const reader = new LedgerReader(db);
  const payments = new PaymentService(mutations);
  const writeOffs = new WriteOffService(mutations);
  const credit = new CreditService(mutations);
  const remittances = new RemittanceService(mutations);
  const cancellations = new CancellationService(mutations);
  const posting = new PostingService(db, mutations, audit, { payments, cancellations, writeOffs, credit, remittances, reader });
  return {
    db,
    bus,
    audit,
    reader,
    balanceSubscriptions: new BalanceSubscriptions(bus, reader),
    practices: new PracticeService(db),
    patients: new PatientService(db, audit, bus),
    charges: new ChargeService(mutations),
    payments,
    writeOffs,
    credit,
    cancellations,
    remittances,
    posting,
    writeOffRules: new WriteOffRuleService(db, audit, posting),
    eraImport: new EraImportService(db, audit, posting),
    balances: new BalanceHistory(db),
  };
}

export type Services = ReturnType<typeof createServices>;
