import { Refusal, RefusalCode, refusal } from './codes';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date `YYYY-MM-DD` that exists (no February 30th), from 1900 on. */
export function checkCalendarDate(value: string, label: string, field: readonly string[]): string | Refusal {
  const text = value.trim();
  const match = DAY.exec(text);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!match || !date || date.toISOString().slice(0, 10) !== text || Number(match[1]) < 1900) {
    return refusal(RefusalCode.INVALID_DATE, `Enter the ${label} as YYYY-MM-DD, for example 2026-03-14.`, field);
  }
  return text;
}

/** An ISO-8601 date-time with a time zone, normalised to UTC, and not more than a day ahead of `now`. */
export function checkInstant(value: string, label: string, field: readonly string[], now = new Date()): string | Refusal {
  const text = value.trim();
  const parsed = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : null;
  if (!parsed || Number.isNaN(parsed.getTime()) || parsed.getUTCFullYear() < 1900) {
    return refusal(RefusalCode.INVALID_DATE, `Enter the ${label} as an ISO date-time with a time zone, for example 2026-03-14T09:30:00Z.`, field);
  }
  if (parsed.getTime() > now.getTime() + 24 * 3600_000) {
    return refusal(RefusalCode.INVALID_DATE, `The ${label} can't be in the future.`, field);
  }
  return parsed.toISOString();
}
