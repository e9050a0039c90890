/**
 * Structured JSON logs, one line per event. Callers pass ids, codes and timings only: never names, dates of birth,
 * MRNs, free text or tokens (a test searches everything the server prints for canary PHI).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel | 'silent', write: (line: string) => void = (line) => process.stdout.write(line + '\n')): Logger {
  return {
    log(at, event, fields = {}) {
      if (ORDER[at] < ORDER[level]) return;
      write(JSON.stringify({ time: new Date().toISOString(), level: at, event, ...fields }));
    },
  };
}

/** An operation name as a log line may carry it: a valid GraphQL name of at most 100 characters, else null. */
export function loggableOperationName(name: unknown): string | null {
  return typeof name === 'string' && /^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name) ? name : null;
}

/** What an unexpected error may say in a log: its class and code, and a stack trimmed to our own frames. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { errorType: typeof error };
  const code = (error as { code?: unknown }).code;
  return {
    errorType: error.constructor.name,
    ...(typeof code === 'string' ? { errorCode: code } : {}),
    stack: error.stack?.split('\n').slice(1, 6).map((l) => l.trim()),
  };
}
