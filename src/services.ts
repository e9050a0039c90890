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

/** The application's services, wired once per process. Resolvers reach the data only through these. */
export function createServices(db: Database, bus: BalanceBus, ledger: Config['ledger'], logger?: Logger) {
  const audit = new AuditService(db, logger);
  const mutations = new MoneyMutations(db, bus, audit, ledger);
  const reader = new LedgerReader(db);
  return {
    db,
    bus,
    audit,
    reader,
    balanceSubscriptions: new BalanceSubscriptions(bus, reader),
    practices: new PracticeService(db),
    patients: new PatientService(db, audit, bus),
    charges: new ChargeService(mutations),
    payments: new PaymentService(mutations),
    writeOffs: new WriteOffService(mutations),
    cancellations: new CancellationService(mutations),
    remittances: new RemittanceService(mutations),
  };
}

export type Services = ReturnType<typeof createServices>;
