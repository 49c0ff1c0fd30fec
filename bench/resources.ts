import { readFileSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Client } from 'pg';

/**
 * Where the CPU went during a measured phase: this Node process (API + activities + simulator +
 * the bench's own HTTP client, all on one event loop), the Temporal dev server child, the
 * PostgreSQL backends serving the bench database, and the whole machine. Linux /proc only;
 * anything unreadable is reported as NaN rather than failing the run.
 */
const CLOCK_TICKS_PER_SECOND = 100;

interface Snapshot {
  at: number;
  elu: EventLoopUtilization;
  nodeCpu: NodeJS.CpuUsage;
  temporalTicks: number;
  pgTicks: Map<number, number>;
  processTicks: Map<number, number>;
  machine: { busy: number; total: number } | null;
}

export interface ResourceUse {
  /** Share of wall time the main event loop was busy (0..1). */
  eventLoopUtilization: number;
  /** CPU in "% of one core" (200% = both cores of a 2-core machine). */
  nodeCpuPct: number;
  temporalCpuPct: number;
  postgresCpuPct: number;
  /** Worker processes of a multi-process layout (ResourceMeter.watchProcesses); 0 when none. */
  workerProcessesCpuPct: number;
  machineBusyPct: number;
}

function processTicks(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = values.reduce((sum, v) => sum + v, 0);
    const idle = values[3] + values[4];
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export class ResourceMeter {
  private constructor(
    private readonly temporalPid: number | undefined,
    private readonly pg: Client | null,
    private readonly database: string,
  ) {}

  private watched: number[] = [];

  /** Counts these processes (a layout's separate worker processes) from the next snapshot on; [] stops. */
  watchProcesses(pids: number[]): void {
    this.watched = pids;
  }

  static async create(options: { temporalPid: number | undefined; databaseUrl: string }): Promise<ResourceMeter> {
    const database = decodeURIComponent(new URL(options.databaseUrl).pathname.slice(1));
    let pg: Client | null = new Client({ connectionString: options.databaseUrl });
    try {
      await pg.connect();
    } catch {
      pg = null;
    }
    return new ResourceMeter(options.temporalPid, pg, database);
  }

  private async pgPids(): Promise<number[]> {
    if (!this.pg) return [];
    try {
      const { rows } = await this.pg.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [this.database]);
      return rows.map((row) => row.pid);
    } catch {
      return [];
    }
  }

  async snapshot(): Promise<Snapshot> {
    const pids = await this.pgPids();
    return {
      at: performance.now(),
      elu: performance.eventLoopUtilization(),
      nodeCpu: process.cpuUsage(),
      temporalTicks: processTicks(this.temporalPid),
      pgTicks: new Map(pids.map((pid) => [pid, processTicks(pid)])),
      processTicks: new Map(this.watched.map((pid) => [pid, processTicks(pid)])),
      machine: machineTicks(),
    };
  }

  async since(start: Snapshot): Promise<ResourceUse> {
    const end = await this.snapshot();
    const wallSeconds = (end.at - start.at) / 1000;
    const cpu = process.cpuUsage(start.nodeCpu);
    let pgDelta = 0;
    let pgKnown = false;
    for (const [pid, ticks] of end.pgTicks) {
      if (!Number.isFinite(ticks)) continue;
      const before = start.pgTicks.get(pid);
      pgDelta += ticks - (before !== undefined && Number.isFinite(before) ? before : 0);
      pgKnown = true;
    }
    let watchedDelta = 0;
    for (const [pid, ticks] of end.processTicks) {
      const before = start.processTicks.get(pid);
      if (Number.isFinite(ticks) && before !== undefined && Number.isFinite(before)) watchedDelta += ticks - before;
    }
    const ticksPct = (ticks: number) => (ticks / CLOCK_TICKS_PER_SECOND / wallSeconds) * 100;
    const machine =
      start.machine && end.machine && end.machine.total > start.machine.total
        ? ((end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total)) * 100
        : Number.NaN;
    return {
      eventLoopUtilization: performance.eventLoopUtilization(end.elu, start.elu).utilization,
      nodeCpuPct: ((cpu.user + cpu.system) / 1e6 / wallSeconds) * 100,
      temporalCpuPct: ticksPct(end.temporalTicks - start.temporalTicks),
      postgresCpuPct: pgKnown ? ticksPct(pgDelta) : Number.NaN,
      workerProcessesCpuPct: ticksPct(watchedDelta),
      // /proc/stat sums all cores: scale to "% of one core" like the others.
      machineBusyPct: machine * (end.machine ? coreCount() : 1),
    };
  }

  async close(): Promise<void> {
    await this.pg?.end().catch(() => undefined);
  }
}

function coreCount(): number {
  try {
    return readFileSync('/proc/stat', 'utf8').split('\n').filter((line) => /^cpu\d+ /.test(line)).length || 1;
  } catch {
    return 1;
  }
}
