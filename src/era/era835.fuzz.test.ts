import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32, pick, randomInt } from '../../test/seeded-random';
import { Era835, InvalidX12, MAX_ERA_BYTES, parse835 } from './era835';

// Whatever the bytes, parse835 ends in a result or InvalidX12, never another exception or a hang (docs/era.md §4).
const DIR = join(__dirname, '../../test/era');
const FILES = readdirSync(DIR)
  .filter((name) => name.endsWith('.835'))
  .sort()
  .map((name) => readFileSync(join(DIR, name), 'utf8'));

const NOISE = ['*', ':', '~', '^', '|', '>', '+', '\n', '\r', ' ', '-', '.', '0', '9', 'A', 'Z', '\u0000', '\u00ff', '\ufffd', 'ISA', 'SE', 'CLP*', 'SVC*HC:', 'CAS*PR*'];

type Mutation = (text: string, rand: () => number) => string;

const at = (text: string, rand: () => number): number => randomInt(rand, 0, Math.max(0, text.length - 1));
function randomBytes(rand: () => number, n: number): string {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = randomInt(rand, 0, 255);
  return Buffer.from(bytes).toString('latin1');
}

const MUTATIONS: Record<string, Mutation> = {
  truncate: (text, rand) => text.slice(0, at(text, rand)),
  replaceCharacter: (text, rand) => {
    const i = at(text, rand);
    return text.slice(0, i) + randomBytes(rand, 1) + text.slice(i + 1);
  },
  insertNoise: (text, rand) => {
    const i = at(text, rand);
    return text.slice(0, i) + (rand() < 0.5 ? pick(rand, NOISE) : randomBytes(rand, randomInt(rand, 1, 12))) + text.slice(i);
  },
  deleteRange: (text, rand) => {
    const i = at(text, rand);
    return text.slice(0, i) + text.slice(i + randomInt(rand, 1, 40));
  },
  swapSeparator: (text, rand) => {
    const from = pick(rand, ['*', ':', '~', '|', '>', '+', '\n', '^']);
    return text.split(from).join(pick(rand, ['*', ':', '~', '|', '>', '+', '\n', '^', 'X', ' ', '']));
  },
  breakIsaDelimiter: (text, rand) => {
    const isa = text.indexOf('ISA');
    const i = isa + pick(rand, [3, 82, 104, 105]);
    return isa < 0 ? text : text.slice(0, i) + pick(rand, NOISE).charAt(0) + text.slice(i + 1);
  },
  wrongCount: (text, rand) => {
    const trailers = [...text.matchAll(/(SE|GE|IEA)([*|+])(\d+)/g)];
    if (trailers.length === 0) return text;
    const m = pick(rand, trailers);
    const count = String(Math.max(0, Number(m[3]) + pick(rand, [-2, -1, 1, 2, 100])));
    return text.slice(0, m.index) + m[1] + m[2] + count + text.slice(m.index + m[0].length);
  },
  duplicateOrDropSegment: (text, rand) => {
    const lines = text.split('\n');
    const i = randomInt(rand, 0, lines.length - 1);
    if (rand() < 0.5) lines.splice(i, 0, lines[randomInt(rand, 0, lines.length - 1)]);
    else lines.splice(i, 1);
    return lines.join('\n');
  },
  garbleAmount: (text, rand) =>
    text.replace(/\d+\.\d{2}/, pick(rand, ['1.234', '1,00', '1e3', '--1', '.', '', '99999999999999.99', 'NaN', '0x10'])),
  randomFile: (_text, rand) => randomBytes(rand, randomInt(rand, 0, 400)),
};

function check(content: string): 'parsed' | 'refused' {
  let era: Era835;
  try {
    era = parse835(content);
  } catch (error) {
    if (!(error instanceof InvalidX12)) throw error;
    expect(error.message.length).toBeGreaterThan(0);
    if (error.segment !== null) {
      expect(Number.isSafeInteger(error.segment) && error.segment > 0).toBe(true);
      expect(error.message.startsWith(`Segment ${error.segment}`)).toBe(true);
    }
    return 'refused';
  }
  const amounts: number[] = [];
  for (const p of era.payments) {
    amounts.push(p.paymentCents, ...p.providerAdjustments.map((a) => a.amountCents));
    for (const claim of p.claims) {
      amounts.push(claim.chargeCents, claim.paidCents, ...claim.adjustments.map((a) => a.amountCents));
      for (const line of claim.serviceLines) amounts.push(line.chargeCents, line.paidCents, ...line.adjustments.map((a) => a.amountCents));
    }
  }
  expect(amounts.every((a) => Number.isSafeInteger(a))).toBe(true);
  return 'parsed';
}

describe('parse835 under fuzzing', () => {
  it('every mutation of every test file ends in a result or InvalidX12, quickly', () => {
    const rand = mulberry32(835);
    const names = Object.keys(MUTATIONS);
    const outcomes = { parsed: 0, refused: 0 };
    let slowest = 0;
    const started = Date.now();
    for (let i = 0; i < 6000; i++) {
      let content = pick(rand, FILES);
      for (let k = randomInt(rand, 1, 3); k > 0; k--) content = MUTATIONS[pick(rand, names)](content, rand);
      const t0 = performance.now();
      outcomes[check(content)]++;
      slowest = Math.max(slowest, performance.now() - t0);
    }
    // Both outcomes occur: some mutations (a changed name, a dropped DTM) still leave a well-formed 835.
    expect(outcomes.parsed).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(3000);
    expect(slowest).toBeLessThan(250);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('reads a valid file of almost MAX_ERA_BYTES in a few seconds, and refuses as much noise as fast', () => {
    const claim = ['CLP*PCN1*1*95.00*52.00*25.00*12*ICN1~', 'SVC*HC:99212*95.00*52.00**1~', 'DTM*472*20260102~', 'CAS*PR*3*25.00~', 'CAS*CO*45*18.00~', 'REF*6R*LN1~'];
    const perClaim = claim.join('\n').length + 1;
    const claims = Math.floor((MAX_ERA_BYTES - 1000) / perClaim);
    const body = ['ST*835*0001~', `BPR*I*${(claims * 52).toFixed(2)}*C*CHK************20260105~`, 'TRN*1*CHK1001*1841234567~', 'LX*1~'];
    const segments = body.length + claims * claim.length + 1;
    const big = [
      'ISA*00*          *00*          *ZZ*LAKESIDEHP     *ZZ*MAPLESTFM      *260105*0930*^*00501*000000001*0*P*:~',
      'GS*HP*LAKESIDEHP*MAPLESTFM*20260105*0930*1*X*005010X221A1~',
      ...body,
      ...Array.from({ length: claims }, () => claim).flat(),
      `SE*${segments}*0001~`,
      'GE*1*1~',
      'IEA*1*000000001~',
    ].join('\n');
    expect(Buffer.byteLength(big)).toBeLessThanOrEqual(MAX_ERA_BYTES);

    let t0 = Date.now();
    const [p] = parse835(big).payments;
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(p.claims).toHaveLength(claims);
    expect(p.balanced).toBe(true);

    // 64 KiB of random bytes repeated: generating 5 MiB byte by byte would take longer than parsing it.
    const block = randomBytes(mulberry32(5), 65_536);
    const noise = block.repeat(MAX_ERA_BYTES / block.length);
    for (const content of [noise, `ISA*${'*'.repeat(15)}:~${noise.slice(100)}`, 'ISA*'.repeat(MAX_ERA_BYTES / 4)]) {
      t0 = Date.now();
      expect(check(content)).toBe('refused');
      expect(Date.now() - t0).toBeLessThan(8000);
    }
  });
});
