import { MAX_INPUT_CENTS, formatCents, isPositiveCents, sumCents } from './money';

describe('MAX_INPUT_CENTS', () => {
  it("is GraphQL's Int maximum, $21,474,836.47", () => {
    expect(MAX_INPUT_CENTS).toBe(2_147_483_647);
    expect(MAX_INPUT_CENTS).toBe(2 ** 31 - 1);
    expect(formatCents(MAX_INPUT_CENTS)).toBe('$21,474,836.47');
  });
});

describe('isPositiveCents', () => {
  it.each([1, 2, 99, 100, 3000, 123_456_789, MAX_INPUT_CENTS - 1, MAX_INPUT_CENTS])('accepts %p', (value) => {
    expect(isPositiveCents(value)).toBe(true);
  });

  it.each([
    ['zero', 0],
    ['negative zero', -0],
    ['minus one', -1],
    ['a large negative', -MAX_INPUT_CENTS],
    ['MAX_INPUT_CENTS + 1', MAX_INPUT_CENTS + 1],
    ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
    ['a fraction', 1.5],
    ['a tiny fraction', 0.5],
    ['a float just above an integer', 100.0000001],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('refuses %s', (_name, value) => {
    expect(isPositiveCents(value)).toBe(false);
  });

  it.each([
    ['a numeric string', '100'],
    ['null', null],
    ['undefined', undefined],
    ['a bigint', BigInt(100)],
    ['a boxed number', Object(100)],
    ['an object', { valueOf: () => 100 }],
  ])('refuses non-numbers: %s', (_name, value) => {
    expect(isPositiveCents(value)).toBe(false);
  });
});

describe('formatCents', () => {
  it.each([
    [0, '$0.00'],
    [1, '$0.01'],
    [9, '$0.09'],
    [10, '$0.10'],
    [99, '$0.99'],
    [100, '$1.00'],
    [105, '$1.05'],
    [3000, '$30.00'],
    [2000, '$20.00'],
    [5000, '$50.00'],
    [7500, '$75.00'],
    [10000, '$100.00'],
    [99999, '$999.99'],
    [100000, '$1,000.00'],
    [123456, '$1,234.56'],
    [1000000, '$10,000.00'],
    [10000000, '$100,000.00'],
    [99999999, '$999,999.99'],
    [100000000, '$1,000,000.00'],
    [123456789, '$1,234,567.89'],
    [100000000000, '$1,000,000,000.00'],
    [Number.MAX_SAFE_INTEGER, '$90,071,992,547,409.91'],
  ])('formats %p as %p', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it.each([
    [-1, '-$0.01'],
    [-99, '-$0.99'],
    [-500, '-$5.00'],
    [-3000, '-$30.00'],
    [-123456, '-$1,234.56'],
    [-123456789, '-$1,234,567.89'],
    [-MAX_INPUT_CENTS, '-$21,474,836.47'],
    [Number.MIN_SAFE_INTEGER, '-$90,071,992,547,409.91'],
  ])('formats the negative %p as %p (sign before the dollar sign)', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it('writes negative zero as $0.00, without a sign', () => {
    expect(formatCents(-0)).toBe('$0.00');
  });

  it.each([
    ['a fraction', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['beyond MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER + 2],
  ])('throws a RangeError for %s', (_name, value) => {
    expect(() => formatCents(value)).toThrow(RangeError);
    expect(() => formatCents(value)).toThrow('not a whole number of cents');
  });
});

describe('sumCents', () => {
  it('is 0 for nothing', () => {
    expect(sumCents([])).toBe(0);
  });

  it('adds arrays, including negatives', () => {
    expect(sumCents([1, 2, 3])).toBe(6);
    expect(sumCents([3000, -1000, 0])).toBe(2000);
  });

  it('accepts any iterable, e.g. a Map’s values or a generator', () => {
    expect(sumCents(new Map([['a', 5], ['b', 7]]).values())).toBe(12);
    function* gen() {
      yield 100;
      yield 250;
    }
    expect(sumCents(gen())).toBe(350);
    expect(sumCents(new Set([10, 20]))).toBe(30);
  });
});
