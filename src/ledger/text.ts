import { Refusal, RefusalCode, refusal } from './codes';

export const MAX_TEXT_LENGTH = 255;
export const MAX_NOTE_LENGTH = 1000;

// Control characters (C0, DEL, C1). Notes may keep line breaks and tabs; nothing else may.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

export interface TextRule {
  /** What the field is called in the message a person reads, e.g. "reason". */
  label: string;
  field: readonly string[];
  max?: number;
  multiline?: boolean;
}

/** Trims and checks free text (docs/design.md §2.5): non-blank, no control characters, bounded length. */
export function cleanText(value: string, rule: TextRule): string | Refusal {
  const max = rule.max ?? MAX_TEXT_LENGTH;
  const text = value.trim();
  if (text.length === 0) return refusal(RefusalCode.INVALID_TEXT, `Enter a ${rule.label}; it can't be blank.`, rule.field);
  if ((rule.multiline ? CONTROL_EXCEPT_LINE_BREAKS : CONTROL).test(text)) {
    return refusal(RefusalCode.INVALID_TEXT, `The ${rule.label} contains characters that aren't allowed (control characters).`, rule.field);
  }
  if ([...text].length > max) {
    return refusal(RefusalCode.INVALID_TEXT, `The ${rule.label} is too long: at most ${max.toLocaleString('en-US')} characters.`, rule.field);
  }
  return text;
}

/** Optional free text: absent or empty stays absent; anything else must pass `cleanText`. */
export function cleanOptionalText(value: string | null | undefined, rule: TextRule): string | null | Refusal {
  if (value === null || value === undefined || value.trim() === '') return null;
  return cleanText(value, rule);
}

/** The `reason` of an input (a removal, a refund, a void, a reversal): required text. Returns the cleaned reason. */
export function cleanReason(reason: string): string | Refusal {
  return cleanText(reason, { label: 'reason', field: ['input', 'reason'] });
}

/** A remittance id, where `field` is where the input names it: required text. Returns the cleaned id. */
export function cleanRemittanceId(remittanceId: string, field: readonly string[] = ['input', 'remittanceId']): string | Refusal {
  return cleanText(remittanceId, { label: 'remittance id', field });
}
