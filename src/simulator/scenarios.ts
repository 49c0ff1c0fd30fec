import { z } from 'zod';

/**
 * Scripted scenarios: `POST /control/:tenant/scenario {name, ...}`, for handler_api and 5sim
 * tenants alike. Each one is a named, documented bundle of behaviour that tests and demos ask for
 * by name instead of wiring faults and settings by hand. A scenario stays armed until it has
 * fired as often as asked, until `DELETE /control/:tenant/scenario`, or until the tenant resets.
 *
 * - `stock-runs-out` `{afterPurchases, service?, country?}`: after `afterPurchases` more
 *   successful purchases (of this service / in this country when given), every matching offer's
 *   stock drops to 0, so the next buy gets `NO_NUMBERS` / `no free phones`. `0` empties it now.
 * - `latency` `{ms}`: every call to the tenant waits `ms` before it is served (the tenant's
 *   `latencyMs` setting; `0` turns it off).
 * - `5xx-burst` `{calls, status = 503, action?}`: the next `calls` calls (of `action` when given)
 *   answer `status` with an nginx-style error page instead of being served.
 * - `timeouts` `{calls, hangMs = 30000, action?}`: the next `calls` calls get no answer: the
 *   connection is held `hangMs` (past any sane client timeout), then dropped. The call is never
 *   served, so nothing is bought or changed by it.
 * - `sms-after-expiry` `{activationId?, code?, text?, times = 1}`: an SMS arrives after the
 *   activation ended without a code (cancelled, expired, banned). With `activationId` it is that
 *   activation (at once if it has already ended, else when it ends); without, the next `times`
 *   activations that end that way. The SMS is recorded on the activation (`lateSms` in the
 *   control view) but never shown by the protocol, and it is posted to the tenant's webhook
 *   when one is set (SMS-Activate shape, for both protocols) — so SimGate sees a code for an
 *   activation it has already refunded.
 * - `wrong-code` `{mode = 'mismatch', times = 1}`: the next `times` SMS carry a bad parsed code.
 *   `mismatch`: the `code` field differs from the code in the text (every digit shifted by one);
 *   `empty`: `code` is `""` and the code is only in the text (5sim does this).
 */
const int = (min: number) => z.number().int().min(min);
const activationId = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);
const action = z.string().min(1).optional();

export const scenarioSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('stock-runs-out'), afterPurchases: int(0), service: z.string().min(1).optional(), country: z.string().min(1).optional() }),
  z.strictObject({ name: z.literal('latency'), ms: int(0).max(60_000) }),
  z.strictObject({ name: z.literal('5xx-burst'), calls: int(1), status: int(500).max(599).default(503), action }),
  z.strictObject({ name: z.literal('timeouts'), calls: int(1), hangMs: int(1).max(120_000).default(30_000), action }),
  z.strictObject({
    name: z.literal('sms-after-expiry'),
    activationId: activationId.optional(),
    code: z.string().min(1).max(32).optional(),
    text: z.string().min(1).max(1000).optional(),
    times: int(1).default(1),
  }),
  z.strictObject({ name: z.literal('wrong-code'), mode: z.enum(['mismatch', 'empty']).default('mismatch'), times: int(1).default(1) }),
]);

export type Scenario = z.infer<typeof scenarioSchema>;
export type WrongCodeMode = 'mismatch' | 'empty';

export interface LateSms {
  code?: string;
  text?: string;
}

interface StockRunsOut {
  remaining: number;
  service?: string;
  country?: string;
}

/** The armed, stateful scenarios of one tenant (latency, 5xx and timeouts live in settings and faults). */
export class ScenarioBook {
  private stockRunsOut: StockRunsOut[] = [];
  private lateSms: Array<LateSms & { remaining: number }> = [];
  private readonly lateSmsFor = new Map<number, LateSms>();
  private wrongCode: Array<{ mode: WrongCodeMode; remaining: number }> = [];

  clear(): void {
    this.stockRunsOut = [];
    this.lateSms = [];
    this.lateSmsFor.clear();
    this.wrongCode = [];
  }

  armStockRunsOut(trigger: StockRunsOut): void {
    this.stockRunsOut.push({ ...trigger });
  }

  /** Counts one purchase; returns the filters whose countdown has just reached zero. */
  purchased(service: string, country: string): Array<{ service?: string; country?: string }> {
    const fired: Array<{ service?: string; country?: string }> = [];
    for (const trigger of this.stockRunsOut) {
      if ((trigger.service !== undefined && trigger.service !== service) || (trigger.country !== undefined && trigger.country !== country)) continue;
      trigger.remaining -= 1;
      if (trigger.remaining <= 0) fired.push({ service: trigger.service, country: trigger.country });
    }
    this.stockRunsOut = this.stockRunsOut.filter((trigger) => trigger.remaining > 0);
    return fired;
  }

  armLateSms(sms: LateSms, times: number): void {
    this.lateSms.push({ ...sms, remaining: times });
  }

  armLateSmsFor(id: number, sms: LateSms): void {
    this.lateSmsFor.set(id, sms);
  }

  /** The late SMS due for an activation that has just ended without a code, if one is armed. */
  takeLateSms(id: number): LateSms | undefined {
    const specific = this.lateSmsFor.get(id);
    if (specific) {
      this.lateSmsFor.delete(id);
      return specific;
    }
    const next = this.lateSms[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) this.lateSms.shift();
    return { code: next.code, text: next.text };
  }

  armWrongCode(mode: WrongCodeMode, times: number): void {
    this.wrongCode.push({ mode, remaining: times });
  }

  takeWrongCode(): WrongCodeMode | undefined {
    const next = this.wrongCode[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) this.wrongCode.shift();
    return next.mode;
  }

  list() {
    return {
      stockRunsOut: this.stockRunsOut.map((trigger) => ({ ...trigger })),
      smsAfterExpiry: [
        ...[...this.lateSmsFor].map(([id, sms]) => ({ activationId: id, ...sms })),
        ...this.lateSms.map((sms) => ({ ...sms })),
      ],
      wrongCode: this.wrongCode.map((entry) => ({ ...entry })),
    };
  }
}

/** `mismatch`: the same length, every digit shifted by one, so it never equals the real code. */
export function mismatchedCode(code: string): string {
  const shifted = code.replace(/\d/g, (digit) => String((Number(digit) + 1) % 10));
  return shifted === code ? `${code}1` : shifted;
}

/** The error page a 5xx burst serves: what a reverse proxy in front of a provider sends. */
export function outagePage(status: number): string {
  const reason = status === 502 ? 'Bad Gateway' : status === 503 ? 'Service Temporarily Unavailable' : status === 504 ? 'Gateway Time-out' : 'Internal Server Error';
  return `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}
