/**
 * A patient's balance as of an instant (docs/design.md §8.5) keeps the version the patient had then: the changes
 * accepted by then. A write-off rule run and an 835 import only propose DRAFT batches, audited with the patients they
 * name: they change no balance and raise no version, now or in the past; posting their batch is one change.
 */
import {
  BalanceDocument,
  BalanceFieldsFragment,
  CreateChargeDocument,
  CreateWriteOffRuleDocument,
  EraImportDocument,
  PostingBalanceAsOfDocument,
  RecordPaymentDocument,
  RunWriteOffRuleDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, NO_CALLER_LIMITS } from '../harness';
import { newPatient, previewAndPost } from '../fixtures';
import { era835 } from '../support/era-file';

let server: TestServer;
let manager: Caller;
let billing: Caller;

beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
  manager = await server.caller('BILLING_MANAGER');
  billing = await server.caller('BILLING');
});
afterAll(() => server.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const shift = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

async function balance(patientId: string): Promise<BalanceFieldsFragment> {
  return (await server.ok(manager, BalanceDocument, { id: patientId })).patient!.balance;
}

test('a write-off rule run and an 835 import raise no version, in the past as now; posting the import is one change', async () => {
  const a = await newPatient(server, manager);
  const claimNumber = `PCN-ASOF-${Date.now()}`;
  const created = (
    await server.ok(manager, CreateChargeDocument, {
      input: { patientId: a, serviceDate: '2026-01-05', procedureCode: '99213', billedCents: 20_000, claimNumber, responsibilities: [{ kind: 'CUSTOM', amountCents: 300 }] },
    })
  ).createCharge;
  expect(created.userErrors).toEqual([]);
  const lineId = created.charge!.responsibilities[0].id;
  const v1 = await balance(a);
  expect(v1.version).toBe(1);
  const at = async (iso: string) => (await server.ok(manager, PostingBalanceAsOfDocument, { id: a, at: iso })).patient!.balanceAsOf;
  const asOf = (b: BalanceFieldsFragment) => ({
    __typename: 'BalanceSnapshot',
    patientId: a,
    version: b.version,
    outstandingCents: b.outstandingCents,
    responsibilityCents: b.responsibilityCents,
    paidCents: b.paidCents,
    writtenOffCents: b.writtenOffCents,
    creditCents: b.creditCents,
  });

  // The rule proposes writing off the $3.00 line: a DRAFT batch, audited with the patient; the ledger is unchanged.
  await sleep(25);
  const rule = (await server.ok(manager, CreateWriteOffRuleDocument, { input: { name: `As of ${claimNumber}`, reason: 'SMALL_BALANCE', maxOpenCents: 300, minDaysSinceService: 0 } }))
    .createWriteOffRule;
  expect(rule.userErrors).toEqual([]);
  const ran = (await server.ok(manager, RunWriteOffRuleDocument, { input: { ruleId: rule.rule!.id, asOf: '2026-01-31' } })).runWriteOffRule;
  expect(ran.userErrors).toEqual([]);
  await sleep(25);
  const afterRun = new Date().toISOString();
  expect(await balance(a)).toEqual(v1);
  expect(await at(afterRun)).toEqual(asOf(v1));

  // The insurer's 835 for the claim: another DRAFT batch with the patient in its audit event; no change either.
  await sleep(25);
  const file = era835([
    {
      trace: `EFT-ASOF-${Date.now()}`,
      date: '2026-01-15',
      payerName: 'ACME HEALTH PLAN',
      claims: [{ claimNumber, lines: [{ code: '99213', chargeCents: 20_000, date: '2026-01-05', adjustments: [{ group: 'PR', reason: '2', cents: 1_500 }] }] }],
    },
  ]);
  const imported = (await server.ok(billing, EraImportDocument, { input: { content: file } })).importRemittanceFile;
  expect(imported.userErrors).toEqual([]);
  await sleep(25);
  const afterImport = new Date().toISOString();
  expect(await balance(a)).toEqual(v1);
  expect(await at(afterRun)).toEqual(asOf(v1));
  expect(await at(afterImport)).toEqual(asOf(v1));

  // Posting the import's batch is one change: the version rises by exactly one, now and as of then.
  await sleep(25);
  await previewAndPost(server, manager, imported.batches[0].id);
  const v2 = await balance(a);
  expect(v2).toMatchObject({ version: 2, responsibilityCents: 1_800 });
  expect(await at(afterImport)).toEqual(asOf(v1));
  expect(await at(shift(v2.updatedAt, 10))).toEqual(asOf(v2));

  // And a money mutation after it is the next one.
  await sleep(25);
  const paid = (await server.ok(manager, RecordPaymentDocument, { input: { patientId: a, amountCents: 500, method: 'CHECK', allocations: [{ responsibilityId: lineId, amountCents: 300 }] } }))
    .recordPayment;
  expect(paid.userErrors).toEqual([]);
  const v3 = await balance(a);
  expect(v3.version).toBe(3);
  expect(await at(shift(v3.updatedAt, -5))).toEqual(asOf(v2));
  expect(await at(shift(v3.updatedAt, 10))).toEqual(asOf(v3));
  expect(await at(new Date(Date.now() + 1000).toISOString())).toEqual(asOf(v3));
});
