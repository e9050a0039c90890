/**
 * Shared helpers for the benchmarks: clocks, statistics, tables, rounds, a keep-alive HTTP client, a closed-loop load
 * generator, child processes (pinned to a CPU, with a tiny request/response protocol over IPC), tokens, GraphQL calls
 * and throwaway PostgreSQL databases.
 *
 * Method (docs/operations.md §6): every number is printed next to a baseline measured in the same run
 * on the same box, with the ratio; one warm-up round first, then the median of 3 measured rounds. Servers run in their
 * own processes pinned to CPU 0, the load generator and WebSocket clients on CPU 1 (BENCH_PIN=0 turns pinning off).
 * Loopback only; every loop is bounded by a count and a time.
 */
import 'reflect-metadata';
import { ChildProcess, fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client as PgClient } from 'pg';
import { signToken } from '../src/auth/tokens';
import type { Role } from '../src/auth/roles';
import { MAX_LINES_PER_CHARGE, MAX_WRITE_OFFS_PER_LINE } from '../src/ledger/limits';

export const BENCH_SECRET = 'bench-secret-that-is-long-enough-for-hs256-signing-0123456789';

// ---------------------------------------------------------------------------------------------------------------- clock

/** Milliseconds on the wall clock with sub-millisecond resolution; comparable between processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ----------------------------------------------------------------------------------------------------------- statistics

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median and spread (min–max) of one metric over the measured rounds. */
export function summarize(values: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

// --------------------------------------------------------------------------------------------------------------- output

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ratio(value: number, baseline: number, digits = 2): string {
  return baseline > 0 && Number.isFinite(value) ? `${fmt(value / baseline, digits)}×` : 'n/a';
}

/** "median (min–max)" of a round metric. */
export function spread(values: readonly number[], digits = 1): string {
  const s = summarize(values);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

export function printTable(title: string, headers: string[], rows: (string | number)[][], notes: string[] = []): void {
  const cells = rows.map((row) => row.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (cols: string[]) => `| ${cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of cells) console.log(line(row));
  for (const note of notes) console.log(`  ${note}`);
}

/** "2 × <CPU model>": the core count and model a result was measured on. */
export function cpus(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`;
}

export function header(title: string): void {
  console.log(`# ${title}`);
  console.log(`node ${process.version}, ${cpus()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`);
  console.log(`storage for temp files: ${describeStorage(os.tmpdir())}`);
  console.log(`pinning: ${pinningEnabled() ? 'servers on CPU 0, load generator and WebSocket clients on CPU 1 (taskset)' : 'off'}`);
  console.log(`method: 1 warm-up round, then the median of ${ROUNDS} rounds (spread min–max in brackets where shown)`);
  console.log(`load average at start: ${loadAverage()} (anything else running on this box skews the absolute numbers; ratios are same-run)`);
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}

function describeStorage(dir: string): string {
  const result = spawnSync('df', ['-T', dir], { encoding: 'utf8' });
  const fields = result.stdout?.trim().split('\n').pop()?.split(/\s+/) ?? [];
  return fields.length >= 2 ? `${dir} on ${fields[0]} (${fields[1]})` : dir;
}

// --------------------------------------------------------------------------------------------------------------- rounds

/** A positive whole number from the environment (a bench's size knob), or `fallback` when unset. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, not ${JSON.stringify(raw)}`);
  return value;
}

/** Measured rounds after the warm-up: 3 (docs/operations.md §6); BENCH_ROUNDS=1 for a quick check that a bench runs. */
export const ROUNDS = envCount('BENCH_ROUNDS', 3);

/** One warm-up round (its result is dropped), then ROUNDS measured rounds. */
export async function rounds<T>(run: (round: number) => Promise<T>): Promise<T[]> {
  await run(0);
  const results: T[] = [];
  for (let round = 1; round <= ROUNDS; round++) results.push(await run(round));
  return results;
}

// ----------------------------------------------------------------------------------------------------------------- HTTP

export interface HttpResult {
  status: number;
  body: string;
}

/** A keep-alive HTTP client for one origin; at most `sockets` connections, reused. */
export class HttpClient {
  readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(origin: string, sockets = 64) {
    const url = new URL(origin);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(method: 'GET' | 'POST', pathname: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          path: pathname,
          method,
          agent: this.agent,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length, ...headers } : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${method} ${pathname}`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A GraphQL client over HTTP for one server and one caller. */
export class GraphQLHttp {
  readonly http: HttpClient;
  private readonly path: string;

  constructor(
    readonly url: string,
    private readonly token: string,
    sockets = 64,
  ) {
    this.http = new HttpClient(url, sockets);
    this.path = new URL(url).pathname;
  }

  /** The request body, serialised once so a load loop can reuse it. */
  static body(query: string, variables: Record<string, unknown> = {}): Buffer {
    return Buffer.from(JSON.stringify({ query, variables }));
  }

  post(body: Buffer): Promise<HttpResult> {
    return this.http.request('POST', this.path, body, { authorization: `Bearer ${this.token}` });
  }

  /** Sends one operation and returns `data`, or throws with the errors. */
  async ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await this.post(GraphQLHttp.body(query, variables));
    const parsed = JSON.parse(res.body) as { data?: T; errors?: unknown[] };
    if (res.status !== 200 || parsed.errors?.length || !parsed.data) throw new Error(`GraphQL ${res.status}: ${res.body.slice(0, 500)}`);
    return parsed.data;
  }

  close(): void {
    this.http.close();
  }
}

/** Values that arrive by key (a balance version), possibly before anyone waits for them. */
export class Arrivals<T> {
  private readonly values = new Map<number, T>();
  private readonly waiters = new Map<number, (value: T) => void>();

  set(key: number, value: T): void {
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter(value);
    } else this.values.set(key, value);
  }

  wait(key: number, timeoutMs = 10_000): Promise<T> {
    if (this.values.has(key)) {
      const value = this.values.get(key)!;
      this.values.delete(key);
      return Promise.resolve(value);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`version ${key} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }

  clear(): void {
    this.values.clear();
  }
}

// ------------------------------------------------------------------------------------------------------- load generator

export interface LoadResult {
  ok: number;
  failed: number;
  elapsedMs: number;
  perSecond: number;
  latenciesMs: number[];
  firstFailure?: string;
}

/**
 * A closed loop: `concurrency` workers each send a request, wait for the answer, send the next, until `durationMs`
 * has passed or `maxOps` requests were started. `send(i)` returns null when the answer is right, else why not.
 */
export async function closedLoop(options: { concurrency: number; durationMs: number; maxOps: number; send: (i: number) => Promise<string | null> }): Promise<LoadResult> {
  const { concurrency, durationMs, maxOps, send } = options;
  const latencies: number[] = [];
  let started = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const start = now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (now() < deadline && started < maxOps) {
      const i = started++;
      const t0 = now();
      let problem: string | null;
      try {
        problem = await send(i);
      } catch (error) {
        problem = String(error);
      }
      latencies.push(now() - t0);
      if (problem === null) ok++;
      else {
        failed++;
        firstFailure ??= problem;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = now() - start;
  return { ok, failed, elapsedMs, perSecond: (ok / elapsedMs) * 1000, latenciesMs: latencies, firstFailure };
}

// ----------------------------------------------------------------------------------------------------- child processes

export function pinningEnabled(): boolean {
  return process.env.BENCH_PIN !== '0' && os.cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;
}

/** Pins a process and all its threads (threads started later inherit it) to one CPU. */
export function pin(pid: number, cpu: number): void {
  if (pinningEnabled()) spawnSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
}

interface RpcMessage {
  rpc?: number;
  cmd?: string;
  args?: unknown;
  result?: unknown;
  error?: string;
  event?: string;
  [key: string]: unknown;
}

/** A forked bench process that answers `call(cmd, args)` and may push events. */
let profiled = 0;

export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners = new Map<string, ((message: RpcMessage) => void)[]>();
  /** Add this to the child's `now()` to get the parent's clock (see `calibrate`). */
  clockOffsetMs = 0;
  private exited = false;

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on('message', (message: RpcMessage) => {
      if (message.rpc !== undefined && this.pending.has(message.rpc)) {
        const waiter = this.pending.get(message.rpc)!;
        this.pending.delete(message.rpc);
        if (message.error) waiter.reject(new Error(`${name}: ${message.error}`));
        else waiter.resolve(message.result);
      } else if (message.event) {
        for (const listener of this.listeners.get(message.event) ?? []) listener(message);
      }
    });
    process.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /** Forks `dist/bench/<script>.js`, pinned to `cpu`. */
  static start(name: string, script: string, options: { cpu: number; env?: Record<string, string>; execArgv?: string[] }): Child {
    // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every child process (servers and clients) there when it exits.
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${name}-${++profiled}.cpuprofile`] : [];
    const child = fork(path.join(__dirname, `${script}.js`), [], {
      env: { ...process.env, ...options.env },
      execArgv: [...(options.execArgv ?? []), ...profile],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (child.pid) pin(child.pid, options.cpu);
    return new Child(name, child);
  }

  call<T = unknown>(cmd: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ rpc: id, cmd, args });
    });
  }

  on(event: string, listener: (message: RpcMessage) => void): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return () => list.splice(list.indexOf(listener) >>> 0, 1);
  }

  /** Estimates the offset between the child's clock and ours from the round trip with the smallest delay. */
  async calibrate(samples = 25): Promise<number> {
    let best = { rtt: Infinity, offset: 0 };
    for (let i = 0; i < samples; i++) {
      const t0 = now();
      const theirs = await this.call<number>('clock');
      const t1 = now();
      if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: (t0 + t1) / 2 - theirs };
    }
    this.clockOffsetMs = best.offset;
    return best.offset;
  }

  /** A time the child reported, on our clock. */
  toLocal(childTime: number): number {
    return childTime + this.clockOffsetMs;
  }

  /** Asks the child to close what it runs and exit; kills it if it has not exited 10 s later. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    await this.call('exit', {}, 10_000).catch(() => undefined);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The child side: answers each command with its handler's result; 'clock' and 'exit' are built in. */
export function serveParent(handlers: Record<string, (args: any) => unknown | Promise<unknown>>, onExit: () => Promise<void> = async () => undefined): void {
  if (!process.send) throw new Error('this script is started by a benchmark (child_process.fork), not directly');
  process.on('disconnect', () => void onExit().finally(() => process.exit(0)));
  process.on('message', async (message: RpcMessage) => {
    if (message.rpc === undefined || !message.cmd) return;
    if (message.cmd === 'clock') return process.send!({ rpc: message.rpc, result: now() });
    if (message.cmd === 'exit') {
      await onExit().catch(() => undefined);
      process.send!({ rpc: message.rpc, result: true }, () => process.exit(0));
      return;
    }
    const handler = handlers[message.cmd];
    try {
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      process.send!({ rpc: message.rpc, result: (await handler(message.args)) ?? null });
    } catch (error) {
      process.send!({ rpc: message.rpc, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}

export function emit(event: string, fields: Record<string, unknown>): void {
  process.send?.({ event, ...fields });
}

/** Full GCs spread over a second (the children run with --expose-gc) so freed pages go back, then this process's memory. */
export async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 5; i++) {
    gc?.();
    await sleep(200);
  }
  return process.memoryUsage();
}

// ---------------------------------------------------------------------------------------------------- tokens, servers

export function token(practiceId: string, role: Role = 'BILLING_MANAGER', sub = 'bench-user'): Promise<string> {
  return signToken(BENCH_SECRET, { sub, practiceId, role }, { expiresIn: '2h' });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ledger-bench-${prefix}-`));
}

/**
 * The environment a benchmark server runs with: production mode (introspection off, no demo seed), logs off, none of
 * the per-caller limits (mutations, queries, subscriptions per second, open connections: the benchmarks are one
 * caller at full speed, with up to 1,000 sockets), SQL statements counted.
 */
export function serverEnv(dir: string, database: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    DATABASE_URL: database,
    AUTH_JWT_SECRET: BENCH_SECRET,
    SEED_DEMO: 'false',
    LOG_LEVEL: process.env.BENCH_SERVER_LOG ?? 'silent', // e.g. BENCH_SERVER_LOG=warn to see server errors
    MUTATION_RATE_LIMIT: '0',
    QUERY_RATE_LIMIT: '0',
    SUBSCRIPTION_RATE_LIMIT: '0',
    MAX_CONNECTIONS_PER_CALLER: '0',
    DATABASE_COUNT_QUERIES: 'true',
    ...extra,
  };
}

/** A server (GraphQL, or a baseline) in its own process pinned to CPU 0; `start` returns its URL. */
export async function startServerProcess(name: string, mode: string, args: Record<string, unknown>, env: Record<string, string> = {}): Promise<{ child: Child; url: string }> {
  const child = Child.start(name, 'server-process', { cpu: 0, env, execArgv: ['--expose-gc'] });
  const { url } = await child.call<{ url: string }>('start', { mode, ...args });
  await child.calibrate();
  return { child, url };
}

// ---------------------------------------------------------------------------------------------------------- ledger data

export const CREATE_PATIENT = `mutation($input: CreatePatientInput!) { createPatient(input: $input) { patient { id } userErrors { code message } } }`;
export const CREATE_CHARGE = `mutation($input: CreateChargeInput!) { createCharge(input: $input) { charge { id responsibilities { id } } userErrors { code message } } }`;
export const WRITE_OFF = `mutation($input: WriteOffInput!) { writeOff(input: $input) { writeOff { id } balance { version } userErrors { code message } } }`;

export const BALANCE_FIELDS = 'patientId outstandingCents responsibilityCents paidCents writtenOffCents creditCents version updatedAt';
export const BALANCE_SUBSCRIPTION = `subscription($patientId: ID!) { patientBalanceChanged(patientId: $patientId) { ${BALANCE_FIELDS} } }`;

export async function createPatient(api: GraphQLHttp, name: string): Promise<string> {
  const data = await api.ok<{ createPatient: { patient: { id: string } | null; userErrors: unknown[] } }>(CREATE_PATIENT, {
    input: { firstName: 'Bench', lastName: name },
  });
  if (!data.createPatient.patient) throw new Error(`createPatient refused: ${JSON.stringify(data.createPatient.userErrors)}`);
  return data.createPatient.patient.id;
}

/** A charge with STAFF lines of the given amounts; returns the line ids. */
export async function createCharge(api: GraphQLHttp, patientId: string, lines: number[], serviceDate = '2026-01-15', billedCents = 1_000_000_000): Promise<string[]> {
  const data = await api.ok<{ createCharge: { charge: { responsibilities: { id: string }[] } | null; userErrors: unknown[] } }>(CREATE_CHARGE, {
    input: { patientId, serviceDate, procedureCode: '99213', billedCents, responsibilities: lines.map((amountCents) => ({ kind: 'CUSTOM', amountCents })) },
  });
  if (!data.createCharge.charge) throw new Error(`createCharge refused: ${JSON.stringify(data.createCharge.userErrors)}`);
  return data.createCharge.charge.responsibilities.map((r) => r.id);
}

/** A write-off request body for one cent on a line: accepted again and again until the line is used up. */
export function writeOffBody(responsibilityId: string, amountCents = 1): Buffer {
  return GraphQLHttp.body(WRITE_OFF, { input: { responsibilityId, amountCents, reason: 'SMALL_BALANCE' } });
}

/** Null when a write-off answer shows an accepted write-off, else what went wrong. */
export function writeOffProblem(res: HttpResult): string | null {
  if (res.status !== 200) return `HTTP ${res.status}: ${res.body.slice(0, 200)}`;
  if (!res.body.includes('"userErrors":[]') || res.body.includes('"errors"')) return res.body.slice(0, 300);
  return null;
}

/** One write-off that must be accepted (setup, not timed). */
export async function writeOff(api: GraphQLHttp, responsibilityId: string, amountCents = 1): Promise<void> {
  const problem = writeOffProblem(await api.post(writeOffBody(responsibilityId, amountCents)));
  if (problem) throw new Error(`write-off refused: ${problem}`);
}

export const PATIENT_VERSION = `query($id: ID!) { patient(id: $id) { balance { version } } }`;

/** Each patient's balance version, read over the API 8 at a time (setup and checks, not timed). */
export async function patientVersions(api: GraphQLHttp, patientIds: readonly string[]): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  await inBatches([...patientIds], 8, async (id) => {
    const data = await api.ok<{ patient: { balance: { version: number } } | null }>(PATIENT_VERSION, { id });
    if (!data.patient) throw new Error(`patient ${id} not found`);
    versions.set(id, data.patient.balance.version);
  });
  return versions;
}

export const RECORD_PAYMENT = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } userErrors { code message } } }`;

/** A card payment spread over lines, `amountCents` more than the allocations left as credit; must be accepted. */
export async function recordPayment(api: GraphQLHttp, patientId: string, allocations: { responsibilityId: string; amountCents: number }[], creditCents = 0): Promise<void> {
  const amountCents = allocations.reduce((sum, a) => sum + a.amountCents, creditCents);
  const data = await api.ok<{ recordPayment: { payment: unknown; userErrors: unknown[] } }>(RECORD_PAYMENT, { input: { patientId, amountCents, method: 'CARD', allocations } });
  if (!data.recordPayment.payment) throw new Error(`recordPayment refused: ${JSON.stringify(data.recordPayment.userErrors)}`);
}

/** Runs `fn` over `items`, `width` at a time. */
export async function inBatches<T>(items: T[], width: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map((item, j) => fn(item, i + j)));
}

/** Cents on each line a write-off load runs on: room for MAX_WRITE_OFFS_PER_LINE write-offs of 1 cent, and more. */
const WRITE_OFF_LINE_CENTS = 100_000;

/** New lines on a patient with room for `writeOffs` 1-cent write-offs: charges of MAX_LINES_PER_CHARGE lines, as many as that takes. */
export async function writeOffLines(api: GraphQLHttp, patientId: string, writeOffs: number): Promise<string[]> {
  const lines: string[] = [];
  for (let c = 0; c < Math.max(1, Math.ceil(writeOffs / (MAX_LINES_PER_CHARGE * MAX_WRITE_OFFS_PER_LINE))); c++) {
    lines.push(...(await createCharge(api, patientId, Array(MAX_LINES_PER_CHARGE).fill(WRITE_OFF_LINE_CENTS))));
  }
  return lines;
}

/**
 * 1-cent write-off request bodies over the PR lines of some patients: consecutive ones on different patients (line k
 * of every patient, then line k+1, ...), and no line asked for more than the MAX_WRITE_OFFS_PER_LINE write-offs it
 * can hold, so a long or fast run never turns into TOO_MANY_ITEMS refusals.
 */
export class WriteOffSupply {
  private readonly bodies: Buffer[] = [];
  private taken = 0;
  readonly capacity: number;

  /** `usedPerLine`: write-offs every line already holds. */
  constructor(linesOfPatient: readonly string[][], usedPerLine = 0) {
    const depth = Math.max(0, ...linesOfPatient.map((lines) => lines.length));
    for (let k = 0; k < depth; k++) for (const lines of linesOfPatient) if (k < lines.length) this.bodies.push(writeOffBody(lines[k]));
    this.capacity = this.bodies.length * Math.max(0, MAX_WRITE_OFFS_PER_LINE - usedPerLine);
  }

  /** `patients` new patients with room for `writeOffs` write-offs each (setup, 8 patients at a time). */
  static async create(api: GraphQLHttp, options: { patients: number; writeOffs: number; name: string }): Promise<WriteOffSupply> {
    const linesOfPatient: string[][] = [];
    await inBatches(
      Array.from({ length: options.patients }, (_, i) => i),
      8,
      async (i) => (linesOfPatient[i] = await writeOffLines(api, await createPatient(api, `${options.name}${i}`), options.writeOffs)),
    );
    return new WriteOffSupply(linesOfPatient);
  }

  get remaining(): number {
    return this.capacity - this.taken;
  }

  /** What one of the `roundsLeft` rounds still to run may take, so that the last one gets as many as the first. */
  share(roundsLeft: number): number {
    return Math.floor(this.remaining / Math.max(1, roundsLeft));
  }

  take(): Buffer {
    if (this.taken >= this.capacity) throw new Error(`all ${this.capacity} write-offs of this supply were used`);
    return this.bodies[this.taken++ % this.bodies.length];
  }
}

export interface WriteOffRound {
  load: LoadResult;
  /** CPU milliseconds the server process used per write-off. */
  cpuPerOp: number;
  /** SQL statements the server's TypeORM logger counted per write-off (DATABASE_COUNT_QUERIES). */
  statementsPerOp: number;
}

/** One closed-loop round of write-offs from `supply` against a GraphQL server process, with its CPU and statements. */
export async function writeOffRound(server: Child, api: GraphQLHttp, supply: WriteOffSupply, options: { concurrency: number; durationMs: number; roundsLeft: number }): Promise<WriteOffRound> {
  await server.call('cpu');
  const statementsBefore = await server.call<number>('statements');
  const load = await closedLoop({
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    maxOps: supply.share(options.roundsLeft),
    send: async () => writeOffProblem(await api.post(supply.take())),
  });
  const cpu = await server.call<number>('cpu');
  const statements = (await server.call<number>('statements')) - statementsBefore;
  const ops = Math.max(1, load.ok + load.failed);
  return { load, cpuPerOp: cpu / ops, statementsPerOp: statements / ops };
}

// ----------------------------------------------------------------------------------------------------------- PostgreSQL

export { PG_ADMIN_URL } from '../test/scratch-postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The PostgreSQL version and the settings that decide what a commit costs, for the report. */
export async function postgresSettings(url: string): Promise<string> {
  const client = new PgClient({ connectionString: url });
  await client.connect();
  try {
    const row = (await client.query(`SELECT current_setting('server_version') AS v, current_setting('fsync') AS f, current_setting('synchronous_commit') AS s`)).rows[0];
    return `PostgreSQL ${row.v} (fsync=${row.f}, synchronous_commit=${row.s})`;
  } finally {
    await client.end();
  }
}

/** Whether something accepts TCP connections at host:port within `timeoutMs`. */
export function reachable(url: string, defaultPort: number, timeoutMs = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Runs a benchmark's main, closing what it started and exiting non-zero on failure. */
export function main(run: (cleanup: (fn: () => Promise<unknown> | unknown) => void) => Promise<number | void>): void {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const cleanupAll = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch((e) => console.error('cleanup:', e));
  };
  const started = now();
  pin(process.pid, 1);
  run((fn) => cleanups.push(fn))
    .then(async (code) => {
      await cleanupAll();
      console.log(`\ntotal time ${fmt((now() - started) / 1000, 0)} s; load average at end: ${loadAverage()}`);
      process.exit(code ?? 0);
    })
    .catch(async (error) => {
      console.error(`\nFAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      await cleanupAll();
      process.exit(1);
    });
}
