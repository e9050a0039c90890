/**
 * Programs run the way a deployer runs them (`npm start`, `node dist/src/main.js`, the CLIs), for tests that check
 * what they print, their exit codes and what happens to their processes.
 */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  process: ChildProcess;
  /** The URL the server printed ("PR ledger listening on <url>"). */
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

function collect(child: ChildProcess): { stdout: () => string; stderr: () => string; exited: Promise<Exit> } {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  // Its output is complete once its pipes close, but a process it left behind may hold them open: wait a moment at most.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', async (code, signal) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((later) => (timer = setTimeout(later, 1000)))]);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs a program to its end, killing it after `timeoutMs` (the exit then shows the signal). */
export function runToExit(command: string, args: string[], options: SpawnOptions, timeoutMs = 60_000): Promise<Exit> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return collect(child).exited.finally(() => clearTimeout(timer));
}

/** Starts a server and resolves once it prints where it listens; rejects with its output if it exits or stalls first. */
export function startListening(command: string, args: string[], options: SpawnOptions, timeoutMs = 60_000): Promise<Running> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => {
      const url = /listening on (http:\/\/\S+)/.exec(output.stdout())?.[1];
      if (url) {
        clearInterval(poll);
        resolve({ process: child, url, ...output });
      } else if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`${command} ${args.join(' ')} did not start (exit ${child.exitCode ?? child.signalCode ?? 'none'}):\n${output.stdout()}${output.stderr()}`));
      }
    }, 25);
  });
}

/** Every process below `pid` now, children first (Linux /proc): for npm, the shell of a script and the server. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (command) state ppid ...": the command may hold spaces and parentheses, so read after the last ")".
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while the list was read.
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, itsParent] of parentOf) {
      if (itsParent !== parent) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** Whether the process still runs (a zombie, ended but not yet reaped, does not). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
