import type { CatalogService } from '../catalog/catalog.service';
import type { ProviderConfig } from '../config/providers.config';
import type { Db } from '../db/client';
import type { Actor, AuditAction, AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { SecretBox } from '../lib/secrets';
import type { ProviderHealth } from './health';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { convertMicros } from '../lib/money';
import { configToRow, PROVIDER_KEY_PURPOSE, PROVIDER_WEBHOOK_SECRET_PURPOSE, sealProviderKey, sealProviderWebhookSecret, type ProviderRegistry } from './registry';

type ProviderRow = Awaited<ReturnType<Db['provider']['findUniqueOrThrow']>>;

export type ProviderPatch = Partial<Omit<ProviderConfig, 'id'>> & { enabled?: boolean };

export interface MarkupOverrideInput {
  serviceCode: string;
  countryIso: string;
  /** null removes the override. */
  markupBps: number | null;
}

export interface TestPurchaseResult {
  providerId: string;
  serviceCode: string;
  countryIso: string;
  /** The number sold (cost in micro-dollars when the provider says), or null when the buy failed. */
  bought: { upstreamId: string; phone: string; costMicros: string | null } | null;
  buyMs: number;
  buyError?: string;
  /** Cancelling it at once: null when nothing was bought; a refusal leaves it to reconciliation. */
  cancel: { ok: boolean; ms: number; error: string | null } | null;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Providers are data: added, re-keyed, enabled and priced by admins, never in code. API keys are
 * write-only (stored encrypted by the registry's sealProviderKey, never returned). Every change
 * is audited with its actor.
 */
export class ProviderAdminService {
  constructor(
    private readonly deps: { db: Db; secrets: SecretBox; audit: AuditLog; catalog: CatalogService; providers: ProviderRegistry; health: ProviderHealth },
  ) {}

  async list() {
    const rows = await this.deps.db.provider.findMany({ orderBy: { id: 'asc' } });
    return Promise.all(rows.map((row) => this.view(row)));
  }

  async create(config: ProviderConfig, actor: Actor) {
    if (await this.deps.db.provider.findUnique({ where: { id: config.id } })) throw new AppError('PROVIDER_EXISTS', `Provider "${config.id}" already exists.`);
    const row = await this.deps.db.provider.create({ data: { id: config.id, ...configToRow(config, this.deps.secrets) } });
    await this.audit(actor, 'admin.provider.create', row.id, { protocol: row.protocol, baseUrl: row.baseUrl });
    return this.view(row);
  }

  async update(id: string, patch: ProviderPatch, actor: Actor) {
    await this.require(id);
    const { apiKey, enabled, ...rest } = patch;
    const row = await this.deps.db.provider.update({
      where: { id },
      data: { ...rest, ...(enabled === undefined ? {} : { enabled }), ...(apiKey ? { apiKey: sealProviderKey(apiKey, this.deps.secrets) } : {}) },
    });
    await this.audit(actor, 'admin.provider.update', row.id, { fields: Object.keys(patch).map((k) => (k === 'apiKey' ? 'apiKey(redacted)' : k)) });
    return this.view(row);
  }

  /** Sets (or with markupBps null removes) a markup override; applied at the next catalog sync. */
  async setMarkup(id: string, input: MarkupOverrideInput, actor: Actor) {
    await this.require(id);
    const where = { providerId: id, serviceCode: input.serviceCode, countryIso: input.countryIso };
    if (input.markupBps === null) await this.deps.db.markupOverride.deleteMany({ where });
    else await this.deps.db.markupOverride.upsert({ where: { providerId_serviceCode_countryIso: where }, create: { ...where, markupBps: input.markupBps }, update: { markupBps: input.markupBps } });
    await this.audit(actor, 'admin.provider.markup', id, { ...input });
    return this.view(await this.deps.db.provider.findUniqueOrThrow({ where: { id } }));
  }

  /** Pulls this provider's prices now (the schedule does it every few minutes anyway). */
  async sync(id: string, actor: Actor) {
    const { config, adapter } = await this.deps.providers.get(id).catch(() => {
      throw new AppError('PROVIDER_NOT_FOUND', 'No such provider with credentials.');
    });
    const result = await this.deps.catalog.syncProviderOffers(config, adapter);
    await this.deps.catalog.search.indexCatalog();
    await this.audit(actor, 'admin.provider.sync', id, result);
    return result;
  }

  /**
   * Sets the provider's own webhook secret: the given one (for a provider whose console lets you
   * paste a value) or, by default, 32 fresh random bytes. Returned once; stored encrypted. Setting
   * a new one retires the old at once, so rotate by updating the provider's webhook URL or header
   * right after. `null` removes it: the provider falls back to PROVIDER_WEBHOOK_SECRET.
   */
  async setWebhookSecret(id: string, secret: string | null | undefined, actor: Actor): Promise<{ webhookSecret: string | null }> {
    await this.require(id);
    const value = secret === null ? null : (secret ?? randomBytes(32).toString('base64url'));
    await this.deps.db.provider.update({ where: { id }, data: { webhookSecret: value === null ? '' : sealProviderWebhookSecret(value, this.deps.secrets) } });
    await this.audit(actor, 'admin.provider.webhook-secret', id, { action: value === null ? 'removed' : secret ? 'set' : 'generated' });
    return { webhookSecret: value };
  }

  /** The secret the provider's webhooks must present: its own, else `fallback`; null for an unknown provider. */
  async webhookSecretOf(id: string, fallback: string): Promise<string | null> {
    const row = await this.deps.db.provider.findUnique({ where: { id }, select: { webhookSecret: true } });
    if (!row) return null;
    return row.webhookSecret === '' ? fallback : this.deps.secrets.decrypt(row.webhookSecret, PROVIDER_WEBHOOK_SECRET_PURPOSE);
  }

  /** Re-encrypts every provider key under the newest SECRETS_KEYS version. */
  async rotateKeys(actor: Actor): Promise<{ rotated: number }> {
    let rotated = 0;
    for (const row of await this.deps.db.provider.findMany({ where: { apiKey: { not: '' } } })) {
      if (!this.deps.secrets.needsRotation(row.apiKey)) continue;
      await this.deps.db.provider.update({ where: { id: row.id }, data: { apiKey: this.deps.secrets.rotate(row.apiKey, PROVIDER_KEY_PURPOSE) } });
      rotated += 1;
    }
    for (const row of await this.deps.db.provider.findMany({ where: { webhookSecret: { not: '' } } })) {
      if (!this.deps.secrets.needsRotation(row.webhookSecret)) continue;
      await this.deps.db.provider.update({ where: { id: row.id }, data: { webhookSecret: this.deps.secrets.rotate(row.webhookSecret, PROVIDER_WEBHOOK_SECRET_PURPOSE) } });
      rotated += 1;
    }
    await this.audit(actor, 'admin.provider.rotate-keys', '*', { rotated });
    return { rotated };
  }

  /**
   * What the provider says it holds for us right now: its own currency's micro-units and the
   * same in micro-dollars at the provider's usdRate. A provider that does not answer is reported,
   * not thrown: the page shows its other figures regardless.
   */
  async balance(id: string): Promise<{ micros: string; usdMicros: string } | { error: string }> {
    const { config, adapter } = await this.deps.providers.get(id).catch(() => {
      throw new AppError('PROVIDER_NOT_FOUND', 'No such provider with credentials.');
    });
    try {
      const micros = await adapter.getBalance();
      return { micros: micros.toString(), usdMicros: convertMicros(micros, config.usdRate).toString() };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * A test purchase at this provider only, outside any customer's wallet: buys the number of one
   * offer (at most the cost our price was computed from), then cancels it at once. The number is
   * first claimed for reconciliation (upstream_claims, activation null), so if the cancel is
   * refused (the provider's minimum age) or the reply is lost, the provider's inbox reconciliation
   * cancels it on its next pass — it is never left open and unowned. Each step is timed; a
   * provider's refusal is the result, not an error. Audited.
   */
  async testPurchase(id: string, input: { serviceCode: string; countryIso: string }, actor: Actor): Promise<TestPurchaseResult> {
    const { config, adapter } = await this.deps.providers.get(id).catch(() => {
      throw new AppError('PROVIDER_NOT_FOUND', 'No such provider with credentials.');
    });
    const offer = await this.deps.db.offer.findUnique({ where: { providerId_serviceCode_countryIso: { providerId: id, serviceCode: input.serviceCode, countryIso: input.countryIso } } });
    if (!offer) throw new AppError('NO_OFFERS', `${id} has no offer for ${input.serviceCode} in ${input.countryIso}; sync it first.`);
    const scale = config.usdRate.split('.')[1]?.length ?? 0;
    const maxPriceMicros = (offer.costMicros * 10n ** BigInt(scale)) / BigInt(config.usdRate.replace('.', ''));
    const result: TestPurchaseResult = { providerId: id, serviceCode: input.serviceCode, countryIso: input.countryIso, bought: null, buyMs: 0, cancel: null };
    let started = performance.now();
    try {
      const bought = await adapter.buy({ service: offer.upstreamService, country: offer.upstreamCountry, maxPriceMicros });
      result.buyMs = Math.round(performance.now() - started);
      await this.deps.db.upstreamClaim.createMany({ data: [{ providerId: id, upstreamId: bought.upstreamId, activationId: null }], skipDuplicates: true });
      result.bought = { upstreamId: bought.upstreamId, phone: bought.phone, costMicros: bought.costMicros === null ? null : convertMicros(bought.costMicros, config.usdRate).toString() };
      started = performance.now();
      try {
        await adapter.cancel(bought.upstreamId);
        result.cancel = { ok: true, ms: Math.round(performance.now() - started), error: null };
      } catch (error) {
        result.cancel = { ok: false, ms: Math.round(performance.now() - started), error: errorText(error) };
      }
    } catch (error) {
      result.buyMs = Math.round(performance.now() - started);
      result.buyError = errorText(error);
    }
    await this.audit(actor, 'admin.provider.test-purchase', id, { ...result });
    return result;
  }

  private async require(id: string): Promise<void> {
    if (!(await this.deps.db.provider.findUnique({ where: { id }, select: { id: true } }))) throw new AppError('PROVIDER_NOT_FOUND', 'No such provider.');
  }

  private audit(actor: Actor, action: AuditAction, targetId: string, details: Record<string, unknown>) {
    return this.deps.audit.record({ action, actorId: actor.id, targetType: 'provider', targetId, ip: actor.ip, details });
  }

  private async view(row: ProviderRow) {
    const { secrets, health, db } = this.deps;
    return {
      id: row.id,
      displayName: row.displayName,
      protocol: row.protocol,
      enabled: row.enabled,
      baseUrl: row.baseUrl,
      hasApiKey: row.apiKey !== '',
      hasWebhookSecret: row.webhookSecret !== '',
      keyNeedsRotation: row.apiKey !== '' && secrets.needsRotation(row.apiKey),
      usdRate: row.usdRate,
      markupBps: row.markupBps,
      lifetimeSeconds: row.lifetimeSeconds,
      minCancelSeconds: row.minCancelSeconds,
      countryIds: row.countryIds,
      // The breaker lives in Redis: without it the provider is still listed, its breaker unknown.
      breaker: await health.state(row.id).catch(() => null),
      // Calls over the health window (any route): the call figures are per provider.
      calls: await health.snapshot(row.id, '-', '--').then(
        (h) => ({ count: h.callCount, errors: h.errorCount, errorRate: h.errorRate, p50LatencyMs: h.p50LatencyMs }),
        () => null,
      ),
      markupOverrides: (await db.markupOverride.findMany({ where: { providerId: row.id } })).map((o) => ({ serviceCode: o.serviceCode, countryIso: o.countryIso, markupBps: o.markupBps })),
    };
  }
}
