/**
 * Builds small X12 835 (005010X221A1) files for the ERA import's tests and benchmark (docs/design.md §9.1): one
 * interchange, one functional group, one transaction set (ST … SE) per payment. Amounts the spec leaves out are
 * filled in so that everything balances (service: SVC02 − Σ CAS = SVC03; claim: CLP03 − Σ CAS = CLP04, CLP05 = Σ PR;
 * payment: Σ CLP04 − Σ PLB = BPR02); giving one explicitly is how a test makes something not balance.
 */

export interface CasSpec {
  group: 'PR' | 'CO' | 'OA' | 'PI';
  reason: string;
  cents: number;
}

export interface LineSpec {
  /** SVC01-2. */
  code: string;
  /** SVC06-2: the code the practice submitted, when the payer changed it. */
  submittedCode?: string;
  chargeCents: number;
  paidCents?: number;
  /** DTM*472, YYYY-MM-DD. */
  date?: string;
  /** REF*6R. */
  control?: string;
  adjustments?: CasSpec[];
}

export interface ClaimSpec {
  claimNumber: string;
  status?: string;
  chargeCents?: number;
  paidCents?: number;
  /** CLP05; `null` leaves it out. Default: Σ PR. */
  prCents?: number | null;
  /** CLP07. */
  payerClaimNumber?: string;
  /** DTM*232, YYYY-MM-DD. */
  statementDate?: string;
  claimAdjustments?: CasSpec[];
  lines?: LineSpec[];
}

export interface PaymentSpec {
  trace: string;
  payerName?: string;
  /** TRN03. */
  payerId?: string;
  /** BPR16, YYYY-MM-DD. */
  date?: string;
  /** BPR02; default Σ CLP04 − Σ PLB. */
  amountCents?: number;
  plb?: { reason: string; cents: number }[];
  claims: ClaimSpec[];
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const compact = (date: string) => date.replace(/-/g, '');

/** CAS segments: one per group, at most six triplets each. */
function cas(adjustments: CasSpec[] = []): string[] {
  const segments: string[] = [];
  for (const group of ['PR', 'CO', 'OA', 'PI'] as const) {
    const mine = adjustments.filter((a) => a.group === group);
    for (let i = 0; i < mine.length; i += 6) {
      segments.push(['CAS', group, ...mine.slice(i, i + 6).flatMap((a) => [a.reason, money(a.cents), ''])].join('*').replace(/\*+$/, ''));
    }
  }
  return segments;
}

const linePaid = (line: LineSpec) => line.paidCents ?? line.chargeCents - sum((line.adjustments ?? []).map((a) => a.cents));
const allAdjustments = (claim: ClaimSpec) => [...(claim.claimAdjustments ?? []), ...(claim.lines ?? []).flatMap((l) => l.adjustments ?? [])];

function claimCharge(claim: ClaimSpec): number {
  return claim.chargeCents ?? sum((claim.lines ?? []).map((l) => l.chargeCents));
}

function claimPaid(claim: ClaimSpec): number {
  return claim.paidCents ?? claimCharge(claim) - sum(allAdjustments(claim).map((a) => a.cents));
}

function transaction(payment: PaymentSpec, control: string): string[] {
  const paid = sum(payment.claims.map(claimPaid)) - sum((payment.plb ?? []).map((p) => p.cents));
  const amount = payment.amountCents ?? paid;
  const body: string[] = [
    `BPR*I*${money(Math.abs(amount))}*${amount < 0 ? 'D' : 'C'}*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*${payment.date ? compact(payment.date) : ''}`,
    `TRN*1*${payment.trace}*${payment.payerId ?? '1512345678'}`,
    'DTM*405*20260115',
    `N1*PR*${payment.payerName ?? 'ACME HEALTH PLAN'}`,
    'N1*PE*MAIN STREET CLINIC*XX*1234567893',
    'LX*1',
  ];
  for (const claim of payment.claims) {
    const pr = sum(allAdjustments(claim).filter((a) => a.group === 'PR').map((a) => a.cents));
    const prCents = claim.prCents === undefined ? pr : claim.prCents;
    body.push(
      ['CLP', claim.claimNumber, claim.status ?? '1', money(claimCharge(claim)), money(claimPaid(claim)), prCents === null ? '' : money(prCents), '12', claim.payerClaimNumber ?? `ICN-${claim.claimNumber}`].join('*'),
      ...cas(claim.claimAdjustments),
      'NM1*QC*1*DOE*JANE',
      ...(claim.statementDate ? [`DTM*232*${compact(claim.statementDate)}`] : []),
    );
    for (const line of claim.lines ?? []) {
      const svc = ['SVC', `HC:${line.code}`, money(line.chargeCents), money(linePaid(line))];
      if (line.submittedCode) svc.push('', '1', `HC:${line.submittedCode}`);
      body.push(svc.join('*'), ...(line.date ? [`DTM*472*${compact(line.date)}`] : []), ...cas(line.adjustments), ...(line.control ? [`REF*6R*${line.control}`] : []));
    }
  }
  for (const plb of payment.plb ?? []) body.push(`PLB*1234567893*20261231*${plb.reason}:REF*${money(plb.cents)}`);
  return [`ST*835*${control}`, ...body, `SE*${body.length + 2}*${control}`];
}

/** The text of an 835 file holding these payments; `terminator` follows every segment ("~\n" by default). */
export function era835(payments: PaymentSpec[], options: { terminator?: string; before?: string } = {}): string {
  const terminator = options.terminator ?? '~\n';
  const isa = 'ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260115*1200*^*00501*000000001*0*P*:';
  const segments = [
    isa,
    'GS*HP*SENDER*RECEIVER*20260115*1200*1*X*005010X221A1',
    ...payments.flatMap((p, i) => transaction(p, String(i + 1).padStart(4, '0'))),
    `GE*${payments.length}*1`,
    'IEA*1*000000001',
  ];
  return (options.before ?? '') + segments.map((s) => s + terminator).join('');
}
