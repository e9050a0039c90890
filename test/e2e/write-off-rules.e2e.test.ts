/**
 * Write-off rules over real HTTP (docs/design.md §9.2): managed by BILLING_MANAGER and ADMIN and deactivated, never
 * deleted; run by BILLING and up into a DRAFT ADJUSTMENT batch with a write-off of what is open on every qualifying line
 * (0 < open ≤ maxOpenCents, old enough, of its kinds, the patient without credit; never a cancelled or reversed line,
 * nor another practice's), which staff preview and post. At most MAX_ENTRIES_PER_BATCH lines per run, the oldest first.
 * And `npm run rules` (its built program) run against the database of a running server. Every server runs with
 * LEDGER_VERIFY=1.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  BalanceDocument,
  CancelPrDocument,
  CreateChargeDocument,
  CreatePatientDocument,
  CreateWriteOffRuleDocument,
  CreateWriteOffRuleInput,
  PostingApplyCreditDocument,
  PostingPostDocument,
  PostingPreviewDocument,
  PostingReverseRemittanceDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  ResponsibilityKind,
  RuleBatchEntriesDocument,
  RuleWriteOffNotesDocument,
  RunWriteOffRuleDocument,
  UpdateWriteOffRuleDocument,
  UpdateWriteOffRuleInput,
  WriteOffDocument,
  WriteOffRulesDocument,
} from '../__generated__/graphql';
import { Caller, NO_CALLER_LIMITS, TEST_SECRET, TestServer, startTestServer } from '../harness';
import { previewAndPost } from '../fixtures';
import { ensureBuilt } from '../support/built-dist';
import { Running, runToExit, startListening } from '../support/child-process';
import { createScratchDatabase, ScratchDatabase } from '../scratch-postgres';
import { signToken } from '../../src/auth/tokens';
import type { Role } from '../../src/auth/roles';
import { MAX_ENTRIES_PER_BATCH, MAX_RULE_KINDS, MAX_WRITE_OFF_RULES_PER_PRACTICE, ResponsibilityKinds } from '../../src/ledger';
import { Database } from '../../src/db/database';
import { ENTITIES } from '../../src/entities';

const AS_OF = '2026-10-31';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
});
afterAll(() => server.stop());

// ---------------------------------------------------------------------------------------------------------------
// Helpers: every test works in a practice of its own, since a rule reads the whole practice.

interface Practice {
  id: string;
  manager: Caller;
  billing: Caller;
  as(role: Role): Promise<Caller>;
}

async function newPractice(): Promise<Practice> {
  const id = `rules-${crypto.randomBytes(4).toString('hex')}`;
  return { id, manager: await server.caller('BILLING_MANAGER', id), billing: await server.caller('BILLING', id), as: (role) => server.caller(role, id) };
}

async function patient(p: Practice): Promise<string> {
  const data = await server.ok(p.manager, CreatePatientDocument, { input: { firstName: 'Rita', lastName: `Rule${crypto.randomBytes(3).toString('hex')}` } });
  return data.createPatient.patient!.id;
}

/** A charge served on `serviceDate` with STAFF lines of these kinds and amounts; the line ids in order. */
async function charge(p: Practice, patientId: string, serviceDate: string, lines: [ResponsibilityKind, number][]): Promise<{ chargeId: string; lineIds: string[] }> {
  const data = await server.ok(p.manager, CreateChargeDocument, {
    input: { patientId, serviceDate, procedureCode: '99213', billedCents: 100_000, responsibilities: lines.map(([kind, amountCents]) => ({ kind, amountCents })) },
  });
  if (!data.createCharge.charge) throw new Error(JSON.stringify(data.createCharge.userErrors));
  return { chargeId: data.createCharge.charge.id, lineIds: data.createCharge.charge.responsibilities.map((r) => r.id) };
}
/** One CUSTOM line of `amountCents` served on `serviceDate`. */
async function line(p: Practice, patientId: string, serviceDate: string, amountCents: number): Promise<string> {
  return (await charge(p, patientId, serviceDate, [['CUSTOM', amountCents]])).lineIds[0];
}
async function pay(p: Practice, patientId: string, amountCents: number, allocations: { responsibilityId: string; amountCents: number }[] = []) {
  const data = await server.ok(p.manager, RecordPaymentDocument, { input: { patientId, amountCents, method: 'CHECK', allocations } });
  expect(data.recordPayment.userErrors).toEqual([]);
}
async function writeOff(p: Practice, responsibilityId: string, amountCents: number) {
  const data = await server.ok(p.manager, WriteOffDocument, { input: { responsibilityId, amountCents, reason: 'BAD_DEBT' } });
  expect(data.writeOff.userErrors).toEqual([]);
}

const RULE: CreateWriteOffRuleInput = { name: 'Small balances', reason: 'SMALL_BALANCE', maxOpenCents: 500, minDaysSinceService: 30 };
async function createRule(p: Practice, input: Partial<CreateWriteOffRuleInput> = {}, caller: Caller = p.manager) {
  return (await server.ok(caller, CreateWriteOffRuleDocument, { input: { ...RULE, ...input } })).createWriteOffRule;
}
/** A rule, asserting it was accepted. */
async function rule(p: Practice, input: Partial<CreateWriteOffRuleInput> = {}) {
  const created = await createRule(p, input);
  expect(created.userErrors).toEqual([]);
  return created.rule!;
}
async function updateRule(p: Practice, input: UpdateWriteOffRuleInput, caller: Caller = p.manager) {
  return (await server.ok(caller, UpdateWriteOffRuleDocument, { input })).updateWriteOffRule;
}
async function run(p: Practice, ruleId: string, asOf: string | null = AS_OF, caller: Caller = p.billing) {
  return (await server.ok(caller, RunWriteOffRuleDocument, { input: { ruleId, ...(asOf ? { asOf } : {}) } })).runWriteOffRule;
}
/** A run that made a batch: the batch and its entries. */
async function ran(p: Practice, ruleId: string, asOf: string | null = AS_OF, caller: Caller = p.billing) {
  const result = await run(p, ruleId, asOf, caller);
  expect(result.userErrors).toEqual([]);
  return { batch: result.batch!, entries: result.batch!.entries.edges.map((e) => e.node) };
}
/** The codes of a refused run. */
async function refusedRun(p: Practice, ruleId: string, asOf: string | null = AS_OF, caller: Caller = p.billing) {
  const result = await run(p, ruleId, asOf, caller);
  expect(result.batch).toBeNull();
  return result.userErrors;
}
/** Every entry of a batch, page by page: the line and amount of each. */
async function allEntries(p: Practice, batchId: string) {
  const entries: { lineId: string; amountCents: number }[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { postingBatch: { entries: { edges: { node: { amountCents: number; responsibility: { id: string } | null } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null } =
      await server.ok(p.manager, RuleBatchEntriesDocument, { id: batchId, first: 100, after });
    const page = data.postingBatch!.entries;
    entries.push(...page.edges.map((e) => ({ lineId: e.node.responsibility!.id, amountCents: e.node.amountCents })));
    if (!page.pageInfo.hasNextPage) return entries;
    after = page.pageInfo.endCursor;
  }
}
async function lineNow(p: Practice, id: string) {
  return (await server.ok(p.manager, RuleWriteOffNotesDocument, { id })).responsibility!;
}
async function balance(p: Practice, patientId: string) {
  return (await server.ok(p.manager, BalanceDocument, { id: patientId })).patient!.balance;
}
const lineIdsOf = (entries: { responsibility: { id: string } | null }[]) => entries.map((e) => e.responsibility!.id);
const codes = (errors: { code: string }[]) => errors.map((e) => e.code);

// ---------------------------------------------------------------------------------------------------------------

describe('which lines qualify', () => {
  test('open = max qualifies and max + 1 does not; age = min qualifies and min − 1 does not; open is what is left after payments and write-offs', async () => {
    const p = await newPractice();
    const pat = await patient(p);
    const maxEqual = await line(p, pat, '2026-09-01', 500);
    await line(p, pat, '2026-09-01', 501); // max + 1
    const ageEqual = await line(p, pat, '2026-10-01', 100); // exactly 30 days before AS_OF
    await line(p, pat, '2026-10-02', 100); // 29 days
    const partlyPaid = await line(p, pat, '2026-08-15', 800);
    await pay(p, pat, 300, [{ responsibilityId: partlyPaid, amountCents: 300 }]);
    const paid = await line(p, pat, '2026-08-01', 200);
    await pay(p, pat, 200, [{ responsibilityId: paid, amountCents: 200 }]);
    const partlyWrittenOff = await line(p, pat, '2026-08-20', 900);
    await writeOff(p, partlyWrittenOff, 400);
    const before = await balance(p, pat);
    expect(before.creditCents).toBe(0);

    const r = await rule(p);
    const { batch, entries } = await ran(p, r.id);
    expect(batch).toMatchObject({ kind: 'ADJUSTMENT', status: 'DRAFT', reference: `Rule "Small balances" as of ${AS_OF}`, createdBy: { id: p.billing.sub, role: 'BILLING' } });
    // Oldest date of service first; each written off by what is open on it.
    expect(entries.map((e) => [e.responsibility!.id, e.kind, e.amountCents, e.patient.id])).toEqual([
      [partlyPaid, 'WRITE_OFF', 500, pat],
      [partlyWrittenOff, 'WRITE_OFF', 500, pat],
      [maxEqual, 'WRITE_OFF', 500, pat],
      [ageEqual, 'WRITE_OFF', 100, pat],
    ]);
    // A draft changes no balance.
    expect(await balance(p, pat)).toEqual(before);

    // Run again while the draft stands: its lines are left to it.
    expect(codes(await refusedRun(p, r.id))).toEqual(['NOTHING_QUALIFIES']);

    const { preview, posted } = await previewAndPost(server, p.billing, batch.id);
    expect(preview.lines.map((l) => [l.responsibilityId, l.before?.openCents, l.after.openCents])).toEqual([
      [partlyPaid, 500, 0],
      [partlyWrittenOff, 500, 0],
      [maxEqual, 500, 0],
      [ageEqual, 100, 0],
    ]);
    expect(posted.balances).toEqual([expect.objectContaining({ patientId: pat, outstandingCents: before.outstandingCents - 1600, version: before.version + 1 })]);
    for (const id of [partlyPaid, partlyWrittenOff, maxEqual, ageEqual]) {
      const now = await lineNow(p, id);
      expect(now.openCents).toBe(0);
      expect(now.writeOffs.at(-1)).toEqual({
        amountCents: id === ageEqual ? 100 : 500,
        reason: 'SMALL_BALANCE',
        customReason: null,
        note: `Proposed by the write-off rule "Small balances" as of ${AS_OF}.`,
        batch: { id: batch.id },
      });
    }
    expect(codes(await refusedRun(p, r.id))).toEqual(['NOTHING_QUALIFIES']);
    // A later date makes the younger line old enough.
    expect((await ran(p, r.id, '2026-11-01')).entries.map((e) => e.amountCents)).toEqual([100]);
  });

  test('a patient with credit is skipped until the credit is applied', async () => {
    const p = await newPractice();
    const withCredit = await patient(p);
    const without = await patient(p);
    const creditLine = await line(p, withCredit, '2026-09-01', 300);
    await pay(p, withCredit, 50); // unallocated: credit
    const plainLine = await line(p, without, '2026-09-02', 300);
    expect((await balance(p, withCredit)).creditCents).toBe(50);

    const r = await rule(p);
    expect(lineIdsOf((await ran(p, r.id)).entries)).toEqual([plainLine]);

    const applied = (await server.ok(p.manager, PostingApplyCreditDocument, { input: { patientId: withCredit } })).applyCredit;
    expect(applied.userErrors).toEqual([]);
    expect(applied.balance!.creditCents).toBe(0);
    const { entries } = await ran(p, r.id);
    expect(entries.map((e) => [e.responsibility!.id, e.amountCents])).toEqual([[creditLine, 250]]);
  });

  test('cancelled and reversed lines never qualify, nor fully written-off ones', async () => {
    const p = await newPractice();
    const pat = await patient(p);
    const cancelled = await line(p, pat, '2026-09-01', 100);
    expect((await server.ok(p.manager, CancelPrDocument, { input: { responsibilityId: cancelled, reason: 'entered in error' } })).cancelPR.userErrors).toEqual([]);
    const { chargeId } = await charge(p, pat, '2026-09-01', []);
    const recorded = await server.ok(p.manager, RecordRemittanceDocument, {
      input: { chargeId, remittanceId: 'ERA-R1', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }] },
    });
    const reversed = recorded.recordRemittance.charge!.responsibilities[0].id;
    const reversal = await server.ok(p.manager, PostingReverseRemittanceDocument, { input: { chargeId, remittanceId: 'ERA-R1', reason: 'payer reversed the claim' } });
    expect(reversal.reverseRemittance.userErrors).toEqual([]);
    const writtenOff = await line(p, pat, '2026-09-01', 100);
    await writeOff(p, writtenOff, 100);
    expect((await lineNow(p, cancelled)).status).toBe('CANCELLED');
    expect((await lineNow(p, reversed)).status).toBe('REVERSED');

    const r = await rule(p, { maxOpenCents: 10_000, minDaysSinceService: 0 });
    expect(codes(await refusedRun(p, r.id))).toEqual(['NOTHING_QUALIFIES']);
    const control = await line(p, pat, '2026-09-01', 100);
    expect(lineIdsOf((await ran(p, r.id)).entries)).toEqual([control]);
  });

  test('kinds: only lines of the rule\'s kinds; without kinds, every kind; the write-offs carry the rule\'s custom reason', async () => {
    const p = await newPractice();
    const pat = await patient(p);
    const { lineIds } = await charge(p, pat, '2026-09-01', [
      ['COPAY', 100],
      ['DEDUCTIBLE', 200],
      ['CUSTOM', 300],
      ['COINSURANCE', 400],
    ]);
    const [copay, deductible, custom, coinsurance] = lineIds;
    const r = await rule(p, { name: 'Tiny copays', reason: 'OTHER', customReason: 'Under the statement threshold', kinds: ['DEDUCTIBLE', 'COPAY', 'COPAY'], minDaysSinceService: 0 });
    expect(r.kinds).toEqual(['COPAY', 'DEDUCTIBLE']);
    const first = await ran(p, r.id);
    expect(new Set(lineIdsOf(first.entries))).toEqual(new Set([copay, deductible]));

    const everyKind = await updateRule(p, { ruleId: r.id, kinds: null });
    expect(everyKind.rule!.kinds).toBeNull();
    expect(new Set(lineIdsOf((await ran(p, r.id)).entries))).toEqual(new Set([custom, coinsurance]));

    await previewAndPost(server, p.billing, first.batch.id);
    expect((await lineNow(p, copay)).writeOffs).toEqual([
      { amountCents: 100, reason: 'OTHER', customReason: 'Under the statement threshold', note: `Proposed by the write-off rule "Tiny copays" as of ${AS_OF}.`, batch: { id: first.batch.id } },
    ]);
  });

  test("another practice's lines never qualify, and its rules answer NOT_FOUND", async () => {
    const mine = await newPractice();
    const theirs = await newPractice();
    const theirLine = await line(theirs, await patient(theirs), '2026-09-01', 100);
    const theirRule = await rule(theirs);
    const myRule = await rule(mine);

    expect(codes(await refusedRun(mine, myRule.id))).toEqual(['NOTHING_QUALIFIES']);
    expect((await server.ok(mine.manager, WriteOffRulesDocument)).writeOffRules.map((w) => w.id)).toEqual([myRule.id]);
    expect(await refusedRun(mine, theirRule.id)).toEqual([{ code: 'NOT_FOUND', message: 'No write-off rule with that id was found.', field: ['input', 'ruleId'] }]);
    expect(await updateRule(mine, { ruleId: theirRule.id, active: false })).toEqual({
      rule: null,
      userErrors: [{ code: 'NOT_FOUND', message: 'No write-off rule with that id was found.', field: ['input', 'ruleId'] }],
    });
    expect(await updateRule(mine, { ruleId: 'no-such-rule', name: 'x' })).toMatchObject({ userErrors: [{ code: 'NOT_FOUND' }] });
    expect(lineIdsOf((await ran(theirs, theirRule.id)).entries)).toEqual([theirLine]);
  });

  test(`at most ${MAX_ENTRIES_PER_BATCH} lines per run, the oldest dates of service first; running again proposes the rest`, async () => {
    const p = await newPractice();
    const charges: string[][] = [];
    // 110 charges of 20 lines over 11 patients, each charge a day younger than the one before.
    for (let i = 0; i < 11; i++) {
      const pat = await patient(p);
      for (let j = 0; j < 10; j++) {
        const day = new Date(Date.UTC(2026, 0, 1) + (i * 10 + j) * 86_400_000).toISOString().slice(0, 10);
        charges.push((await charge(p, pat, day, Array.from({ length: 20 }, () => ['CUSTOM', 100] as [ResponsibilityKind, number]))).lineIds);
      }
    }
    const r = await rule(p, { maxOpenCents: 100, minDaysSinceService: 0 });
    const first = await ran(p, r.id);
    expect(first.batch.entries.pageInfo.hasNextPage).toBe(true);
    const held = await allEntries(p, first.batch.id);
    expect(held).toHaveLength(MAX_ENTRIES_PER_BATCH);
    expect(new Set(held.map((e) => e.lineId))).toEqual(new Set(charges.slice(0, 100).flat()));
    const rest = await ran(p, r.id);
    expect(new Set((await allEntries(p, rest.batch.id)).map((e) => e.lineId))).toEqual(new Set(charges.slice(100).flat()));
    expect(codes(await refusedRun(p, r.id))).toEqual(['NOTHING_QUALIFIES']);
  }, 180_000);
});

describe('managing rules', () => {
  test('created active with its defaults, listed oldest first, changed field by field, deactivated (refused to run) and reactivated, never deleted', async () => {
    const p = await newPractice();
    const first = await rule(p, { name: '  Old small balances  ', minDaysSinceService: undefined });
    expect(first).toEqual({
      id: expect.any(String),
      name: 'Old small balances',
      reason: 'SMALL_BALANCE',
      customReason: null,
      maxOpenCents: 500,
      minDaysSinceService: 0,
      kinds: null,
      active: true,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      createdBy: p.manager.sub,
      updatedAt: first.createdAt,
      updatedBy: p.manager.sub,
    });
    const admin = await p.as('ADMIN');
    const second = (await createRule(p, { name: 'Hardship', reason: 'OTHER', customReason: 'Hardship programme' }, admin)).rule!;
    expect((await server.ok(await p.as('VIEWER'), WriteOffRulesDocument)).writeOffRules.map((w) => w.id)).toEqual([first.id, second.id]);

    // OTHER → a standard reason drops the custom reason; only the fields sent change.
    const changed = await updateRule(p, { ruleId: second.id, reason: 'FINANCIAL_HARDSHIP', maxOpenCents: 2_500 });
    expect(changed.userErrors).toEqual([]);
    expect(changed.rule).toMatchObject({ name: 'Hardship', reason: 'FINANCIAL_HARDSHIP', customReason: null, maxOpenCents: 2_500, minDaysSinceService: 30, updatedBy: p.manager.sub });

    await line(p, await patient(p), '2026-01-05', 100);
    const off = await updateRule(p, { ruleId: first.id, active: false });
    expect(off.rule).toMatchObject({ id: first.id, active: false });
    expect(await refusedRun(p, first.id)).toEqual([
      { code: 'RULE_INACTIVE', message: 'The rule "Old small balances" is deactivated, so it can\'t be run. Reactivate it first.', field: ['input', 'ruleId'] },
    ]);
    expect((await server.ok(p.manager, WriteOffRulesDocument)).writeOffRules.map((w) => [w.id, w.active])).toEqual([
      [first.id, false],
      [second.id, true],
    ]);
    expect((await updateRule(p, { ruleId: first.id, active: true })).rule!.active).toBe(true);
    expect((await ran(p, first.id)).entries).toHaveLength(1);
  });

  test('refusals: text, amounts, custom reasons, kinds, dates, and the most rules a practice can hold', async () => {
    const p = await newPractice();
    const refused = async (input: Partial<CreateWriteOffRuleInput>) => {
      const result = await createRule(p, input);
      expect(result.rule).toBeNull();
      return result.userErrors.map((e) => [e.code, e.field]);
    };
    expect(await refused({ name: '   ' })).toEqual([['INVALID_TEXT', ['input', 'name']]]);
    expect(await refused({ name: 'x'.repeat(256) })).toEqual([['INVALID_TEXT', ['input', 'name']]]);
    expect(await refused({ name: 'bad\u0007name' })).toEqual([['INVALID_TEXT', ['input', 'name']]]);
    expect(await refused({ maxOpenCents: 0 })).toEqual([['INVALID_AMOUNT', ['input', 'maxOpenCents']]]);
    expect(await refused({ maxOpenCents: -5 })).toEqual([['INVALID_AMOUNT', ['input', 'maxOpenCents']]]);
    expect(await refused({ minDaysSinceService: -1 })).toEqual([['INVALID_AMOUNT', ['input', 'minDaysSinceService']]]);
    expect(await refused({ minDaysSinceService: 36_501 })).toEqual([['INVALID_AMOUNT', ['input', 'minDaysSinceService']]]);
    expect(await refused({ reason: 'OTHER' })).toEqual([['CUSTOM_REASON_REQUIRED', ['input', 'customReason']]]);
    expect(await refused({ reason: 'OTHER', customReason: '  ' })).toEqual([['CUSTOM_REASON_REQUIRED', ['input', 'customReason']]]);
    expect(await refused({ customReason: 'why' })).toEqual([['CUSTOM_REASON_NOT_ALLOWED', ['input', 'customReason']]]);
    const tooManyKinds = [...ResponsibilityKinds, 'COPAY'] as ResponsibilityKind[];
    expect(MAX_RULE_KINDS).toBe(ResponsibilityKinds.length);
    expect(await refused({ kinds: tooManyKinds })).toEqual([['TOO_MANY_ITEMS', ['input', 'kinds']]]);
    // An amount that is no whole number never reaches the service: GraphQL's Int refuses it.
    const fractional = await server.gql(p.manager, CreateWriteOffRuleDocument, { input: { ...RULE, maxOpenCents: 1.5 } });
    expect(fractional.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    const r = await rule(p, { reason: 'OTHER', customReason: 'Threshold' });
    const update = async (input: Omit<UpdateWriteOffRuleInput, 'ruleId'>) => (await updateRule(p, { ruleId: r.id, ...input })).userErrors.map((e) => e.code);
    expect(await update({ customReason: null })).toEqual(['CUSTOM_REASON_REQUIRED']);
    expect(await update({ reason: 'BAD_DEBT', customReason: 'still here' })).toEqual(['CUSTOM_REASON_NOT_ALLOWED']);
    expect(await update({ name: '' })).toEqual(['INVALID_TEXT']);
    expect(await update({ maxOpenCents: 0 })).toEqual(['INVALID_AMOUNT']);
    expect(await update({ kinds: tooManyKinds })).toEqual(['TOO_MANY_ITEMS']);
    // Nothing refused was changed.
    expect((await server.ok(p.manager, WriteOffRulesDocument)).writeOffRules).toEqual([r]);

    expect(codes(await refusedRun(p, r.id, '2026-02-30'))).toEqual(['INVALID_DATE']);
    expect(codes(await refusedRun(p, r.id, 'yesterday'))).toEqual(['INVALID_DATE']);
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    expect(await refusedRun(p, r.id, future)).toEqual([{ code: 'INVALID_DATE', message: "The as-of date can't be in the future.", field: ['input', 'asOf'] }]);
    // Without a date, today: a line served 30 days ago or more qualifies.
    const old = await line(p, await patient(p), new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10), 100);
    const today = await ran(p, r.id, null);
    expect(lineIdsOf(today.entries)).toEqual([old]);
    expect(today.batch.reference).toBe(`Rule "Small balances" as of ${new Date().toISOString().slice(0, 10)}`);

    for (let i = 1; i < MAX_WRITE_OFF_RULES_PER_PRACTICE; i++) await rule(p, { name: `Rule ${i}` });
    expect(await refused({ name: 'One too many' })).toEqual([['TOO_MANY_ITEMS', ['input']]]);
    expect((await server.ok(p.manager, WriteOffRulesDocument)).writeOffRules).toHaveLength(MAX_WRITE_OFF_RULES_PER_PRACTICE);
  }, 60_000);
});

describe('roles', () => {
  test('BILLING_MANAGER and ADMIN manage rules; BILLING and up run them; every role reads them', async () => {
    const p = await newPractice();
    await line(p, await patient(p), '2026-01-05', 100);
    const r = await rule(p, { maxOpenCents: 1_000 });
    const roles: Role[] = ['VIEWER', 'FRONT_DESK', 'BILLING', 'BILLING_MANAGER', 'ADMIN'];
    for (const role of roles) {
      const caller = await p.as(role);
      const manages = role === 'BILLING_MANAGER' || role === 'ADMIN';
      const runs = manages || role === 'BILLING';
      const list = await server.gql(caller, WriteOffRulesDocument);
      expect({ role, errors: list.errors, first: list.data?.writeOffRules[0].id }).toEqual({ role, errors: undefined, first: r.id });

      const created = await server.gql(caller, CreateWriteOffRuleDocument, { input: { ...RULE, name: `By ${role}` } });
      const updated = await server.gql(caller, UpdateWriteOffRuleDocument, { input: { ruleId: r.id, name: `Renamed by ${role}` } });
      const ranBy = await server.gql(caller, RunWriteOffRuleDocument, { input: { ruleId: r.id, asOf: AS_OF } });
      const outcome = (result: { errors?: { extensions?: { code?: string } }[] }) => result.errors?.[0]?.extensions?.code ?? 'OK';
      expect({ role, create: outcome(created), update: outcome(updated), run: outcome(ranBy) }).toEqual({
        role,
        create: manages ? 'OK' : 'FORBIDDEN',
        update: manages ? 'OK' : 'FORBIDDEN',
        run: runs ? 'OK' : 'FORBIDDEN',
      });
      if (manages) expect(created.data!.createWriteOffRule.userErrors).toEqual([]);
      // The first role that may run it gets the batch; the line is then in that draft.
      if (runs) {
        const payload = ranBy.data!.runWriteOffRule;
        if (role === 'BILLING') expect(payload.batch!.createdBy).toEqual({ id: caller.sub, role: 'BILLING' });
        else expect(codes(payload.userErrors)).toEqual(['NOTHING_QUALIFIES']);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// npm run rules, as cron runs it: the built program, against the database a running server uses.

describe('npm run rules', () => {
  const USAGE = 'usage: npm run rules -- --practice <id> [--as-of YYYY-MM-DD]';
  let dist: string;
  let dir: string;
  let postgres: ScratchDatabase | null = null;
  let env: NodeJS.ProcessEnv;
  let child: Running;

  const cli = (...args: string[]) => runToExit(process.execPath, [path.join(dist, 'write-off-rules', 'rules-cli.js'), ...args], { cwd: dir, env });
  async function gql<R, V>(practiceId: string, document: TypedDocumentNode<R, V>, variables: V, role: Role = 'BILLING_MANAGER'): Promise<R> {
    const token = await signToken(TEST_SECRET, { sub: 'cli-test', practiceId, role });
    const response = await fetch(child.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { data?: R; errors?: unknown[] };
    if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  beforeAll(async () => {
    dist = ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-rules-cli-'));
    postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase('ledger_rules_cli') : null;
    env = { PATH: process.env.PATH, NODE_ENV: 'test', DATA_DIR: dir, DATABASE_URL: postgres?.url ?? `sqlite:${path.join(dir, 'ledger.sqlite')}`, AUTH_JWT_SECRET: TEST_SECRET };
    child = await startListening(process.execPath, [path.join(dist, 'main.js')], { cwd: dir, env: { ...env, PORT: '0', HOST: '127.0.0.1', SEED_DEMO: 'false' } });
  }, 180_000);
  afterAll(async () => {
    child?.process.kill('SIGTERM');
    if (child) expect((await child.exited).code).toBe(0);
    await postgres?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('runs every active rule of the practice, prints each batch it made, and leaves DRAFTs made by rules-cli', async () => {
    const practice = `cli-${crypto.randomBytes(4).toString('hex')}`;
    const patientId = (await gql(practice, CreatePatientDocument, { input: { firstName: 'Cli', lastName: 'Patient' } })).createPatient.patient!.id;
    const lines = (
      await gql(practice, CreateChargeDocument, {
        input: { patientId, serviceDate: '2026-09-01', procedureCode: '99213', billedCents: 10_000, responsibilities: [{ kind: 'COPAY', amountCents: 250 }, { kind: 'CUSTOM', amountCents: 900 }] },
      })
    ).createCharge.charge!.responsibilities.map((r) => r.id);
    const create = async (input: CreateWriteOffRuleInput) => (await gql(practice, CreateWriteOffRuleDocument, { input })).createWriteOffRule.rule!;
    const copays = await create({ name: 'Copays', reason: 'SMALL_BALANCE', maxOpenCents: 500, kinds: ['COPAY'] });
    const nothing = await create({ name: 'Tiny', reason: 'SMALL_BALANCE', maxOpenCents: 1 });
    const inactive = await create({ name: 'Everything', reason: 'BAD_DEBT', maxOpenCents: 100_000 });
    await gql(practice, UpdateWriteOffRuleDocument, { input: { ruleId: inactive.id, active: false } });
    // Another practice's rule is not run.
    await gql(`${practice}-other`, CreateWriteOffRuleDocument, { input: { name: 'Other', reason: 'SMALL_BALANCE', maxOpenCents: 100_000 } });

    const result = await cli('--practice', practice, '--as-of', AS_OF);
    expect(result.code).toBe(0);
    const printed = /^Batch (\S+): rule "Copays" \((\S+)\), 1 write-off, total \$2\.50\n$/.exec(result.stdout);
    expect(printed).not.toBeNull();
    const [, batchId, ruleId] = printed!;
    expect(ruleId).toBe(copays.id);
    expect(result.stderr).toBe(
      `Rule "Tiny" (${nothing.id}): no line qualifies as of ${AS_OF}; no batch made.\n` +
        `Ran 2 active rules of practice ${practice} as of ${AS_OF}: 1 DRAFT batch with 1 write-off, $2.50 in all. Preview and post them in the Posting Tool.\n`,
    );

    const made = (await gql(practice, RunWriteOffRuleDocument, { input: { ruleId: copays.id, asOf: AS_OF } })).runWriteOffRule;
    expect(codes(made.userErrors)).toEqual(['NOTHING_QUALIFIES']);
    const batch = (await gql(practice, RuleBatchEntriesDocument, { id: batchId, first: 10 })).postingBatch!;
    expect(batch).toMatchObject({ kind: 'ADJUSTMENT', status: 'DRAFT', reference: `Rule "Copays" as of ${AS_OF}` });
    expect(batch.entries.edges.map((e) => [e.node.responsibility!.id, e.node.amountCents])).toEqual([[lines[0], 250]]);
    expect(batch.createdBy).toEqual({ id: 'rules-cli', role: 'BILLING_MANAGER' });

    // Posted by staff, the line is written off.
    const preview = (await gql(practice, PostingPreviewDocument, { id: batchId }, 'BILLING')).postingBatch!.preview;
    expect(preview.valid).toBe(true);
    expect((await gql(practice, PostingPostDocument, { input: { batchId, previewToken: preview.token } }, 'BILLING')).postPostingBatch.userErrors).toEqual([]);
    expect((await gql(practice, RuleWriteOffNotesDocument, { id: lines[0] })).responsibility!.openCents).toBe(0);

    // Nothing left: no batch, exit 0.
    const again = await cli('--practice', practice, `--as-of=${AS_OF}`);
    expect(again).toMatchObject({ code: 0, stdout: '' });
    expect(again.stderr).toMatch(new RegExp(`Ran 2 active rules of practice ${practice} as of ${AS_OF}: 0 DRAFT batches\\.\\n$`));
  }, 60_000);

  test('a practice without active rules: nothing to run, exit 0', async () => {
    expect(await cli('--practice', 'no-rules-here')).toEqual({ code: 0, signal: null, stdout: '', stderr: 'Practice no-rules-here has no active write-off rules: nothing to run.\n' });
  });

  test('bad arguments: what is wrong, then the usage, exit 2', async () => {
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const refusals: [string[], string][] = [
      [[], '--practice is required: the practice whose rules to run, e.g. --practice demo-practice.'],
      [['--practice'], '--practice needs a value.'],
      [['--practice', 'p', '--as-of', '2026-02-30'], '--as-of 2026-02-30 is not a date: use YYYY-MM-DD, e.g. 2026-03-14.'],
      [['--practice', 'p', '--as-of', future], `--as-of ${future} is in the future: lines would be written off before they are old enough.`],
      [['--practice', 'p', '--asof', '2026-01-01'], 'Unknown option --asof: the options are --practice, --as-of.'],
      [['--practice', 'p', '--practice', 'q'], '--practice is given twice: give it once.'],
      [['--practice', 'p', 'extra'], 'Unexpected argument extra: every value follows its option, e.g. --practice demo-practice.'],
    ];
    for (const [args, message] of refusals) {
      expect({ args, ...(await cli(...args)) }).toEqual({ args, code: 2, signal: null, stdout: '', stderr: `${message}\n${USAGE}\n` });
    }
    expect(await cli('--help')).toEqual({ code: 0, signal: null, stdout: `${USAGE}\n`, stderr: '' });
  });

  test('a database that does not exist: said, exit 1, and not created', async () => {
    const missing = path.join(dir, 'missing.sqlite');
    const result = await runToExit(process.execPath, [path.join(dist, 'write-off-rules', 'rules-cli.js'), '--practice', 'p'], {
      cwd: dir,
      env: { ...env, DATABASE_URL: `sqlite:${missing}` },
    });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`The database ${missing} does not exist: check DATABASE_URL and DATA_DIR, or start the server once (npm start).\n`);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The Automation migration's tables (docs/design.md §9): rules are edited but never deleted; imports are append-only.

describe('the Automation tables', () => {
  let dir: string;
  let postgres: ScratchDatabase | null = null;
  let db: Database;
  const run = (sql: string, params: unknown[] = []) => db.transaction((tx) => tx.query(sql, params));
  const REFUSED = /append-only|never deleted|not allowed/;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-automation-'));
    postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase('ledger_automation') : null;
    db = await Database.connect(postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'sqlite', path: path.join(dir, 'ledger.sqlite') }, { migrate: true, entities: ENTITIES });
  });
  afterAll(async () => {
    await db?.close();
    await postgres?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the entities need no schema change after the migrations', async () => {
    expect(await db.schemaDrift()).toEqual([]);
  });

  test('a write-off rule is updated (deactivated) but never deleted', async () => {
    await run(
      `INSERT INTO write_off_rules (id, practice_id, name, reason, max_open_cents, created_at, created_by, updated_at, updated_by)
       VALUES ('R1', 'p', 'Small', 'SMALL_BALANCE', 500, '2026-01-01T00:00:00.000Z', 'u', '2026-01-01T00:00:00.000Z', 'u')`,
    );
    const [row] = await db.query("SELECT min_days_since_service, kinds, active FROM write_off_rules WHERE id = 'R1'");
    expect([Number(row.min_days_since_service), row.kinds, row.active === true || Number(row.active) === 1]).toEqual([0, null, true]);
    await run("UPDATE write_off_rules SET active = ?, updated_at = '2026-01-02T00:00:00.000Z' WHERE id = 'R1'", [false]);
    await expect(run("DELETE FROM write_off_rules WHERE id = 'R1'")).rejects.toThrow(REFUSED);
    expect(await db.query("SELECT id FROM write_off_rules WHERE id = 'R1'")).toEqual([{ id: 'R1' }]);
  });

  test('an imported payment is append-only, and a payer\'s trace number is imported once per practice', async () => {
    const insert = (id: string, practiceId: string, trace: string) =>
      run(
        `INSERT INTO remittance_imports (id, practice_id, payer_key, trace_number, file_hash, batch_id, imported_at, imported_by)
         VALUES (?, ?, 'payer-1', ?, 'abc', 'B1', '2026-01-01T00:00:00.000Z', 'u')`,
        [id, practiceId, trace],
      );
    await insert('I1', 'p', 'TRN-1');
    await insert('I2', 'other-practice', 'TRN-1');
    await expect(insert('I3', 'p', 'TRN-1')).rejects.toThrow(/unique|UNIQUE|duplicate/);
    for (const column of ['payer_key', 'trace_number', 'file_hash', 'batch_id', 'imported_at', 'imported_by']) {
      await expect(run(`UPDATE remittance_imports SET ${column} = ${column} WHERE id = 'I1'`)).rejects.toThrow(REFUSED);
    }
    await expect(run("DELETE FROM remittance_imports WHERE id = 'I1'")).rejects.toThrow(REFUSED);
    if (postgres) await expect(run('TRUNCATE remittance_imports')).rejects.toThrow(REFUSED);
    expect((await db.query('SELECT id FROM remittance_imports ORDER BY id')).map((r) => r.id)).toEqual(['I1', 'I2']);
  });
});
