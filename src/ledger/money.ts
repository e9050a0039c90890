/** Money is an integer number of cents everywhere. These helpers are the only place cents become text. */

/** The largest amount one input may carry: GraphQL's Int, so $21,474,836.47. */
export const MAX_INPUT_CENTS = 2_147_483_647;

export function isPositiveCents(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= MAX_INPUT_CENTS;
}

/** `3000` -> `$30.00`, `123456789` -> `$1,234,567.89`, `-500` -> `-$5.00`. */
export function formatCents(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`not a whole number of cents: ${cents}`);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const rest = (abs % 100).toString().padStart(2, '0');
  return `${sign}$${dollars}.${rest}`;
}

export function sumCents(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
