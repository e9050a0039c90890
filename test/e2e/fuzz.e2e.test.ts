/**
 * Issue 4, item 6 (docs/operations.md §5): a seeded fuzzer sends over 10,000 generated bad requests over
 * HTTP and WebSocket with bounded concurrency: malformed JSON, wrong types and shapes, extreme and fractional amounts,
 * unknown enums, oversized and control-character strings, deep and wide queries, other practices' ids, forbidden
 * roles, forged tokens, and WebSocket protocol garbage.
 *
 * Expected: zero 5xx responses, zero INTERNAL_SERVER_ERROR codes (and no socket closed as an internal error), no
 * stack, SQL or path in any answer, not one mutation accepted, zero state changes (every row of every ledger table,
 * and every patient's balance and version, before and after), and the server still answers a normal query.
 *
 * Reproduce a run with FUZZ_SEED=<seed> (FUZZ_SCALE=0.2 for a quick one); the counts are printed for the README.
 */
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { CreateChargeDocument, RecordPaymentDocument, RecordRemittanceDocument, SecurityBalanceDocument, WriteOffDocument } from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, TEST_SECRET, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { mulberry32, pick as pickFrom, randomInt } from '../seeded-random';
import { signToken } from '../../src/auth/tokens';

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const HTTP_CASES = Math.round(6_000 * SCALE);
const WS_CASES = Math.round(3_600 * SCALE);
const WS_PROTOCOL_CASES = Math.round(400 * SCALE);
const CONCURRENCY = 16;
/** Ledger tables: every row must be the same after the run (audit_events grows: refusals are audited). */
const LEDGER_TABLES = ['practices', 'patients', 'charges', 'responsibilities', 'payments', 'allocations', 'allocation_reductions', 'refunds', 'write_offs', 'write_off_reversals', 'remittances', 'idempotency_keys'];
/** What an answer must never contain: stack frames, file paths, SQL engine messages. */
const LEAK = /SQLITE_|\bat \S+ \(\S+:\d+:\d+\)|node_modules|\/work\/main|[\w-]+\.[jt]s:\d+|QueryFailedError|TypeORM/;

// ---------------------------------------------------------------------------------------------------------------
// A seeded PRNG: the seed reproduces the run.

const random = mulberry32(SEED);
const int = (min: number, max: number) => randomInt(random, min, max);
const pick = <T>(items: readonly T[]): T => pickFrom(random, items);
const chance = (p: number) => random() < p;
const hex = (bytes: number) => Array.from({ length: bytes }, () => int(0, 255).toString(16).padStart(2, '0')).join('');
const fakeUuid = () => `${hex(4)}-${hex(2)}-4${hex(2).slice(1)}-a${hex(2).slice(1)}-${hex(6)}`;

// ---------------------------------------------------------------------------------------------------------------
// The world: practice A (the target) and practice B (the other practice)

interface Ids {
  patient: string;
  otherPatient: string;
  charge: string;
  lines: string[];
  otherLine: string;
  payment: string;
  writeOff: string;
  remittanceCharge: string;
}

let server: TestServer;
let A: Ids;
let B: Ids;
type Who = 'admin' | 'viewer' | 'frontDesk' | 'billing' | 'other';
let callers: Record<Who, Caller>;

async function world(admin: Caller): Promise<Ids> {
  const patient = await newPatient(server, admin, 'Fuzz', `Target${hex(3)}`);
  const otherPatient = await newPatient(server, admin, 'Fuzz', `Neighbour${hex(3)}`);
  const { chargeId, lineIds } = await newCharge(server, admin, patient, [5000, 3000, 2000, 1500]);
  const other = await newCharge(server, admin, otherPatient, [700]);
  const payment = await server.ok(admin, RecordPaymentDocument, { input: { patientId: patient, amountCents: 1000, method: 'CARD', allocations: [{ responsibilityId: lineIds[0], amountCents: 1000 }] } });
  const writeOff = await server.ok(admin, WriteOffDocument, { input: { responsibilityId: lineIds[1], amountCents: 500, reason: 'SMALL_BALANCE' } });
  const remitted = await newCharge(server, admin, patient, [], 50_000);
  await server.ok(admin, RecordRemittanceDocument, { input: { chargeId: remitted.chargeId, remittanceId: 'ERA-FUZZ-1', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 800 }] } });
  const fresh = await server.ok(admin, CreateChargeDocument, { input: { patientId: patient, serviceDate: '2026-09-01', procedureCode: '99212', billedCents: 60_000, responsibilities: [] } });
  return {
    patient,
    otherPatient,
    charge: chargeId,
    lines: lineIds,
    otherLine: other.lineIds[0],
    payment: payment.recordPayment.payment!.id,
    writeOff: writeOff.writeOff.writeOff!.id,
    remittanceCharge: fresh.createCharge.charge!.id,
  };
}

type IdKind = 'patient' | 'charge' | 'line' | 'payment' | 'writeOff';
function idOf(ids: Ids, kind: IdKind): string {
  return { patient: ids.patient, charge: ids.charge, line: ids.lines[2], payment: ids.payment, writeOff: ids.writeOff }[kind];
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations: a valid base per mutation (for practice A's admin), and the fields the fuzzer corrupts

type FieldType = 'amount' | 'optionalAmount' | 'id' | 'enum' | 'text' | 'optionalText' | 'note' | 'date' | 'dob' | 'mrn' | 'procedure' | 'receivedAt' | 'key' | 'list';
interface FieldSpec {
  path: (string | number)[];
  type: FieldType;
  /** For amounts: a huge but valid Int is refused here (exceeds what is open, refundable, billed…). */
  over?: boolean;
  idKind?: IdKind;
  /** An optional input field: null is a valid value there, never a bad one. */
  optional?: boolean;
  /** For lists: surely invalid replacements. */
  badLists?: () => unknown[];
}
interface MutationSpec {
  name: string;
  inputType: string;
  main: string;
  column: 'post' | 'remittance' | 'refund';
  base(ids: Ids): Record<string, unknown>;
  fields: FieldSpec[];
}

const KEY: FieldSpec = { path: ['idempotencyKey'], type: 'key' };
const MUTATIONS: MutationSpec[] = [
  {
    name: 'createPatient',
    inputType: 'CreatePatientInput',
    main: 'patient',
    column: 'post',
    base: () => ({ firstName: 'Fuzz', lastName: 'Created', dateOfBirth: '1980-04-05', mrn: 'MRN-F' }),
    fields: [
      { path: ['firstName'], type: 'text' },
      { path: ['lastName'], type: 'text' },
      { path: ['dateOfBirth'], type: 'dob' },
      { path: ['mrn'], type: 'mrn' },
    ],
  },
  {
    name: 'createCharge',
    inputType: 'CreateChargeInput',
    main: 'charge',
    column: 'post',
    base: (ids) => ({ patientId: ids.patient, serviceDate: '2026-10-01', procedureCode: '99213', description: 'Visit', billedCents: 10_000, responsibilities: [{ kind: 'COPAY', amountCents: 1000 }] }),
    fields: [
      { path: ['patientId'], type: 'id', idKind: 'patient' },
      { path: ['serviceDate'], type: 'date' },
      { path: ['procedureCode'], type: 'procedure' },
      { path: ['description'], type: 'optionalText' },
      { path: ['billedCents'], type: 'amount' },
      { path: ['responsibilities', 0, 'amountCents'], type: 'amount', over: true },
      { path: ['responsibilities', 0, 'kind'], type: 'enum' },
      { path: ['responsibilities'], type: 'list', badLists: () => [[{ kind: 'COPAY', amountCents: 6000 }, { kind: 'OTHER', amountCents: 6000 }], [null], [{}], 'COPAY'] },
      KEY,
    ],
  },
  {
    name: 'recordRemittance',
    inputType: 'RecordRemittanceInput',
    main: 'charge',
    column: 'remittance',
    base: (ids) => ({ chargeId: ids.remittanceCharge, remittanceId: 'ERA-FUZZ-2', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 1000 }] }),
    fields: [
      { path: ['chargeId'], type: 'id', idKind: 'charge' },
      { path: ['remittanceId'], type: 'text' },
      { path: ['adjustments', 0, 'amountCents'], type: 'amount', over: true },
      { path: ['adjustments'], type: 'list', badLists: () => [[{ groupCode: 'PR', reasonCode: '2' }], [null], 'PR', [{ groupCode: 'PR', reasonCode: '2', amountCents: 40_000 }, { groupCode: 'PR', reasonCode: '1', amountCents: 40_000 }]] },
      KEY,
    ],
  },
  {
    name: 'recordPayment',
    inputType: 'RecordPaymentInput',
    main: 'payment',
    column: 'post',
    base: (ids) => ({ patientId: ids.patient, amountCents: 500, method: 'CASH', allocations: [{ responsibilityId: ids.lines[2], amountCents: 500 }] }),
    fields: [
      { path: ['patientId'], type: 'id', idKind: 'patient' },
      { path: ['amountCents'], type: 'amount' },
      { path: ['method'], type: 'enum' },
      { path: ['purpose'], type: 'enum', optional: true },
      { path: ['allocations', 0, 'responsibilityId'], type: 'id', idKind: 'line' },
      { path: ['allocations', 0, 'amountCents'], type: 'amount', over: true },
      { path: ['receivedAt'], type: 'receivedAt' },
      { path: ['allocations'], type: 'list', badLists: () => [[{ responsibilityId: 'x' }], [null], 'all', [{ responsibilityId: A.lines[2], amountCents: 400 }, { responsibilityId: A.lines[3], amountCents: 400 }]] },
      KEY,
    ],
  },
  {
    name: 'refundPayment',
    inputType: 'RefundPaymentInput',
    main: 'refund',
    column: 'refund',
    base: (ids) => ({ paymentId: ids.payment, amountCents: 100, method: 'EXTERNAL_CHECK', reason: 'Overpaid' }),
    fields: [
      { path: ['paymentId'], type: 'id', idKind: 'payment' },
      { path: ['amountCents'], type: 'optionalAmount', over: true },
      { path: ['method'], type: 'enum' },
      { path: ['reason'], type: 'text' },
      KEY,
    ],
  },
  {
    name: 'writeOff',
    inputType: 'WriteOffInput',
    main: 'writeOff',
    column: 'post',
    base: (ids) => ({ responsibilityId: ids.lines[2], amountCents: 100, reason: 'SMALL_BALANCE' }),
    fields: [
      { path: ['responsibilityId'], type: 'id', idKind: 'line' },
      { path: ['amountCents'], type: 'amount', over: true },
      { path: ['reason'], type: 'enum' },
      { path: ['note'], type: 'note' },
      { path: ['customReason'], type: 'optionalText' },
      KEY,
    ],
  },
  {
    name: 'removeWriteOff',
    inputType: 'RemoveWriteOffInput',
    main: 'writeOff',
    column: 'post',
    base: (ids) => ({ writeOffId: ids.writeOff, amountCents: 50, reason: 'Reinstated' }),
    fields: [
      { path: ['writeOffId'], type: 'id', idKind: 'writeOff' },
      { path: ['amountCents'], type: 'optionalAmount', over: true },
      { path: ['reason'], type: 'text' },
      KEY,
    ],
  },
  {
    name: 'cancelPR',
    inputType: 'CancelPRInput',
    main: 'responsibility',
    column: 'post',
    base: (ids) => ({ responsibilityId: ids.lines[3], reason: 'Entered twice' }),
    fields: [
      { path: ['responsibilityId'], type: 'id', idKind: 'line' },
      { path: ['reason'], type: 'text' },
      KEY,
    ],
  },
];
const mutationText = (m: MutationSpec) => `mutation Fuzz($input: ${m.inputType}!) { ${m.name}(input: $input) { userErrors { code field } ${m.main} { id } } }`;

type Category = 'malformed-json' | 'wrong-types' | 'extreme-amounts' | 'fractional-amounts' | 'unknown-enums' | 'bad-strings' | 'deep-wide' | 'foreign-ids' | 'forbidden-roles' | 'forged-tokens' | 'http-protocol';

const CONTROL = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u001b[31m', '\u007f', '\u0085', '\u009b'];
/** A control character inside the text (at an edge, trimming would remove the whitespace ones: that is allowed). */
const ctl = () => `${pick(['o', 'ok', 'Smith'])}${pick(CONTROL)}${pick(['x', 'Jones'])}`;
const long = (n: number) => pick(['x', 'é', '字', 'a b'])!.repeat(n);

/** Values surely refused at a field of this type, for this category; [] when the category does not apply. */
function badValues(category: Category, field: FieldSpec, other: Ids): unknown[] {
  const required = !field.optional && field.type !== 'optionalAmount' && field.type !== 'optionalText' && field.type !== 'note' && field.type !== 'dob' && field.type !== 'mrn' && field.type !== 'receivedAt' && field.type !== 'key';
  const isString = !['amount', 'optionalAmount', 'list'].includes(field.type);
  switch (category) {
    case 'wrong-types':
      // (An empty list is a valid list: not among these.)
      return [true, false, {}, ...(field.type === 'list' ? [] : [[]]), [1, 2], { $gt: '' }, ...(isString ? [12, 3.5, -1e21] : ['100', '', '1e3', '0x10']), ...(required ? [null] : []), ...(field.badLists ? field.badLists() : [])];
    case 'extreme-amounts':
      if (field.type !== 'amount' && field.type !== 'optionalAmount') return [];
      return [0, -1, -100, -2147483648, 2147483648, 2 ** 40, 9007199254740993, 1e21, 1e300, ...(field.over ? [99_999_999, 2147483647] : [])];
    case 'fractional-amounts':
      if (field.type !== 'amount' && field.type !== 'optionalAmount') return [];
      return [0.5, 10.25, 99.999, -0.01, 1.0000001, 1e-7, 2147483646.5];
    case 'unknown-enums':
      if (field.type !== 'enum') return [];
      return ['BITCOIN', 'cash', 'small_balance', '', 'SMALL_BALANCE ', 'OTHER_', 'null', 'COPAY\u0000', 'ÇASH'];
    case 'bad-strings':
      switch (field.type) {
        case 'text':
          return ['', '   ', '\t\n ', ctl(), long(256), long(int(257, 5000))];
        case 'optionalText':
        case 'mrn':
          return [ctl(), long(field.type === 'mrn' ? 65 : 256), long(int(300, 5000))];
        case 'note':
          return ['a\u0000b', '\u001b[2J', long(1001), long(int(1002, 20_000))];
        case 'key':
          return [ctl(), '   ', long(256)];
        case 'date':
          return ['2026-13-01', '2026-02-30', '20261001', '2026-1-1', 'tomorrow', '1899-12-31', '', ctl(), long(300)];
        case 'dob':
          return ['1990-02-30', '2999-01-01', 'abc', '1990/01/01', '1899-01-01', ctl()];
        case 'receivedAt':
          return ['not-a-date', '2026-13-45T00:00:00Z', '2026-01-01', '2999-01-01T00:00:00Z', '1800-01-01T00:00:00Z', ctl()];
        case 'procedure':
          return ['', '9921 3', '99213;', long(33), ctl(), '<script>'];
        default:
          return [];
      }
    case 'foreign-ids':
      if (field.type !== 'id') return [];
      return [
        idOf(other, field.idKind!),
        fakeUuid(),
        idOf(A, pick((['patient', 'charge', 'line', 'payment', 'writeOff'] as IdKind[]).filter((k) => k !== field.idKind))),
        // A line of another patient of the same practice: refused where the patient is named (payment allocations).
        ...(field.path.includes('allocations') ? [A.otherLine] : []),
        "' OR '1'='1",
        '1; DROP TABLE patients',
        '../../etc/passwd',
        '\ud800',
        long(300),
        '-1',
        0,
        '',
      ];
    default:
      return [];
  }
}

function setPath(target: Record<string, unknown>, path: (string | number)[], value: unknown) {
  let node: Record<string | number, unknown> = target;
  for (const key of path.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = typeof path[path.indexOf(key) + 1] === 'number' ? [{}] : {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1]] = value;
}

interface GraphQLCase {
  category: Category;
  who: Who;
  query: string;
  variables?: unknown;
  operationName?: string;
  /** A mutation: its name and main payload field, to tell an accepted one. */
  mutation?: { name: string; main: string };
  /** A valid base input, bad only because of who sends it (a forbidden role, or another practice's caller). */
  uncorrupted?: boolean;
}

/** A mutation sure to be refused: 1–3 corruptions (the first of `category`), a forbidden role, or foreign ids. */
function badMutation(category: Category): GraphQLCase {
  const spec = pick(category === 'foreign-ids' ? MUTATIONS.filter((m) => m.name !== 'createPatient') : MUTATIONS);
  const input = structuredClone(spec.base(A));
  const mutation = { name: spec.name, main: spec.main };
  if (category === 'forbidden-roles') {
    const who: Who = spec.column === 'post' ? 'viewer' : spec.column === 'remittance' ? pick(['viewer', 'frontDesk'] as Who[]) : pick(['viewer', 'frontDesk', 'billing'] as Who[]);
    return { category, who, query: mutationText(spec), variables: { input }, mutation, uncorrupted: true };
  }
  if (category === 'foreign-ids' && chance(0.3)) {
    // Every id is practice A's; the caller is practice B's admin.
    return { category, who: 'other', query: mutationText(spec), variables: { input }, mutation, uncorrupted: true };
  }
  let variables: unknown = { input };
  if (category === 'wrong-types' && chance(0.25)) {
    // The shape of the input itself.
    variables = pick([
      { input: null },
      {},
      { input: 'x' },
      { input: [input] },
      { input: { ...input, practiceId: B.patient } },
      { input: { ...input, id: fakeUuid(), createdBy: 'someone' } },
      { input: Object.fromEntries(Object.entries(input).slice(1)) },
      { wrong: input },
    ]);
    return { category, who: 'admin', query: mutationText(spec), variables, mutation };
  }
  const applicable = spec.fields.filter((f) => badValues(category, f, B).length > 0);
  if (applicable.length === 0) return badMutation(category);
  const first = pick(applicable);
  setPath(input, first.path, pick(badValues(category, first, B)));
  for (let i = int(0, 2); i > 0; i--) {
    const extra = pick(spec.fields);
    const values = badValues(pick(['wrong-types', 'extreme-amounts', 'unknown-enums', 'bad-strings', 'foreign-ids'] as Category[]), extra, B);
    if (values.length) setPath(input, extra.path, pick(values));
  }
  return { category, who: 'admin', query: mutationText(spec), variables, mutation };
}

/** Reads with bad arguments (reads may answer: they must just not fail or leak). */
function badQuery(category: Category): GraphQLCase {
  const byId = pick([
    ['patient', 'id { id firstName balance { outstandingCents version } }'],
    ['charge', 'id { id openCents }'],
    ['responsibility', 'id { id openCents canWriteOff { allowed code } }'],
    ['payment', 'id { id amountCents canRefund { allowed } }'],
  ] as const);
  const who: Who = pick(['admin', 'viewer', 'other'] as Who[]);
  switch (category) {
    case 'foreign-ids':
      return { category, who: 'admin', query: `query Fuzz($v: ID!) { ${byId[0]}(${byId[1].replace('id {', 'id: $v) {')} }`, variables: { v: pick([idOf(B, pick(['patient', 'charge', 'line', 'payment'] as IdKind[])), fakeUuid(), "' OR 1=1 --", '\ud800', long(1000), '%', '_']) } };
    case 'wrong-types':
      return pick([
        { category, who, query: `query Fuzz($v: ID!) { ${byId[0]}(${byId[1].replace('id {', 'id: $v) {')} }`, variables: { v: pick([true, {}, [], 1.5, null, { $ne: null }]) } },
        { category, who, query: 'query Fuzz($n: Int) { patients(first: $n) { edges { node { id } } } }', variables: { n: pick(['10', true, {}, [], 1.5]) } },
        { category, who, query: 'query Fuzz($s: String) { patients(search: $s) { edges { node { id } } } }', variables: { s: pick([12, true, {}, ['a']]) } },
        { category, who, query: `query Fuzz { ${byId[0]}(id: ${pick(['1.5', 'true', '{a: 1}', '[1]', 'null', 'SMALL_BALANCE'])}) { id } }` },
      ]);
    case 'extreme-amounts':
    case 'fractional-amounts':
      return { category, who, query: 'query Fuzz($n: Int, $a: String) { patients(first: $n, after: $a) { edges { node { id } } pageInfo { endCursor } } }', variables: { n: pick([0, -1, 101, 2 ** 31, 1e21, 0.5, 99.9, -2147483648]), a: pick([null, 'x', Buffer.from('["a"]').toString('base64url'), Buffer.from('[{"$gt":1},"b","c"]').toString('base64url'), Buffer.from('[1e400,"b","c"]').toString('base64url')]) } };
    case 'bad-strings':
      return pick([
        { category, who, query: 'query Fuzz($s: String) { patients(search: $s, first: 5) { edges { node { id } } } }', variables: { s: pick([long(101), long(int(102, 20_000)), ctl(), '%', '_%_', '\\', "' OR 1=1 --", '\ud800\udfff\ud800', '\u202e', '😀'.repeat(60)]) } },
        { category, who, query: 'query Fuzz($a: String, $f: String, $t: String) { auditTrail(after: $a, from: $f, to: $t) { edges { node { id } } } }', variables: { a: pick([null, 'garbage', long(500)]), f: pick(['garbage', '2026-99-99', '', ctl(), '9999999-01-01T00:00:00Z', '-000001-01-01T00:00:00Z']), t: pick([null, 'x', '2026-01-01T00:00:00+99:99']) } },
        { category, who, query: `query Fuzz { patients(search: ${JSON.stringify(long(int(1000, 50_000)))}) { edges { node { id } } } }` },
      ]);
    default:
      return { category, who, query: 'query Fuzz { writeOffReasons { code } }' };
  }
}

/** Deep, wide, costly, repetitive or malformed documents. */
function badDocument(): GraphQLCase {
  const who: Who = pick(['admin', 'viewer']);
  const category: Category = 'deep-wide';
  const depth = int(13, 80);
  const chain = ['charges(first: 1)', 'edges', 'node', 'patient'];
  let deep = '__typename';
  for (let i = depth - 1; i >= 1; i--) deep = `${chain[(i - 1) % 4]} { ${deep} }`;
  const frags = int(16, 60);
  return pick<GraphQLCase>([
    { category, who, query: `query Fuzz($id: ID!) { patient(id: $id) { ${deep} } }`, variables: { id: A.patient } },
    { category, who, query: `query Fuzz { ${Array.from({ length: int(16, 120) }, (_, i) => `a${i}: writeOffReasons { code }`).join(' ')} }` },
    { category, who, query: `query Fuzz { writeOffReasons { ${'code '.repeat(int(11, 4900))}} }` },
    { category, who, query: `query Fuzz { ${'writeOffReasons { code label } '.repeat(int(11, 1200))}}` },
    { category, who, query: `query Fuzz { writeOffReasons { ${'... on WriteOffReasonOption { code } '.repeat(int(11, 600))}} }` },
    { category, who, query: `query Fuzz { writeOffReasons { ...F0 } } ${Array.from({ length: frags }, (_, i) => `fragment F${i} on WriteOffReasonOption { ${i === frags - 1 ? 'code' : `...F${i + 1} ...F${i + 1}`} }`).join(' ')}` },
    { category, who, query: 'query Fuzz { patients { edges { node { ...A } } } } fragment A on Patient { id ...B } fragment B on Patient { id ...A }' },
    { category, who, query: 'query Fuzz { patients(first: 100) { edges { node { charges(first: 100) { edges { node { responsibilities { writeOffs { id } } } } } } } } }' },
    { category, who, query: `query Fuzz { writeOffReasons { code ${'@include(if: true) '.repeat(int(2, 60))}} }` },
    { category, who, query: `query Fuzz { ${'a '.repeat(int(5_001, 12_000))}}` },
    { category, who, query: `query Fuzz { ${'{ '.repeat(int(10, 3000))}}` },
    { category, who, query: pick(['', ' ', '#', 'query', '{', '}', 'subscription Fuzz { practiceBalanceChanged { version } practiceBalanceChanged { version } }', 'query A { writeOffReasons { code } } query A { writeOffReasons { code } }', 'query A { writeOffReasons { code } } query B { writeOffReasons { code } }', 'mutation { __typename }', 'query Fuzz { __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }', 'query Fuzz { nope }', 'query Fuzz($x: Nope) { writeOffReasons { code } }', 'fragment F on Nope { id }']) },
    { category, who, query: `query Fuzz { writeOffReasons { code } } ${'\u0000\u0001'.repeat(int(1, 50))}` },
  ]);
}

function graphqlCase(): GraphQLCase {
  const category = pick<Category>(['wrong-types', 'extreme-amounts', 'fractional-amounts', 'unknown-enums', 'bad-strings', 'deep-wide', 'foreign-ids', 'forbidden-roles']);
  if (category === 'deep-wide') return badDocument();
  if (category !== 'unknown-enums' && category !== 'forbidden-roles' && chance(0.25)) return badQuery(category);
  return badMutation(category);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP-only cases: malformed bodies, forged tokens, protocol misuse

interface HttpCase {
  category: Category;
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  search?: string;
  mutation?: { name: string; main: string };
}

async function forgedToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = { sub: 'forger', practiceId: server.practice, role: 'ADMIN', iat: now, exp: now + 600 };
  const valid = callers.admin.token;
  const [h, p, s] = valid.split('.');
  switch (int(0, 13)) {
    case 0:
      return hex(int(1, 64));
    case 1:
      return `${h}.${b64({ ...claims, role: 'ADMIN', sub: 'escalated' })}.${s}`;
    case 2:
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    case 3:
      return signToken(`wrong-${TEST_SECRET}`, { sub: 'forger', practiceId: server.practice, role: 'ADMIN' });
    case 4:
      return signToken(TEST_SECRET, { sub: 'forger', practiceId: server.practice, role: 'ADMIN' }, { expiresIn: -int(1, 100_000) });
    case 5:
      return signToken(TEST_SECRET, { sub: 'forger', practiceId: server.practice, role: pick(['SUPERUSER', 'admin', '', 'ROOT']) as never });
    case 6:
      return signToken(TEST_SECRET, { sub: 'forger', practiceId: pick(['', 'a b', '../x', 'x'.repeat(65), '\u0000']), role: 'ADMIN' });
    case 7:
      return signToken(TEST_SECRET, { sub: '', practiceId: server.practice, role: 'ADMIN' });
    case 8:
      return `${h}.${p}.${s.slice(0, -2)}${s.slice(-2) === 'AA' ? 'BB' : 'AA'}`;
    case 9:
      return `${valid}${'A'.repeat(int(8200, 20_000))}`;
    case 10:
      return `${h}.${p}`;
    case 11:
      return `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64(claims)}.${s}`;
    case 12:
      return `${b64({ alg: 'RS256', kid: '../../etc/passwd' })}.${b64(claims)}.${s}`;
    default:
      return `${Buffer.from('{"alg":"HS256"').toString('base64url')}.${p}.${s}`;
  }
}

async function httpOnlyCase(): Promise<HttpCase> {
  const json = { 'content-type': 'application/json' };
  const auth = { authorization: `Bearer ${callers.admin.token}` };
  const roll = random();
  if (roll < 0.4) {
    // Malformed JSON and malformed GraphQL-over-HTTP bodies.
    const read = JSON.stringify({ query: 'query Fuzz($id: ID!) { patient(id: $id) { id balance { version } } }', variables: { id: A.patient } });
    const spec = pick(MUTATIONS);
    const mutationBody = JSON.stringify({ query: mutationText(spec), variables: { input: spec.base(A) } });
    const body = pick<() => string | Buffer>([
      () => mutationBody.slice(0, int(0, mutationBody.length - 1)), // truncated: never valid JSON
      () => {
        const bytes = Buffer.from(read);
        for (let i = int(1, 4); i > 0; i--) bytes[int(0, bytes.length - 1)] = int(0, 255);
        return bytes;
      },
      () => Buffer.from(Array.from({ length: int(1, 2000) }, () => int(0, 255))),
      () => pick(['', 'null', '[]', '"query"', '123', 'true', '{}', '{"query":null}', '{"query":123}', '{"query":{}}', '{"query":[]}', '{"query":"{ writeOffReasons { code } }","variables":"x"}', '{"query":"{ writeOffReasons { code } }","variables":[1]}', '{"query":"{ writeOffReasons { code } }","operationName":5}', '{"query":"{ writeOffReasons { code } }","extensions":"x"}', '{"query":"{ writeOffReasons { code } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}', '{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000000000000000000000000000000000000000000000000000000000000000"}}}', '{"__proto__":{"query":"{ writeOffReasons { code } }"}}', '{"query":"{ writeOffReasons { code } }","variables":{"__proto__":{"admin":true}}}']),
      () => `{"query":"query Fuzz($n: Int) { patients(first: $n) { edges { node { id } } } }","variables":{"n":${pick(['1e400', '-1e400', '1e-400', '01', '0x10', 'NaN', 'Infinity'])}}}`,
      () => '['.repeat(int(1000, 100_000)),
      () => `${'{"a":'.repeat(int(1000, 50_000))}1${'}'.repeat(10)}`,
      () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(read)]),
      () => Buffer.concat([Buffer.from(read.slice(0, 20)), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from(read.slice(20))]),
      () => `${read}${read}`,
      () => JSON.stringify({ query: mutationText(spec), variables: JSON.stringify({ input: spec.base(A) }) }).replace(/\\"/g, '"'),
    ])();
    return { category: 'malformed-json', method: 'POST', headers: { ...json, ...auth }, body };
  }
  if (roll < 0.7) {
    // Forged or malformed credentials on a request that would be accepted with a good token.
    const spec = pick(MUTATIONS);
    const token = await forgedToken();
    const header = pick([`Bearer ${token}`, `Bearer ${token}`, `Bearer ${token}`, `Basic ${token}`, `Bearer ${token} ${token}`, `Bearer`, `Bearer    `, token, `Token ${callers.admin.token}`, `Bearer ${callers.admin.token}, Bearer ${token}`]);
    return { category: 'forged-tokens', method: 'POST', headers: { ...json, authorization: header }, body: JSON.stringify({ query: mutationText(spec), variables: { input: spec.base(A) } }), mutation: { name: spec.name, main: spec.main } };
  }
  // Protocol misuse: methods, content types, CSRF, batching, GET mutations, oversized bodies.
  const spec = pick(MUTATIONS);
  const mutationBody = JSON.stringify({ query: mutationText(spec), variables: { input: spec.base(A) } });
  const mutation = { name: spec.name, main: spec.main };
  return pick<HttpCase>([
    { category: 'http-protocol', method: 'POST', headers: { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain; charset=utf-8']), ...auth }, body: mutationBody, mutation },
    { category: 'http-protocol', method: 'POST', headers: { ...json, ...auth }, body: JSON.stringify(Array.from({ length: int(1, 5) }, () => JSON.parse(mutationBody))), mutation },
    { category: 'http-protocol', method: 'GET', headers: { ...auth, ...(chance(0.5) ? { 'apollo-require-preflight': 'true' } : {}) }, search: `?query=${encodeURIComponent(mutationText(spec))}&variables=${encodeURIComponent(JSON.stringify({ input: spec.base(A) }))}`, mutation },
    { category: 'http-protocol', method: pick(['PUT', 'DELETE', 'PATCH']), headers: { ...json, ...auth }, body: mutationBody, mutation },
    { category: 'http-protocol', method: 'POST', headers: { ...json, ...auth }, body: JSON.stringify({ query: mutationText(spec), variables: { input: spec.base(A) }, pad: 'x'.repeat(int(1024 * 1024, 1200 * 1024)) }), mutation },
    { category: 'http-protocol', method: 'POST', headers: { ...json, ...auth, 'content-encoding': pick(['gzip', 'br', 'deflate']) }, body: Buffer.from(Array.from({ length: 64 }, () => int(0, 255))) },
    { category: 'http-protocol', method: 'POST', headers: { 'content-type': 'application/json; charset=latin1', ...auth }, body: mutationBody, mutation },
    { category: 'http-protocol', method: 'GET', headers: { ...auth, 'apollo-require-preflight': 'true' }, search: `?query=${encodeURIComponent('query Fuzz { writeOffReasons { code } }')}&variables=${encodeURIComponent('{bad json')}` },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Tallies

const tally = {
  requests: { http: 0, ws: 0, wsProtocol: 0 },
  byCategory: {} as Record<string, number>,
  httpStatus: {} as Record<string, number>,
  errorCodes: {} as Record<string, number>,
  userErrorCodes: {} as Record<string, number>,
  wsOutcomes: {} as Record<string, number>,
  wsCloseCodes: {} as Record<string, number>,
  /** Mutation attempts the client saw refused (a payload with userErrors, or FORBIDDEN): each must be in the audit trail. */
  refusalsSeen: 0,
};
const problems: string[] = [];
const bump = (bucket: Record<string, number>, key: string | number) => void (bucket[key] = (bucket[key] ?? 0) + 1);
const describe_ = (c: { category: string; query?: string; body?: unknown; variables?: unknown }) =>
  JSON.stringify({ ...c, ...(c.body !== undefined ? { body: Buffer.isBuffer(c.body) ? `bytes:${c.body.toString('base64').slice(0, 200)}` : String(c.body).slice(0, 300) } : {}), headers: undefined }).slice(0, 1200);
const timing: Record<string, { n: number; ms: number }> = {};

/** Looks at one GraphQL answer (either transport). */
function inspect(where: string, text: string, answer: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] } | null, c: { mutation?: { name: string; main: string } }) {
  if (LEAK.test(text)) problems.push(`${where}: the answer leaks internals: ${text.slice(0, 300)}`);
  const fail = (what: string) => problems.push(`${what} — ${where}: ${text.slice(0, 300)}`);
  for (const error of answer?.errors ?? []) {
    const code = String(error.extensions?.code ?? 'NONE');
    bump(tally.errorCodes, code);
    if (code === 'INTERNAL_SERVER_ERROR' || code === 'NONE') fail(code);
    if (c.mutation && code === 'FORBIDDEN') tally.refusalsSeen += 1;
  }
  if (c.mutation && answer?.data) {
    const payload = answer.data[c.mutation.name] as { userErrors?: { code: string }[] } & Record<string, unknown>;
    if (payload) {
      for (const e of payload.userErrors ?? []) bump(tally.userErrorCodes, e.code);
      if ((payload.userErrors ?? []).length > 0) tally.refusalsSeen += 1;
      if ((payload.userErrors ?? []).length === 0 || payload[c.mutation.main]) fail('a bad mutation was ACCEPTED');
    }
  }
}

async function sendHttp(c: HttpCase | GraphQLCase): Promise<void> {
  const t0 = Date.now();
  try {
    await sendHttpTimed(c);
  } finally {
    const key = `http:${c.category}`;
    timing[key] = { n: (timing[key]?.n ?? 0) + 1, ms: (timing[key]?.ms ?? 0) + Date.now() - t0 };
  }
}

async function sendHttpTimed(c: HttpCase | GraphQLCase): Promise<void> {
  tally.requests.http += 1;
  bump(tally.byCategory, `http:${c.category}`);
  const request: HttpCase =
    'method' in c
      ? c
      : {
          category: c.category,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${callers[c.who].token}` },
          body: JSON.stringify({ query: c.query, variables: c.variables, ...(c.operationName ? { operationName: c.operationName } : {}) }),
        };
  let status = 0;
  let text = '';
  try {
    const response = await fetch(`${server.url}${request.search ?? ''}`, { method: request.method, headers: request.headers, body: request.method === 'GET' ? undefined : request.body });
    status = response.status;
    text = await response.text();
  } catch (error) {
    // The server may cut an oversized upload short; that is a refusal, not a failure (but nothing else may happen).
    const cause = String((error as { cause?: { code?: string } }).cause?.code ?? error);
    bump(tally.httpStatus, `connection:${cause}`);
    if (!/EPIPE|ECONNRESET|UND_ERR_SOCKET/.test(cause)) problems.push(`http ${describe_(c)}: ${cause}`);
    return;
  }
  bump(tally.httpStatus, status);
  if (status >= 500) problems.push(`http ${status} for ${describe_(c)}: ${text.slice(0, 300)}`);
  let answer: Parameters<typeof inspect>[2] = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    if (!/^<!DOCTYPE|^$/.test(text.trim()) || status === 200) problems.push(`http ${status}: not JSON: ${text.slice(0, 200)}`);
  }
  inspect(`http ${status} ${describe_(c)}`, text, answer, c);
}

// ---------------------------------------------------------------------------------------------------------------
// WebSocket: authenticated graphql-ws connections for GraphQL-level cases, raw sockets for protocol garbage

class Connection {
  private socket!: WebSocket;
  private waiting = new Map<string, (message: { type: string; payload?: unknown } | { type: 'closed'; code: number }) => void>();
  private next = 0;
  closedWith: number | null = null;
  constructor(private readonly who: Who) {}

  async open(): Promise<void> {
    this.closedWith = null;
    this.socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => this.socket.once('open', resolve).once('error', reject));
    const acked = new Promise<void>((resolve, reject) => {
      this.socket.on('message', (raw) => {
        const message = JSON.parse(String(raw));
        if (message.type === 'connection_ack') return resolve();
        if (message.type === 'ping') return this.socket.send(JSON.stringify({ type: 'pong' }));
        this.waiting.get(message.id)?.(message);
      });
      this.socket.once('close', (code) => {
        this.closedWith = code;
        reject(new Error(`closed ${code} before ack`));
        for (const settle of this.waiting.values()) settle({ type: 'closed', code });
      });
    });
    this.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${callers[this.who].token}` } }));
    await acked;
  }

  /** Sends one operation; resolves with every message for it until it ends (complete, error or close). */
  run(payload: unknown): Promise<{ messages: { type: string; payload?: unknown }[]; closed?: number }> {
    const id = `f${++this.next}`;
    const messages: { type: string; payload?: unknown }[] = [];
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        problems.push(`ws: no end within 15 s for ${JSON.stringify(payload).slice(0, 200)}`);
        this.socket.send(JSON.stringify({ id, type: 'complete' }));
        resolve({ messages });
      }, 15_000);
      this.waiting.set(id, (message) => {
        if (message.type === 'closed') {
          clearTimeout(timer);
          this.waiting.delete(id);
          return resolve({ messages, closed: (message as { code: number }).code });
        }
        messages.push(message);
        if (message.type === 'next' && messages.length === 1 && (message.payload as { data?: unknown })?.data && !(message.payload as { errors?: unknown }).errors) {
          // A live subscription that started: stop it (reads may answer; this is not a failure by itself).
          const isLive = JSON.stringify(payload).includes('subscription');
          if (isLive) this.socket.send(JSON.stringify({ id, type: 'complete' }));
          if (isLive) {
            clearTimeout(timer);
            this.waiting.delete(id);
            return resolve({ messages });
          }
        }
        if (message.type === 'complete' || message.type === 'error') {
          clearTimeout(timer);
          this.waiting.delete(id);
          resolve({ messages });
        }
      });
      this.socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
    });
  }

  close() {
    this.socket?.terminate();
  }
}

async function sendWs(connection: Connection, c: GraphQLCase): Promise<void> {
  tally.requests.ws += 1;
  bump(tally.byCategory, `ws:${c.category}`);
  if (connection.closedWith !== null) await connection.open();
  const payload = { query: c.query, variables: c.variables ?? {}, ...(c.operationName ? { operationName: c.operationName } : {}) };
  const { messages, closed } = await connection.run(payload);
  if (closed !== undefined) {
    bump(tally.wsCloseCodes, closed);
    bump(tally.wsOutcomes, `closed:${closed}`);
    if (closed === 1011 || closed === 4500 || closed === 1006) problems.push(`ws closed ${closed} for ${describe_(c)}`);
    return;
  }
  for (const message of messages) {
    const text = JSON.stringify(message.payload ?? null);
    bump(tally.wsOutcomes, message.type === 'next' && (message.payload as { errors?: unknown }).errors ? 'next+errors' : message.type);
    if (message.type === 'error') inspect(`ws ${describe_(c)}`, text, { errors: message.payload as { extensions?: { code?: string } }[] }, c);
    if (message.type === 'next') inspect(`ws ${describe_(c)}`, text, message.payload as never, c);
  }
}

/** A fresh raw socket fed garbage: how does it end? */
async function wsProtocolCase(): Promise<void> {
  tally.requests.wsProtocol += 1;
  bump(tally.byCategory, 'ws:protocol');
  const good = callers.admin.token;
  const init = (token: string | unknown) => JSON.stringify({ type: 'connection_init', payload: typeof token === 'string' ? { authorization: `Bearer ${token}` } : token });
  const spec = pick(MUTATIONS);
  const subscribe = (id: string) => JSON.stringify({ id, type: 'subscribe', payload: { query: mutationText(spec), variables: { input: spec.base(A) } } });
  const scenario = pick<[string, (string | Buffer)[], string | undefined]>([
    ['garbage before init', [pick(['hello', '{', '[]', 'null', '{"type":"bogus"}', '{"type":5}', '{}', JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${good}` } }).slice(0, 30)])], 'graphql-transport-ws'],
    ['binary frame', [Buffer.from(Array.from({ length: int(1, 512) }, () => int(0, 255)))], 'graphql-transport-ws'],
    ['subscribe before init', [subscribe('s1')], 'graphql-transport-ws'],
    ['forged token', [init(await forgedToken())], 'graphql-transport-ws'],
    ['init without a token', [init(pick([{}, null, 'x', { authorization: 5 }, { Authorization: 'Basic x' }]))], 'graphql-transport-ws'],
    ['second init', [init(good), init(good)], 'graphql-transport-ws'],
    ['duplicate id', [init(good), JSON.stringify({ id: 'd', type: 'subscribe', payload: { query: 'subscription S($p: ID!) { patientBalanceChanged(patientId: $p) { version } }', variables: { p: A.patient } } }), JSON.stringify({ id: 'd', type: 'subscribe', payload: { query: 'subscription S($p: ID!) { patientBalanceChanged(patientId: $p) { version } }', variables: { p: A.patient } } })], 'graphql-transport-ws'],
    ['bad subscribe payload', [init(good), JSON.stringify({ id: 'b', type: 'subscribe', payload: pick([{ query: 5 }, { query: null }, 'x', null, { variables: {} }, { query: '{ writeOffReasons { code } }', variables: 'x' }]) })], 'graphql-transport-ws'],
    ['subscribe without id', [init(good), JSON.stringify({ type: 'subscribe', payload: { query: '{ writeOffReasons { code } }' } })], 'graphql-transport-ws'],
    ['oversized frame', [init(good), JSON.stringify({ id: 'o', type: 'subscribe', payload: { query: `query Fuzz { patients(search: "${'x'.repeat(70_000)}") { edges { cursor } } }` } })], 'graphql-transport-ws'],
    ['wrong subprotocol', [init(good)], pick(['graphql-ws', 'bogus', undefined])],
    ['forbidden mutation over a viewer socket', [init(callers.viewer.token), subscribe('v1')], 'graphql-transport-ws'],
  ]);
  const [name, frames, protocol] = scenario;
  const socket = new WebSocket(server.url.replace(/^http/, 'ws'), protocol ? [protocol] : []);
  const received: { type: string; payload?: unknown }[] = [];
  let closeCode: number | null = null;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', (code) => {
      closeCode = code;
      resolve();
    }),
  );
  socket.on('error', () => undefined);
  socket.on('message', (raw) => {
    try {
      received.push(JSON.parse(String(raw)));
    } catch {
      problems.push(`ws protocol ${name}: a frame that is not JSON`);
    }
  });
  await Promise.race([new Promise((resolve) => socket.once('open', resolve)), closed]);
  if (socket.readyState === WebSocket.OPEN) {
    for (const frame of frames) {
      socket.send(frame);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  // Most scenarios end with a close; the others are given a moment, then closed by us.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 400))]);
  if (closeCode === null) {
    socket.close(1000);
    await closed;
    bump(tally.wsOutcomes, `protocol:${name}:open`);
  } else {
    bump(tally.wsCloseCodes, closeCode);
    bump(tally.wsOutcomes, `protocol:${name}:closed:${closeCode}`);
    if (closeCode === 1011 || closeCode === 4500) problems.push(`ws protocol ${name}: closed ${closeCode}`);
  }
  for (const message of received) {
    const text = JSON.stringify(message.payload ?? null);
    if (message.type === 'error' || message.type === 'next') inspect(`ws protocol ${name}`, text, message.type === 'error' ? { errors: message.payload as never } : (message.payload as never), { mutation: { name: spec.name, main: spec.main } });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// State: every ledger row, every balance

async function snapshot(): Promise<unknown> {
  const db = server.instances[0].services.db;
  const tables: Record<string, { count: number; rows: string[] }> = {};
  for (const table of LEDGER_TABLES) {
    const rows = (await db.query<Record<string, unknown>>(`SELECT * FROM ${table}`)).map((row) => JSON.stringify(row)).sort();
    tables[table] = { count: rows.length, rows };
  }
  const balances: Record<string, unknown> = {};
  for (const practice of [callers.admin.practiceId, callers.other.practiceId]) {
    const ids = (await db.query<{ id: string }>('SELECT id FROM patients WHERE practice_id = ?', [practice])).map((r) => r.id);
    for (const b of await server.instances[0].services.reader.balances(practice, ids)) balances[b.patientId] = b;
  }
  return { tables, balances };
}

/** A GraphQL case this caller can send and still be sure it is refused (or, for reads, harmless). */
function caseFor(who: Who): GraphQLCase {
  for (;;) {
    const c = graphqlCase();
    // A valid practice-wide subscription is not a bad request (over HTTP it is: subscriptions are refused there).
    if (c.query.includes('practiceBalanceChanged')) continue;
    if (!c.mutation) return { ...c, who };
    if (!c.uncorrupted) {
      // Bad by its values. Practice B's admin must not get corrupted-id cases: B's own ids would be valid for it.
      if (who !== 'other' || c.category !== 'foreign-ids') return { ...c, who };
      continue;
    }
    // A valid base: bad only for a caller who may not do it, or who is in another practice.
    const name = c.mutation.name;
    const refused =
      who === 'viewer' ||
      (who === 'other' && name !== 'createPatient') ||
      (who === 'frontDesk' && (name === 'refundPayment' || name === 'recordRemittance')) ||
      (who === 'billing' && name === 'refundPayment');
    if (refused) return { ...c, who };
  }
}

async function pool<T>(items: number, concurrency: number, work: (index: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items) await work(next++);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  // Refusals and reads write audit rows: on this machine's disk a durable commit costs ~40 ms, which would make the run
  // minutes long. The fuzzer checks input handling and that nothing changes, not durability, so SQLite runs in memory
  // here (the PostgreSQL configuration keeps its database).
  server = await startTestServer({ env: { ...NO_CALLER_LIMITS, ...(process.env.TEST_DB === 'postgres' ? {} : { DATABASE_URL: 'sqlite::memory:' }) } });
  const other = `fuzz-other-${crypto.randomBytes(3).toString('hex')}`;
  callers = {
    admin: await server.caller('ADMIN', server.practice, 'fuzz-admin'),
    viewer: await server.caller('VIEWER', server.practice, 'fuzz-viewer'),
    frontDesk: await server.caller('FRONT_DESK', server.practice, 'fuzz-desk'),
    billing: await server.caller('BILLING', server.practice, 'fuzz-billing'),
    other: await server.caller('ADMIN', other, 'fuzz-other'),
  };
  A = await world(callers.admin);
  B = await world(callers.other);
});
afterAll(() => server.stop());

test(`at least 10,000 generated bad requests over HTTP and WebSocket (seed ${SEED}): no 5xx, no INTERNAL_SERVER_ERROR, no leak, no change`, async () => {
  const before = await snapshot();
  const [{ refusedBefore }] = await server.instances[0].services.db.query<{ refusedBefore: number }>('SELECT COUNT(*) AS "refusedBefore" FROM audit_events WHERE outcome = ?', ['REFUSED']);
  const started = Date.now();

  // HTTP: GraphQL-level cases (60%) and HTTP-only cases (40%), 16 at a time.
  await pool(HTTP_CASES, CONCURRENCY, async () => {
    const c = chance(0.6) ? graphqlCase() : await httpOnlyCase();
    await sendHttp(c);
  });
  const httpDone = Date.now();

  // WebSocket: 16 long-lived authenticated connections (as A's admin, A's viewer, B's admin…), then protocol garbage.
  const whoOf: Who[] = ['admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'viewer', 'viewer', 'frontDesk', 'billing', 'other', 'other', 'admin', 'viewer', 'other', 'admin'];
  const connections = whoOf.map((who) => new Connection(who));
  await Promise.all(connections.map((c) => c.open()));
  let nextCase = 0;
  await Promise.all(
    connections.map(async (connection, worker) => {
      while (nextCase < WS_CASES) {
        nextCase += 1;
        let c = caseFor(whoOf[worker]);
        if (Buffer.byteLength(JSON.stringify(c)) > 60_000) c = { ...badDocument(), who: whoOf[worker] };
        await sendWs(connection, c);
      }
    }),
  );
  connections.forEach((c) => c.close());
  await pool(WS_PROTOCOL_CASES, CONCURRENCY, () => wsProtocolCase());
  const finished = Date.now();

  const after = await snapshot();
  const [{ refusedAfter }] = await server.instances[0].services.db.query<{ refusedAfter: number }>('SELECT COUNT(*) AS "refusedAfter" FROM audit_events WHERE outcome = ?', ['REFUSED']);
  const total = tally.requests.http + tally.requests.ws + tally.requests.wsProtocol;
  console.log(
    [
      `fuzz seed ${SEED}: ${total} bad requests (HTTP ${tally.requests.http}, WebSocket operations ${tally.requests.ws}, WebSocket protocol ${tally.requests.wsProtocol}) in ${((finished - started) / 1000).toFixed(1)} s (HTTP ${((httpDone - started) / 1000).toFixed(1)} s), concurrency ${CONCURRENCY}`,
      `requests per category: ${JSON.stringify(Object.fromEntries(Object.entries(tally.byCategory).sort()))}`,
      `HTTP status histogram: ${JSON.stringify(tally.httpStatus)}`,
      `GraphQL error codes: ${JSON.stringify(tally.errorCodes)}`,
      `userError codes: ${JSON.stringify(tally.userErrorCodes)}`,
      `WebSocket outcomes: ${JSON.stringify(tally.wsOutcomes)}`,
      `WebSocket close codes: ${JSON.stringify(tally.wsCloseCodes)}`,
      `refused mutation attempts seen by the client: ${tally.refusalsSeen}; refusals written to the audit trail during the run: ${Number(refusedAfter) - Number(refusedBefore)}`,
      `mean ms per request: ${JSON.stringify(Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, Math.round(v.ms / v.n)])))}`,
      `problems: ${problems.length}`,
      ...[...new Set(problems.map((p) => p.slice(0, 400)))].slice(0, 40),
    ].join('\n'),
  );

  expect(total).toBeGreaterThanOrEqual(10_000);
  expect(problems.slice(0, 20)).toEqual([]);
  expect(Object.keys(tally.httpStatus).filter((s) => Number(s) >= 500)).toEqual([]);
  expect(tally.errorCodes.INTERNAL_SERVER_ERROR ?? 0).toBe(0);
  // The fuzz reached the business rules, and every refusal a client saw is in the audit trail. (The exact mix depends
  // on how the concurrent workers interleave, hence a floor rather than a figure.)
  expect(tally.refusalsSeen).toBeGreaterThan(500);
  expect(Number(refusedAfter) - Number(refusedBefore)).toBeGreaterThanOrEqual(tally.refusalsSeen);
  expect(after).toEqual(before);

  // Still healthy: a normal query and a normal mutation (on a throwaway line) answer.
  const balance = await server.ok(callers.admin, SecurityBalanceDocument, { id: A.patient });
  expect(balance.patient?.id).toBe(A.patient);
  const ping = await fetch(server.url.replace('/graphql', '/healthz'));
  expect(ping.status).toBe(200);
  const patient = await newPatient(server, callers.admin);
  expect((await server.ok(callers.admin, SecurityBalanceDocument, { id: patient })).patient?.balance.version).toBe(0);

  // The base inputs were valid: sent as they are by practice A's admin, every one is accepted. So each refusal above
  // came from the corruption, the role or the practice, not from a broken base.
  for (const spec of MUTATIONS) {
    const answer = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${callers.admin.token}` },
      body: JSON.stringify({ query: mutationText(spec), variables: { input: spec.base(A) } }),
    }).then((r) => r.json() as Promise<{ data: Record<string, { userErrors: unknown[] } & Record<string, unknown>> }>);
    expect({ mutation: spec.name, userErrors: answer.data[spec.name].userErrors }).toEqual({ mutation: spec.name, userErrors: [] });
    expect(answer.data[spec.name][spec.main]).toBeTruthy();
  }
}, 180_000);
