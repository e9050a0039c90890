import { InvalidX12, X12Segment, component, element, tokenizeX12 } from './x12';
import { addCents, calendarDate, cents, invalid, optionalCents, quantity, requiredDate } from './values';

export { InvalidX12 } from './x12';

/** The caller refuses a larger file before parsing (docs/era.md §1). */
export const MAX_ERA_BYTES = 5 * 1024 * 1024;

export interface EraAdjustment {
  groupCode: string;
  reasonCode: string;
  amountCents: number;
  quantity: string | null;
  segment: number;
}

export interface EraServiceLine {
  segment: number;
  /** SVC01-2, the code the payer adjudicated. */
  procedureCode: string;
  /** SVC06-2, present when the payer changed the code: it is the code the practice submitted (docs/era.md §3). */
  adjudicatedCode: string | null;
  chargeCents: number;
  paidCents: number;
  /** REF*6R, the line item control number the practice sent. */
  lineControlNumber: string | null;
  /** DTM*472, else the start of DTM*150/151; YYYY-MM-DD. */
  serviceDate: string | null;
  adjustments: EraAdjustment[];
  /** SVC02 − Σ CAS = SVC03. */
  balanced: boolean;
}

export interface EraClaim {
  /** The CLP segment. */
  segment: number;
  claimNumber: string;
  statusCode: string;
  chargeCents: number;
  paidCents: number;
  /** CLP05; null when the payer left it out. */
  patientResponsibilityCents: number | null;
  payerClaimNumber: string | null;
  /** DTM*232, the start of the statement period. */
  statementDate: string | null;
  /** Claim-level CAS. */
  adjustments: EraAdjustment[];
  serviceLines: EraServiceLine[];
  /** CLP03 − Σ every CAS (claim and service level) = CLP04, and every service line balanced. */
  balanced: boolean;
  /** Σ PR triplets (claim and service level) = CLP05, when CLP05 is given. */
  prBalanced: boolean;
}

export interface EraProviderAdjustment {
  reasonCode: string;
  referenceId: string | null;
  amountCents: number;
  segment: number;
}

export interface EraPayment {
  /** The BPR segment. */
  segment: number;
  /** BPR02, negative when BPR03 says the payment is a debit to the provider (docs/era.md §2). */
  paymentCents: number;
  /** BPR16; null when missing or not a date. */
  depositDate: string | null;
  traceNumber: string;
  payerName: string | null;
  /** TRN03, else the N1*PR identifier. */
  payerId: string | null;
  providerAdjustments: EraProviderAdjustment[];
  claims: EraClaim[];
  /** Σ CLP04 − Σ PLB amounts = BPR02. */
  balanced: boolean;
}

export interface Era835 {
  payments: EraPayment[];
}

const VERSIONS = ['005010X221A1', '005010X221'];
const GROUP_CODES = ['CO', 'OA', 'PI', 'PR'];
/** CLP02 in 005010: processed as primary/secondary/tertiary (1–3, 19–21), denied, reversal, not ours, predetermination. */
const CLAIM_STATUS_CODES = ['1', '2', '3', '4', '19', '20', '21', '22', '23', '25'];
const CAS_TRIPLETS = 6;
const PLB_PAIRS = 6;
const ENVELOPE = ['ISA', 'GS', 'ST', 'SE', 'GE', 'IEA'];

/** Reads every interchange, functional group and 835 transaction of the file; throws InvalidX12 (docs/era.md). */
export function parse835(content: string): Era835 {
  const cursor = new Cursor(tokenizeX12(content));
  const payments: EraPayment[] = [];
  while (!cursor.done) readInterchange(cursor, payments);
  return { payments };
}

class Cursor {
  private index = 0;
  constructor(private readonly segments: X12Segment[]) {}

  get done(): boolean {
    return this.index >= this.segments.length;
  }

  /** The tokenizer ends every interchange with IEA, so the envelope readers never run past the end. */
  next(): X12Segment {
    return this.segments[this.index++];
  }
}

function readInterchange(cursor: Cursor, payments: EraPayment[]): void {
  const isa = cursor.next();
  const control = element(isa, 13);
  let groups = 0;
  for (;;) {
    const segment = cursor.next();
    if (segment.id === 'GS') {
      readGroup(cursor, segment, payments);
      groups++;
    } else if (segment.id === 'IEA') {
      checkCount(segment, element(segment, 1), groups, 'IEA01', 'functional groups (GS … GE)', isa);
      checkControl(segment, element(segment, 2), control, 'IEA02', 'ISA13', isa);
      return;
    } else {
      throw invalid(segment, `expected GS (a functional group) or IEA (end of the interchange started at segment ${isa.position}), found ${segment.id}.`);
    }
  }
}

function readGroup(cursor: Cursor, gs: X12Segment, payments: EraPayment[]): void {
  if (element(gs, 1) !== 'HP') {
    throw invalid(gs, `GS01 is '${element(gs, 1)}', not HP: this functional group does not hold health care claim payments (835).`);
  }
  const version = element(gs, 8);
  if (!VERSIONS.includes(version)) {
    throw invalid(gs, `GS08 says version '${version}'; only 835 files of version 005010X221A1 (or 005010X221) can be read. Ask the payer or clearinghouse for a 5010 ERA.`);
  }
  let transactions = 0;
  for (;;) {
    const segment = cursor.next();
    if (segment.id === 'ST') {
      payments.push(readTransaction(cursor, segment));
      transactions++;
    } else if (segment.id === 'GE') {
      checkCount(segment, element(segment, 1), transactions, 'GE01', 'transaction sets (ST … SE)', gs);
      checkControl(segment, element(segment, 2), element(gs, 6), 'GE02', 'GS06', gs);
      return;
    } else {
      throw invalid(segment, `expected ST (a transaction set) or GE (end of the functional group started at segment ${gs.position}), found ${segment.id}.`);
    }
  }
}

function readTransaction(cursor: Cursor, st: X12Segment): EraPayment {
  if (element(st, 1) !== '835') {
    throw invalid(st, `ST01 says transaction set '${element(st, 1)}'; only 835 (health care claim payment/advice) can be imported.`);
  }
  const reader = new TransactionReader(st);
  for (;;) {
    const segment = cursor.next();
    if (segment.id === 'SE') {
      checkCount(segment, element(segment, 1), segment.position - st.position + 1, 'SE01', 'segments (ST through SE)', st);
      checkControl(segment, element(segment, 2), element(st, 2), 'SE02', 'ST02', st);
      return reader.finish(segment);
    }
    if (ENVELOPE.includes(segment.id)) {
      throw invalid(segment, `the transaction set started at segment ${st.position} (ST) is not closed by SE before this ${segment.id}.`);
    }
    reader.read(segment);
  }
}

function checkCount(trailer: X12Segment, text: string, actual: number, name: string, what: string, header: X12Segment): void {
  if (!/^\d{1,10}$/.test(text) || Number(text) !== actual) {
    throw invalid(
      trailer,
      `${name} says there are '${text}' ${what} since segment ${header.position} (${header.id}), but there are ${actual}. ` +
        'The file was altered or cut short; ask the sender for a fresh copy.',
    );
  }
}

function checkControl(trailer: X12Segment, text: string, expected: string, name: string, headerName: string, header: X12Segment): void {
  if (text !== expected) {
    throw invalid(trailer, `${name} '${text}' does not match ${headerName} '${expected}' at segment ${header.position}; the envelope is mixed up.`);
  }
}

type Loop = 'header' | 'party' | 'lx' | 'claim' | 'service' | 'plb';

/** The segments each loop may hold besides those that open a new loop (docs/era.md §2). */
const LOOP_SEGMENTS: Record<Loop, string[]> = {
  header: ['CUR', 'REF', 'DTM'],
  party: ['N3', 'N4', 'REF', 'PER', 'RDM'],
  lx: ['TS3', 'TS2'],
  claim: ['CAS', 'NM1', 'MIA', 'MOA', 'REF', 'DTM', 'PER', 'AMT', 'QTY'],
  service: ['DTM', 'CAS', 'REF', 'AMT', 'QTY', 'LQ'],
  plb: [],
};

/** Which loop-opening segments may follow each loop. */
const NEXT_LOOPS: Record<Loop, string[]> = {
  header: ['N1', 'LX', 'CLP', 'PLB'],
  party: ['N1', 'LX', 'CLP', 'PLB'],
  lx: ['LX', 'CLP', 'PLB'],
  claim: ['LX', 'CLP', 'SVC', 'PLB'],
  service: ['LX', 'CLP', 'SVC', 'PLB'],
  plb: ['PLB'],
};

interface ClaimDraft {
  clp: X12Segment;
  claim: EraClaim;
  seen: Set<string>;
}

interface LineDraft {
  svc: X12Segment;
  line: EraServiceLine;
  seen: Set<string>;
  periodStart: string | null;
  serviceDate: string | null;
}

/** The loop state machine of one ST … SE: header → 1000A/B → 2000 → 2100 → 2110 → PLB. */
class TransactionReader {
  /** 'start' until BPR is read, 'bpr' until TRN is. */
  private loop: Loop | 'start' | 'bpr' = 'start';
  private payment: EraPayment | null = null;
  private payerSegment: X12Segment | null = null;
  private payerIdFromName: string | null = null;
  private claim: ClaimDraft | null = null;
  private line: LineDraft | null = null;

  constructor(private readonly st: X12Segment) {}

  read(segment: X12Segment): void {
    if (this.loop === 'start') {
      if (segment.id !== 'BPR') {
        throw invalid(segment, `the transaction set at segment ${this.st.position} has no BPR: the segment after ST must be BPR (the payment), found ${segment.id}.`);
      }
      this.readBpr(segment);
      this.loop = 'bpr';
      return;
    }
    if (this.loop === 'bpr') {
      if (segment.id !== 'TRN') {
        throw invalid(segment, `the payment has no TRN: the segment after BPR must be TRN (the check or EFT trace number), found ${segment.id}.`);
      }
      this.readTrn(segment);
      this.loop = 'header';
      return;
    }
    if (NEXT_LOOPS[this.loop].includes(segment.id)) {
      this.open(segment);
    } else if (LOOP_SEGMENTS[this.loop].includes(segment.id)) {
      this.readInLoop(segment);
    } else {
      throw this.outOfPlace(segment);
    }
  }

  finish(se: X12Segment): EraPayment {
    if (this.loop === 'start') throw invalid(se, `the transaction set at segment ${this.st.position} has no BPR (payment) segment.`);
    if (this.loop === 'bpr') throw invalid(se, 'the payment has no TRN (trace number) segment after BPR.');
    this.closeClaim();
    const payment = this.payment as EraPayment;
    payment.payerId ??= this.payerIdFromName;
    let total = 0;
    for (const claim of payment.claims) total = addCents(total, claim.paidCents, se);
    for (const adjustment of payment.providerAdjustments) total = addCents(total, -adjustment.amountCents, se);
    payment.balanced = total === payment.paymentCents;
    return payment;
  }

  private open(segment: X12Segment): void {
    switch (segment.id) {
      case 'N1':
        this.readN1(segment);
        this.loop = 'party';
        return;
      case 'LX':
        this.closeClaim();
        this.loop = 'lx';
        return;
      case 'CLP':
        this.closeClaim();
        this.claim = { clp: segment, claim: readClp(segment), seen: new Set() };
        this.loop = 'claim';
        return;
      case 'SVC':
        this.closeLine();
        this.line = { svc: segment, line: readSvc(segment), seen: new Set(), periodStart: null, serviceDate: null };
        this.loop = 'service';
        return;
      case 'PLB':
        this.closeClaim();
        this.readPlb(segment);
        this.loop = 'plb';
        return;
    }
  }

  private readInLoop(segment: X12Segment): void {
    if (this.loop === 'claim') this.readInClaim(segment);
    else if (this.loop === 'service') this.readInLine(segment);
  }

  private readInClaim(segment: X12Segment): void {
    const draft = this.claim as ClaimDraft;
    if (segment.id === 'CAS') {
      draft.claim.adjustments.push(...readCas(segment));
    } else if (segment.id === 'DTM' && element(segment, 1) === '232') {
      onlyOnce(draft.seen, segment, 'DTM*232', 'claim');
      draft.claim.statementDate = requiredDate(segment, element(segment, 2), 'DTM02 (statement period start)');
    }
  }

  private readInLine(segment: X12Segment): void {
    const draft = this.line as LineDraft;
    if (segment.id === 'CAS') {
      draft.line.adjustments.push(...readCas(segment));
    } else if (segment.id === 'DTM' && ['472', '150', '151'].includes(element(segment, 1))) {
      const qualifier = element(segment, 1);
      onlyOnce(draft.seen, segment, `DTM*${qualifier}`, 'service line');
      const date = requiredDate(segment, element(segment, 2), `DTM02 (DTM*${qualifier} date)`);
      if (qualifier === '472') draft.serviceDate = date;
      if (qualifier === '150') draft.periodStart = date;
    } else if (segment.id === 'REF' && element(segment, 1) === '6R') {
      onlyOnce(draft.seen, segment, 'REF*6R', 'service line');
      const value = element(segment, 2);
      if (value === '') throw invalid(segment, 'REF02 (line item control number) is missing.');
      draft.line.lineControlNumber = value;
    }
  }

  private readBpr(segment: X12Segment): void {
    const amount = cents(segment, element(segment, 2), 'BPR02 (total actual provider payment)');
    const direction = element(segment, 3);
    if (direction !== 'C' && direction !== 'D') {
      throw invalid(segment, `BPR03 must be C (credit to the provider) or D (debit); found '${direction}'.`);
    }
    this.payment = {
      segment: segment.position,
      paymentCents: direction === 'D' ? -amount || 0 : amount,
      depositDate: calendarDate(element(segment, 16)),
      traceNumber: '',
      payerName: null,
      payerId: null,
      providerAdjustments: [],
      claims: [],
      balanced: false,
    };
  }

  private readTrn(segment: X12Segment): void {
    const payment = this.payment as EraPayment;
    const trace = element(segment, 2);
    if (trace === '') throw invalid(segment, 'TRN02 (check or EFT trace number) is missing.');
    payment.traceNumber = trace;
    payment.payerId = element(segment, 3) || null;
  }

  private readN1(segment: X12Segment): void {
    if (element(segment, 1) !== 'PR') return;
    if (this.payerSegment) {
      throw invalid(segment, `a second payer (N1*PR) in one payment; the first is at segment ${this.payerSegment.position}.`);
    }
    this.payerSegment = segment;
    const payment = this.payment as EraPayment;
    payment.payerName = element(segment, 2) || null;
    this.payerIdFromName = element(segment, 4) || null;
  }

  private readPlb(segment: X12Segment): void {
    if (element(segment, 1) === '') throw invalid(segment, 'PLB01 (provider identifier) is missing.');
    requiredDate(segment, element(segment, 2), 'PLB02 (fiscal period date)');
    if (segment.elements.length > 2 + 2 * PLB_PAIRS) {
      throw invalid(segment, `a PLB holds at most ${PLB_PAIRS} adjustments (PLB03 … PLB14); start another PLB for more.`);
    }
    const adjustments = (this.payment as EraPayment).providerAdjustments;
    const before = adjustments.length;
    for (let pair = 0; pair < PLB_PAIRS; pair++) {
      const n = 3 + 2 * pair;
      const reason = component(segment, n, 1);
      const amount = element(segment, n + 1);
      if (reason === '' && amount === '') continue;
      const name = `PLB${pad(n)}`;
      if (!/^[A-Z0-9]{2}$/.test(reason)) {
        throw invalid(segment, `${name}-1 (adjustment reason) must be a two-character code such as WO, L6 or FB; found '${reason}'.`);
      }
      adjustments.push({
        reasonCode: reason,
        referenceId: component(segment, n, 2) || null,
        amountCents: cents(segment, amount, `PLB${pad(n + 1)} (provider adjustment amount)`),
        segment: segment.position,
      });
    }
    if (adjustments.length === before) throw invalid(segment, 'PLB has no adjustment (PLB03 reason and PLB04 amount).');
  }

  private closeLine(): void {
    if (!this.line) return;
    const { svc, line, serviceDate, periodStart } = this.line;
    line.serviceDate = serviceDate ?? periodStart;
    let remaining = line.chargeCents;
    for (const adjustment of line.adjustments) remaining = addCents(remaining, -adjustment.amountCents, svc);
    line.balanced = remaining === line.paidCents;
    (this.claim as ClaimDraft).claim.serviceLines.push(line);
    this.line = null;
  }

  private closeClaim(): void {
    this.closeLine();
    if (!this.claim) return;
    const { clp: at, claim } = this.claim;
    const all = [...claim.adjustments, ...claim.serviceLines.flatMap((line) => line.adjustments)];
    let remaining = claim.chargeCents;
    let pr = 0;
    for (const adjustment of all) {
      remaining = addCents(remaining, -adjustment.amountCents, at);
      if (adjustment.groupCode === 'PR') pr = addCents(pr, adjustment.amountCents, at);
    }
    claim.balanced = remaining === claim.paidCents && claim.serviceLines.every((line) => line.balanced);
    claim.prBalanced = claim.patientResponsibilityCents === null || pr === claim.patientResponsibilityCents;
    (this.payment as EraPayment).claims.push(claim);
    this.claim = null;
  }

  private outOfPlace(segment: X12Segment): InvalidX12 {
    if (segment.id === 'SVC' && !this.claim) {
      return invalid(segment, 'a service line (SVC) before any claim (CLP); every SVC belongs to the CLP before it.');
    }
    if (segment.id === 'CAS' && !this.claim) {
      return invalid(segment, 'an adjustment (CAS) outside any claim; CAS follows its CLP or SVC.');
    }
    return invalid(segment, `${segment.id} is not expected ${this.where()}. The 835 segments are out of order or unknown.`);
  }

  private where(): string {
    switch (this.loop) {
      case 'header':
        return 'in the payment header (after BPR and TRN)';
      case 'party':
        return 'in the payer or payee (N1) loop';
      case 'lx':
        return 'after LX, before the first CLP';
      case 'claim':
        return `in claim ${this.claim?.claim.claimNumber} (CLP at segment ${this.claim?.claim.segment})`;
      case 'service':
        return `in the service line at segment ${this.line?.line.segment}`;
      default:
        return 'after PLB (only PLB or SE may follow)';
    }
  }
}

function readClp(segment: X12Segment): EraClaim {
  const claimNumber = element(segment, 1);
  if (claimNumber === '') throw invalid(segment, 'CLP01 (patient control number) is missing.');
  const statusCode = element(segment, 2);
  if (!CLAIM_STATUS_CODES.includes(statusCode)) {
    throw invalid(segment, `CLP02 '${statusCode}' is not a 5010 claim status code (${CLAIM_STATUS_CODES.join(', ')}).`);
  }
  return {
    segment: segment.position,
    claimNumber,
    statusCode,
    chargeCents: cents(segment, element(segment, 3), 'CLP03 (total claim charge)'),
    paidCents: cents(segment, element(segment, 4), 'CLP04 (claim payment)'),
    patientResponsibilityCents: optionalCents(segment, element(segment, 5), 'CLP05 (patient responsibility)'),
    payerClaimNumber: element(segment, 7) || null,
    statementDate: null,
    adjustments: [],
    serviceLines: [],
    balanced: false,
    prBalanced: false,
  };
}

function readSvc(segment: X12Segment): EraServiceLine {
  const procedureCode = component(segment, 1, 2);
  if (procedureCode === '') {
    throw invalid(
      segment,
      `SVC01 '${segment.elements[0]?.join(':') ?? ''}' has no procedure code after its qualifier (such as HC:99213). ` +
        'If the code is there, the composite uses another separator than the one ISA16 declares.',
    );
  }
  let adjudicatedCode: string | null = null;
  if (element(segment, 6) !== '') {
    adjudicatedCode = component(segment, 6, 2);
    if (adjudicatedCode === '') throw invalid(segment, 'SVC06 (submitted procedure) has no procedure code after its qualifier.');
  }
  return {
    segment: segment.position,
    procedureCode,
    adjudicatedCode,
    chargeCents: cents(segment, element(segment, 2), 'SVC02 (line charge)'),
    paidCents: cents(segment, element(segment, 3), 'SVC03 (line payment)'),
    lineControlNumber: null,
    serviceDate: null,
    adjustments: [],
    balanced: false,
  };
}

/** Every triplet of a CAS (CAS02–04 … CAS17–19), in order. */
function readCas(segment: X12Segment): EraAdjustment[] {
  const groupCode = element(segment, 1);
  if (!GROUP_CODES.includes(groupCode)) {
    throw invalid(segment, `CAS01 '${groupCode}' is not a 5010 group code (CO, OA, PI or PR).`);
  }
  if (segment.elements.length > 1 + 3 * CAS_TRIPLETS) {
    throw invalid(segment, `a CAS holds at most ${CAS_TRIPLETS} adjustments (CAS02 … CAS19); the payer must start another CAS for more.`);
  }
  const adjustments: EraAdjustment[] = [];
  for (let triplet = 0; triplet < CAS_TRIPLETS; triplet++) {
    const n = 2 + 3 * triplet;
    const [reason, amount, count] = [element(segment, n), element(segment, n + 1), element(segment, n + 2)];
    if (reason === '' && amount === '' && count === '') continue;
    if (!/^[A-Z0-9]{1,5}$/.test(reason)) {
      throw invalid(segment, `CAS${pad(n)} (adjustment reason code) must be a claim adjustment reason code such as 45 or A2; found '${reason}'.`);
    }
    adjustments.push({
      groupCode,
      reasonCode: reason,
      amountCents: cents(segment, amount, `CAS${pad(n + 1)} (adjustment amount)`),
      quantity: quantity(segment, count, `CAS${pad(n + 2)} (adjustment quantity)`),
      segment: segment.position,
    });
  }
  if (adjustments.length === 0) throw invalid(segment, 'CAS has no adjustment (CAS02 reason and CAS03 amount).');
  return adjustments;
}

function onlyOnce(seen: Set<string>, segment: X12Segment, what: string, where: string): void {
  if (seen.has(what)) throw invalid(segment, `a second ${what} in one ${where}; which one applies is ambiguous.`);
  seen.add(what);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
