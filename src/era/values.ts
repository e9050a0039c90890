import { InvalidX12, X12Segment, excerpt } from './x12';

// X12 decimal (type R): optional minus, digits, optional point; money has at most two decimals (docs/era.md §2).
const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?$/;
/** 13 integer digits keep every amount, in cents, below Number.MAX_SAFE_INTEGER. */
const MAX_INTEGER_DIGITS = 13;

/** `where` names the element for the message, e.g. "CLP03 (total claim charge)". */
export function cents(segment: X12Segment, text: string, where: string): number {
  const match = DECIMAL.exec(text);
  const units = match?.[2] ?? '';
  const fraction = match?.[3] ?? '';
  if (!match || (units === '' && fraction === '')) {
    throw invalid(segment, `${where} ${text === '' ? 'is missing' : `${excerpt(text)} is not an amount`}; amounts are written like 125.50 or -125.50.`);
  }
  if (fraction.length > 2) throw invalid(segment, `${where} ${excerpt(text)} has more than two decimal places.`);
  if (units.length > MAX_INTEGER_DIGITS) throw invalid(segment, `${where} ${excerpt(text)} is too large an amount.`);
  const value = Number(units || '0') * 100 + Number(fraction.padEnd(2, '0'));
  return match[1] === '-' ? -value || 0 : value;
}

export function optionalCents(segment: X12Segment, text: string, where: string): number | null {
  return text === '' ? null : cents(segment, text, where);
}

/** Adds cents, refusing a total that a double can no longer hold exactly. */
export function addCents(total: number, amount: number, segment: X12Segment): number {
  const sum = total + amount;
  if (!Number.isSafeInteger(sum)) throw invalid(segment, 'the amounts in this transaction add up to more than can be counted exactly.');
  return sum;
}

const QUANTITY = /^-?(\d+\.?\d*|\.\d+)$/;

export function quantity(segment: X12Segment, text: string, where: string): string | null {
  if (text === '') return null;
  if (!QUANTITY.test(text)) throw invalid(segment, `${where} ${excerpt(text)} is not a quantity.`);
  return text;
}

/** CCYYMMDD → YYYY-MM-DD, or null when it is not a real calendar date. */
export function calendarDate(text: string): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return null;
  }
  return `${match[1]}-${match[2]}-${match[3]}`;
}

export function requiredDate(segment: X12Segment, text: string, where: string): string {
  const date = calendarDate(text);
  if (date === null) throw invalid(segment, `${where} ${text === '' ? 'is missing' : `${excerpt(text)} is not a date`}; dates are written CCYYMMDD.`);
  return date;
}

export function invalid(segment: X12Segment, why: string): InvalidX12 {
  return new InvalidX12(`Segment ${segment.position} (${segment.id}): ${why}`, segment.position);
}
