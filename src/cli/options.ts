/** What a command prints (`out` on stdout, `err` on stderr) and its exit code. */
export interface CommandResult {
  code: number;
  out?: string;
  err?: string;
}

/** `--name value` or `--name=value`, each known option at most once; anything else is the message that refuses it. */
export function parseOptions<O extends string>(argv: readonly string[], known: readonly O[]): Partial<Record<O, string>> | string {
  const options: Partial<Record<O, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(argv[i]);
    if (!match) return `Unexpected argument ${argv[i]}: every value follows its option, e.g. --practice demo-practice.`;
    const name = match[1] as O;
    if (!known.includes(name)) return `Unknown option --${match[1]}: the options are ${known.map((o) => `--${o}`).join(', ')}.`;
    if (options[name] !== undefined) return `--${name} is given twice: give it once.`;
    const value = match[2] ?? argv[++i];
    if (value === undefined || value.trim() === '' || (match[2] === undefined && value.startsWith('--'))) return `--${name} needs a value.`;
    options[name] = value;
  }
  return options;
}
