import { Segment } from 'x12-parser';

/** A file that is not a well-formed 835; `segment` is the 1-based position counted from the first ISA (docs/era.md §1). */
export class InvalidX12 extends Error {
  constructor(
    message: string,
    readonly segment: number | null,
  ) {
    super(message);
    this.name = 'InvalidX12';
  }
}

export interface X12Segment {
  /** 1-based, counting every segment from the file's first ISA. */
  position: number;
  id: string;
  /** elements[0] is element 01; each element is its list of components. */
  elements: string[][];
}

/** Element `n` (1-based), or its first component when it is a composite; '' when absent. */
export function element(segment: X12Segment, n: number): string {
  return segment.elements[n - 1]?.[0] ?? '';
}

/** Component `c` (1-based) of element `n`; '' when absent. */
export function component(segment: X12Segment, n: number, c: number): string {
  return segment.elements[n - 1]?.[c - 1] ?? '';
}

interface Delimiters {
  element: string;
  component: string;
  segment: string;
  repetition: string;
}

const ISA_ELEMENTS = 16;
/** A standard ISA is 106 characters; the slack tolerates senders that do not pad its fixed-width elements. */
const ISA_MAX_LENGTH = 160;
// "ISA" that starts a segment: not the tail of a word such as "VISA", and followed by a separator.
const ISA_START = /(?<![A-Za-z0-9])ISA[^A-Za-z0-9\s]/g;
const SEGMENT_ID = /^[A-Z][A-Z0-9]{1,2}$/;

/**
 * Splits an X12 file into segments. Each interchange's delimiters come from its own ISA (docs/era.md §1); text before
 * the first ISA, line breaks between or inside segments and blank segments are ignored. x12-parser's `Segment` splits
 * each segment into elements and components; its stream reader is not used, because it reads the delimiters from
 * fixed offsets of the first chunk, knows no segment positions and cannot change delimiters between interchanges.
 */
export function tokenizeX12(content: string): X12Segment[] {
  const segments: X12Segment[] = [];
  let { at, isa } = findFirstIsa(content);
  for (;;) {
    const isaEnd = at + isa.isaLength;
    segments.push(tokenize(content.slice(at, isaEnd), isa.delimiters, segments.length + 1));
    at = skipWhitespace(content, readInterchangeBody(content, isaEnd + 1, isa.delimiters, segments));
    if (at >= content.length) return segments;
    if (!content.startsWith('ISA', at)) {
      throw new InvalidX12(
        `Segment ${segments.length}: there is text after the IEA that closes the interchange (${excerpt(content.slice(at, at + 25))}); ` +
          'a file may hold further interchanges, each starting with ISA, and nothing else.',
        segments.length,
      );
    }
    isa = readIsa(content, at, segments.length + 1);
  }
}

/** The first "ISA" that really opens an interchange: prose before it may contain the letters too ("ISA-compliant"). */
function findFirstIsa(content: string): { at: number; isa: IsaHeader } {
  let firstProblem: string | null = null;
  for (const match of content.matchAll(ISA_START)) {
    const isa = parseIsa(content, match.index);
    if (typeof isa !== 'string') return { at: match.index, isa };
    firstProblem ??= isa;
  }
  if (firstProblem !== null) throw new InvalidX12(`Segment 1 (ISA): ${firstProblem}`, 1);
  throw new InvalidX12('This is not an X12 file: no ISA segment (interchange header) was found.', null);
}

/** Reads segments after an ISA up to its IEA; returns the index just past the IEA. */
function readInterchangeBody(content: string, from: number, delimiters: Delimiters, out: X12Segment[]): number {
  let at = from;
  for (;;) {
    const end = content.indexOf(delimiters.segment, at);
    const stop = end === -1 ? content.length : end;
    const raw = content.slice(at, stop).replace(/[\r\n]/g, '');
    at = stop + 1;
    if (raw.trim() !== '') {
      const position = out.length + 1;
      const segment = tokenize(raw, delimiters, position);
      out.push(segment);
      if (segment.id === 'IEA') return at;
    }
    if (end === -1) {
      throw new InvalidX12(
        `Segment ${out.length}: the file ends before the IEA that closes the interchange; it is probably truncated.`,
        out.length,
      );
    }
  }
}

function tokenize(raw: string, delimiters: Delimiters, position: number): X12Segment {
  const parsed = new Segment(raw, delimiters);
  const id = parsed.name;
  if (!SEGMENT_ID.test(id)) {
    throw new InvalidX12(
      `Segment ${position}: ${excerpt(raw)} is not an X12 segment (a segment starts with a 2–3 letter id such as CLP, ` +
        `then '${printable(delimiters.element)}'). Check the file is complete and uses the separators its ISA declares.`,
      position,
    );
  }
  return { position, id, elements: parsed.parsed };
}

/** An ISA's delimiters (the character after "ISA", ISA11, ISA16 and the character after it) and its length. */
interface IsaHeader {
  delimiters: Delimiters;
  isaLength: number;
}

function readIsa(content: string, at: number, position: number): IsaHeader {
  const isa = parseIsa(content, at);
  if (typeof isa === 'string') throw new InvalidX12(`Segment ${position} (ISA): ${isa}`, position);
  return isa;
}

/** The ISA at `at`, or what is wrong with it: a string rather than an exception, as prose may hold many false starts. */
function parseIsa(content: string, at: number): IsaHeader | string {
  const separator = content[at + 3];
  if (!isSeparatorCharacter(separator)) return 'the character after ISA must be the element separator.';
  // ISA16 is the one character after the 16th element separator, and the segment terminator follows it.
  let index = at + 3;
  const starts: number[] = [];
  while (starts.length < ISA_ELEMENTS) {
    const next = content.indexOf(separator, index);
    if (next === -1 || next - at > ISA_MAX_LENGTH) {
      return `the interchange header must have ${ISA_ELEMENTS} elements separated by '${printable(separator)}'; it is truncated or malformed.`;
    }
    starts.push(next + 1);
    index = next + 1;
  }
  const componentIndex = starts[ISA_ELEMENTS - 1];
  const componentSeparator = content[componentIndex];
  const terminator = content[componentIndex + 1];
  if (componentSeparator === undefined || terminator === undefined) return 'the file ends inside the interchange header.';
  if (!isSeparatorCharacter(componentSeparator) || componentSeparator === separator) {
    return `ISA16 must be the component separator, a punctuation character other than '${printable(separator)}'; found '${printable(componentSeparator)}'.`;
  }
  if (!isTerminatorCharacter(terminator) || terminator === separator || terminator === componentSeparator) {
    return `the character after ISA16 must be the segment terminator, distinct from the other separators; found '${printable(terminator)}'.`;
  }
  const isa11 = content.slice(starts[10], starts[11] - 1).trim();
  // In 5010 ISA11 is the repetition separator; an older file's letter there ("U") means there is none.
  const repetition = isa11.length === 1 && isSeparatorCharacter(isa11) ? isa11 : '';
  if (repetition !== '' && [separator, componentSeparator, terminator].includes(repetition)) {
    return `ISA11, the repetition separator '${printable(repetition)}', must differ from the other separators.`;
  }
  return {
    delimiters: { element: separator, component: componentSeparator, segment: terminator, repetition },
    isaLength: componentIndex + 1 - at,
  };
}

function isSeparatorCharacter(c: string | undefined): c is string {
  return c !== undefined && !/[A-Za-z0-9\s]/.test(c);
}

/** A segment terminator may be a line break (newline-only files); never a letter, digit or space. */
function isTerminatorCharacter(c: string): boolean {
  return c === '\n' || c === '\r' || isSeparatorCharacter(c);
}

function skipWhitespace(content: string, from: number): number {
  let at = from;
  while (at < content.length && /\s/.test(content[at])) at++;
  return at;
}

/** A short, printable quotation of file text for a message. */
export function excerpt(text: string): string {
  const head = text.slice(0, 24);
  return `'${[...head].map(printable).join('')}${text.length > 24 ? '…' : ''}'`;
}

function printable(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  return /[\x20-\x7e]/.test(c) ? c : '?';
}
