import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';

/**
 * The chaos harness's real processes: API and worker as `node --import tsx src/bin/*.ts`
 * (one process each, so a SIGKILL really kills the code that was running), a private
 * redis-server and a persisted Temporal dev server. Every child is registered here so that
 * whatever ends the harness — success, a thrown error, Ctrl-C — kills them all.
 */

const ROOT = path.resolve(__dirname, '../..');
const live = new Set<ChildProcess>();

function killAllNow(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

let guardsInstalled = false;
/** On Ctrl-C, SIGTERM or the harness's own exit, no child outlives it. */
export function installExitGuards(): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: killing the chaos harness's processes\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A SimGate entry point the harness can kill and start again. Its output is appended to one log
 * file across restarts; `exits` counts exits the harness did not ask for (a crash is a finding).
 */
export class NodeService {
  private child: ChildProcess | null = null;
  private readonly log: WriteStream;
  private expectingExit = false;
  unplannedExits = 0;
  starts = 0;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
    /** A line of output that means "ready". */
    private readonly readyLine: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  /** The running process's id (for a CPU meter reading /proc), while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once it printed its ready line (or rejects when it exits first). */
  async start(timeoutMs = 90_000): Promise<void> {
    if (this.running) return;
    this.starts += 1;
    this.expectingExit = false;
    const child = track(spawn(process.execPath, ['--import', 'tsx', this.entry], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child = child;
    this.log.write(`\n---- ${new Date().toISOString()} start #${this.starts} (pid ${child.pid}) ----\n`);
    let seen = '';
    let isReady = false;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready within ${timeoutMs} ms`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        this.log.write(chunk);
        if (isReady) return;
        seen = (seen + chunk.toString()).slice(-10_000);
        if (seen.includes(this.readyLine)) {
          isReady = true;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.log.write(`\n---- exit code ${code} signal ${signal} ----\n`);
        if (!this.expectingExit) this.unplannedExits += 1;
        reject(new Error(`${this.name} exited (${code ?? signal}) before it was ready; see its log`));
      });
    });
    await ready;
  }

  /** SIGKILL: no shutdown hooks, in-flight activities die mid-call. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectingExit = true;
    child.kill('SIGKILL');
    await exited(child);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectingExit = true;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited(child);
    clearTimeout(force);
  }

  close(): void {
    this.log.end();
  }
}

/** A redis-server of the harness's own on a free port: restarting it disturbs nobody else's tests. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  restarts = 0;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = track(
      spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${this.port}: ${output}`)), 15_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      const probe = async () => {
        if (child.exitCode !== null) return;
        if (await pingRedis(this.port)) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(() => void probe(), 100);
      };
      void probe();
    });
  }

  /** Killed outright, data gone (no persistence): what a crashed cache looks like to its clients. */
  async restart(downMs: number): Promise<void> {
    this.restarts += 1;
    await this.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited(child);
  }
}

async function pingRedis(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The Temporal dev server on one port and one SQLite file, so a restart keeps every history. */
export class PersistedTemporal {
  private server: DevServer | null = null;
  restarts = 0;

  constructor(
    readonly port: number,
    readonly dbFile: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `fast` (synchronous=OFF) loses nothing here: the harness stops the server with SIGTERM, the OS keeps the file. */
  async start(): Promise<void> {
    this.server = await startDevServer({ port: this.port, dbFile: this.dbFile, headless: true, fast: true });
    track(this.server.process);
  }

  async restart(downMs: number): Promise<void> {
    this.restarts += 1;
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = null;
  }
}

/** Kills every child still running; for the harness's finally. */
export function killAll(): void {
  killAllNow();
}
