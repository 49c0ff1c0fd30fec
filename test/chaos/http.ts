import { createRandom } from '../../src/simulator/random';

/** Loopback HTTP for the harness: every call bounded in time; no reply at all is status 0, never a throw. */
export interface Reply<T = any> {
  status: number;
  body: T;
  /** The API's machine-readable error code, when it sent one. */
  code: string | null;
}

export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const code = typeof body === 'object' && body !== null && typeof body.error?.code === 'string' ? (body.error.code as string) : null;
    return { status: response.status, body, code };
  } catch (error) {
    return { status: 0, body: null as T, code: (error as Error).name === 'TimeoutError' ? 'CLIENT_TIMEOUT' : 'NO_REPLY' };
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The simulator's seeded generator (mulberry32), so a printed seed replays the same schedule of decisions. */
export function seededRandom(seed: number) {
  const random = createRandom(seed);
  return {
    ...random,
    weighted: <T extends string>(weights: Readonly<Record<T, number>>): T => {
      const entries = Object.entries(weights) as [T, number][];
      let roll = random.next() * entries.reduce((sum, [, weight]) => sum + weight, 0);
      for (const [item, weight] of entries) {
        roll -= weight;
        if (roll < 0) return item;
      }
      return entries[entries.length - 1][0];
    },
  };
}

export type SeededRandom = ReturnType<typeof seededRandom>;
