import { MAX_NOTE_LENGTH, MAX_TEXT_LENGTH, TextRule, cleanOptionalText, cleanText } from './text';
import { isRefusal } from './codes';

const REASON: TextRule = { label: 'reason', field: ['input', 'reason'] };
const NOTE: TextRule = { label: 'note', field: ['input', 'note'], max: MAX_NOTE_LENGTH, multiline: true };

const blank = (label: string, field: readonly string[]) => ({ code: 'INVALID_TEXT', message: `Enter a ${label}; it can't be blank.`, field });
const control = (label: string, field: readonly string[]) => ({
  code: 'INVALID_TEXT',
  message: `The ${label} contains characters that aren't allowed (control characters).`,
  field,
});
const tooLong = (label: string, max: string, field: readonly string[]) => ({
  code: 'INVALID_TEXT',
  message: `The ${label} is too long: at most ${max} characters.`,
  field,
});

describe('limits', () => {
  it('are 255 for text and 1,000 for notes (docs/design.md §2.5)', () => {
    expect(MAX_TEXT_LENGTH).toBe(255);
    expect(MAX_NOTE_LENGTH).toBe(1000);
  });
});

describe('cleanText', () => {
  it('returns the trimmed text', () => {
    expect(cleanText('  Patient cannot pay \t', REASON)).toBe('Patient cannot pay');
    expect(cleanText('x', REASON)).toBe('x');
    expect(cleanText('\n\r\u00a0\ufeff kept inside  spaces \u2003', REASON)).toBe('kept inside  spaces');
  });

  it.each([
    ['empty', ''],
    ['a space', ' '],
    ['spaces', '     '],
    ['tabs and newlines', '\t\n\r\n '],
    ['no-break and ideographic spaces', '\u00a0\u3000\u2003'],
    ['a byte-order mark', '\ufeff'],
    ['vertical tab and form feed', '\u000b\u000c'],
  ])('refuses blank text: %s', (_name, value) => {
    expect(cleanText(value, REASON)).toEqual(blank('reason', ['input', 'reason']));
    expect(cleanText(value, NOTE)).toEqual(blank('note', ['input', 'note']));
  });

  it.each([
    ['NUL', '\u0000'],
    ['SOH', '\u0001'],
    ['BEL', '\u0007'],
    ['backspace', '\u0008'],
    ['vertical tab', '\u000b'],
    ['form feed', '\u000c'],
    ['escape', '\u001b'],
    ['unit separator', '\u001f'],
    ['file separator', '\u001c'],
    ['DEL', '\u007f'],
    ['C1 start', '\u0080'],
    ['NEL', '\u0085'],
    ['C1 end', '\u009f'],
  ])('refuses the control character %s inside text, even in a note', (_name, ch) => {
    expect(cleanText(`a${ch}b`, REASON)).toEqual(control('reason', ['input', 'reason']));
    expect(cleanText(`a${ch}b`, NOTE)).toEqual(control('note', ['input', 'note']));
  });

  it.each([
    ['NUL', '\u0000'],
    ['DEL', '\u007f'],
    ['NEL', '\u0085'],
    ['escape', '\u001b'],
  ])('refuses %s at either end: trimming does not remove it', (_name, ch) => {
    expect(cleanText(`${ch}abc`, REASON)).toEqual(control('reason', ['input', 'reason']));
    expect(cleanText(`abc${ch}`, REASON)).toEqual(control('reason', ['input', 'reason']));
    expect(cleanText(` ${ch} `, REASON)).toEqual(control('reason', ['input', 'reason']));
  });

  it.each([
    ['LF', '\n'],
    ['CR', '\r'],
    ['CRLF', '\r\n'],
    ['tab', '\t'],
  ])('allows %s inside multiline text only', (_name, ch) => {
    expect(cleanText(`line one${ch}line two`, NOTE)).toBe(`line one${ch}line two`);
    expect(cleanText(`line one${ch}line two`, REASON)).toEqual(control('reason', ['input', 'reason']));
    expect(cleanText(`line one${ch}line two`, { ...NOTE, multiline: false })).toEqual(control('note', ['input', 'note']));
  });

  it('allows ordinary non-ASCII text (accents, CJK, emoji, no-break space, U+00A0..)', () => {
    const text = 'Zoë – 患者 😀 a\u00a0b ¿?';
    expect(cleanText(text, REASON)).toBe(text);
  });

  describe('length, counted in characters after trimming', () => {
    it('allows exactly 255 and refuses 256 by default', () => {
      expect(cleanText('a'.repeat(255), REASON)).toBe('a'.repeat(255));
      expect(cleanText('a'.repeat(256), REASON)).toEqual(tooLong('reason', '255', ['input', 'reason']));
    });

    it('allows 1,000 and refuses 1,001 for notes, with a thousands separator in the message', () => {
      expect(cleanText('n'.repeat(1000), NOTE)).toBe('n'.repeat(1000));
      expect(cleanText('n'.repeat(1001), NOTE)).toEqual(tooLong('note', '1,000', ['input', 'note']));
    });

    it('counts text after trimming', () => {
      expect(cleanText(`   ${'a'.repeat(255)}   `, REASON)).toBe('a'.repeat(255));
      expect(cleanText(`\n${'n'.repeat(1000)}\n\n`, NOTE)).toBe('n'.repeat(1000));
    });

    it('counts an emoji (two UTF-16 units) as one character', () => {
      const e255 = '😀'.repeat(255);
      expect(e255.length).toBe(510);
      expect(cleanText(e255, REASON)).toBe(e255);
      expect(cleanText('😀'.repeat(256), REASON)).toEqual(tooLong('reason', '255', ['input', 'reason']));
      expect(cleanText('😀'.repeat(128) + 'a'.repeat(127), REASON)).toBe('😀'.repeat(128) + 'a'.repeat(127));
      expect(cleanText('😀'.repeat(1000), NOTE)).toBe('😀'.repeat(1000));
      expect(cleanText('😀'.repeat(1001), NOTE)).toEqual(tooLong('note', '1,000', ['input', 'note']));
    });

    it('uses a custom max', () => {
      const rule: TextRule = { label: 'name', field: ['input', 'name'], max: 3 };
      expect(cleanText('abc', rule)).toBe('abc');
      expect(cleanText('abcd', rule)).toEqual(tooLong('name', '3', ['input', 'name']));
    });
  });

  it('checks in the order blank, control characters, length', () => {
    // Too long AND a control character: the control character is reported.
    expect(cleanText('a'.repeat(300) + '\u0000', REASON)).toEqual(control('reason', ['input', 'reason']));
    // Only whitespace around a control character: not blank.
    expect(cleanText('  \u0007  ', REASON)).toEqual(control('reason', ['input', 'reason']));
  });

  it('uses the rule’s label in every message', () => {
    const rule: TextRule = { label: 'custom reason', field: ['x'] };
    expect(cleanText('', rule)).toEqual(blank('custom reason', ['x']));
    expect(isRefusal(cleanText('\u0000', rule))).toBe(true);
  });
});

describe('cleanOptionalText', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty', ''],
    ['whitespace only', ' \t\n '],
  ])('treats %s as absent', (_name, value) => {
    expect(cleanOptionalText(value, REASON)).toBeNull();
    expect(cleanOptionalText(value, NOTE)).toBeNull();
  });

  it('trims and returns present text', () => {
    expect(cleanOptionalText('  ok ', REASON)).toBe('ok');
  });

  it('applies the same rules as cleanText', () => {
    expect(cleanOptionalText('a\u0000b', REASON)).toEqual(control('reason', ['input', 'reason']));
    expect(cleanOptionalText(' \u007f ', REASON)).toEqual(control('reason', ['input', 'reason']));
    expect(cleanOptionalText('a'.repeat(256), REASON)).toEqual(tooLong('reason', '255', ['input', 'reason']));
    expect(cleanOptionalText('a\nb', REASON)).toEqual(control('reason', ['input', 'reason']));
    expect(cleanOptionalText('a\nb', NOTE)).toBe('a\nb');
  });
});
