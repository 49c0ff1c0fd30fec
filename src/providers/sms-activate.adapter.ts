import type { z } from 'zod';
import { formatUsd } from '../lib/money';
import { httpCall, type HttpTransport } from './http-call';
import { ReplyValues } from './reply-values';
import { errorForToken } from './sms-activate/errors';
import { parseReply, type Reply } from './sms-activate/reply';
import {
  activeActivationsSchema,
  countriesSchema,
  numberV2Schema,
  pricesSchema,
  servicesListSchema,
  statusV2Schema,
  topCountriesSchema,
} from './sms-activate/schemas';
import {
  ProviderError,
  type BuyRequest,
  type ProviderAdapter,
  type PurchasedNumber,
  type SmsActivateExtras,
  type UpstreamActivation,
  type UpstreamCountry,
  type UpstreamPrice,
  type UpstreamSale,
  type UpstreamService,
  type UpstreamStatus,
  type UpstreamStatusV2,
  type UpstreamTopCountry,
} from './types';

export interface SmsActivateAdapterOptions extends HttpTransport {
  /** The full handler_api URL, e.g. https://hero-sms.com/stubs/handler_api.php */
  baseUrl: string;
  apiKey: string;
}

/**
 * The SMS-Activate `handler_api` protocol (spec sections 2–3), for SMS-Activate itself, HeroSMS
 * and the clones: every reply becomes a typed result or a ProviderError whose `kind` tells the
 * workflow what to do next. Both error styles are understood — classic bare tokens with HTTP
 * 200 and HeroSMS's status-coded JSON — so one adapter serves every provider of the family.
 */
export class SmsActivateAdapter implements ProviderAdapter, SmsActivateExtras {
  readonly id: string;
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly transport: HttpTransport;
  private readonly values: ReplyValues;
  /** Cleared the first time the provider answers getNumberV2 with BAD_ACTION: older clones only know getNumber. */
  private numberV2 = true;

  constructor({ baseUrl, apiKey, ...transport }: SmsActivateAdapterOptions) {
    this.id = transport.id;
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
    this.transport = transport;
    this.values = new ReplyValues(transport.id);
  }

  async buy(request: BuyRequest): Promise<PurchasedNumber> {
    const params: Record<string, string> = { service: request.service, country: request.country };
    // formatUsd prints micros exactly ("0.35", "0.014"), whatever the currency.
    if (request.maxPriceMicros !== undefined) params.maxPrice = formatUsd(request.maxPriceMicros);

    if (this.numberV2) {
      const reply = await this.call('getNumberV2', params);
      if (!(reply.type === 'token' && reply.name === 'BAD_ACTION')) return this.purchased(reply, 'getNumberV2');
      this.numberV2 = false;
      this.transport.logger?.info({ provider: this.id }, 'getNumberV2 unsupported, using getNumber');
    }
    return this.purchased(await this.call('getNumber', params), 'getNumber');
  }

  async getStatus(upstreamId: string): Promise<UpstreamStatus> {
    const reply = await this.call('getStatus', { id: upstreamId });
    if (reply.type === 'token') {
      switch (reply.name) {
        case 'STATUS_WAIT_CODE':
        case 'STATUS_WAIT_RESEND':
          return { state: 'WAITING' };
        case 'STATUS_WAIT_RETRY':
          return { state: 'WAITING_RETRY', lastCode: reply.value ?? '' };
        case 'STATUS_OK':
          return { state: 'CODE', code: reply.value ?? '', text: null };
        case 'STATUS_CANCEL':
          return { state: 'CANCELLED' };
      }
    }
    throw this.unexpected(reply, 'getStatus');
  }

  async cancel(upstreamId: string): Promise<void> {
    try {
      await this.setStatus(upstreamId, '8', ['ACCESS_CANCEL', 'ACCESS_CANCEL_ALREADY']);
    } catch (error) {
      if (!(error instanceof ProviderError) || error.kind !== 'BAD_STATE') throw error;
      // BAD_STATUS does not say why; the activation's status does.
      const status = await this.getStatus(upstreamId);
      if (status.state === 'CANCELLED') return;
      if (status.state === 'CODE' || status.state === 'WAITING_RETRY') {
        throw new ProviderError('HAS_SMS', error.token, `${this.id} cancel ${upstreamId}: refused, a code has arrived`, undefined, { cause: error });
      }
      throw error;
    }
  }

  async finish(upstreamId: string): Promise<void> {
    await this.setStatus(upstreamId, '6', ['ACCESS_ACTIVATION']);
  }

  async requestAnotherSms(upstreamId: string): Promise<void> {
    await this.setStatus(upstreamId, '3', ['ACCESS_RETRY_GET']);
  }

  async getPrices(filter: { service?: string; country?: string } = {}): Promise<UpstreamPrice[]> {
    const params: Record<string, string> = {};
    if (filter.service) params.service = filter.service;
    if (filter.country) params.country = filter.country;
    const prices = this.json(await this.call('getPrices', params), pricesSchema, 'getPrices');
    const flat: UpstreamPrice[] = [];
    for (const [country, services] of Object.entries(prices)) {
      for (const [service, offer] of Object.entries(services)) {
        flat.push({ service, country, costMicros: this.values.micros(offer.cost, 'getPrices'), stock: offer.count });
      }
    }
    return flat;
  }

  async getBalance(): Promise<bigint> {
    const reply = await this.call('getBalance');
    if (reply.type === 'token' && reply.name === 'ACCESS_BALANCE' && reply.value !== null) return this.values.micros(reply.value, 'getBalance');
    throw this.unexpected(reply, 'getBalance');
  }

  async getActiveActivations(): Promise<UpstreamActivation[]> {
    return (await this.listActive()).map((activation) => ({
      upstreamId: activation.activationId,
      service: activation.serviceCode,
      phone: this.values.phone(activation.phoneNumber, 'getActiveActivations'),
      codes: codesOf(activation),
      text: activation.smsText ?? null,
    }));
  }

  async getOpenSales(): Promise<UpstreamSale[]> {
    return (await this.listActive()).map((activation) => ({
      upstreamId: activation.activationId,
      service: activation.serviceCode,
      country: activation.countryCode ?? null,
      phone: this.values.phone(activation.phoneNumber, 'getActiveActivations'),
      costMicros: activation.activationCost == null ? null : this.values.micros(activation.activationCost, 'getActiveActivations'),
      soldAt: providerTimeToIso(activation.activationTime),
      codes: codesOf(activation),
    }));
  }

  private async listActive() {
    const reply = await this.call('getActiveActivations');
    if (reply.type === 'token' && reply.name === 'NO_ACTIVATIONS') return [];
    return this.json(reply, activeActivationsSchema, 'getActiveActivations').activeActivations;
  }

  /**
   * getStatusV2: the latest SMS and call with their texts (getStatus has only the code). Some
   * providers answer it with the getStatus tokens instead of JSON; those are understood too.
   */
  async getStatusV2(upstreamId: string): Promise<UpstreamStatusV2> {
    const reply = await this.call('getStatusV2', { id: upstreamId });
    if (reply.type === 'token') {
      switch (reply.name) {
        case 'STATUS_CANCEL':
          return { state: 'CANCELLED' };
        case 'STATUS_WAIT_CODE':
        case 'STATUS_WAIT_RESEND':
        case 'STATUS_WAIT_RETRY':
          return { state: 'ACTIVE', verificationType: null, sms: null, call: null };
        case 'STATUS_OK':
          return { state: 'ACTIVE', verificationType: null, sms: { code: reply.value ?? '', text: null, receivedAt: null }, call: null };
      }
      throw this.unexpected(reply, 'getStatusV2');
    }
    const status = this.json(reply, statusV2Schema, 'getStatusV2');
    const sms = status.sms && (status.sms.code || status.sms.text) ? { code: status.sms.code ?? '', text: status.sms.text ?? null, receivedAt: status.sms.dateTime ?? null } : null;
    const call =
      status.call && (status.call.code || status.call.text)
        ? { code: status.call.code ?? '', text: status.call.text ?? null, from: status.call.from ?? null, receivedAt: status.call.dateTime ?? null, url: status.call.url ?? null }
        : null;
    return { state: 'ACTIVE', verificationType: status.verificationType ?? null, sms, call };
  }

  /** getTopCountriesByService for one service, best first; `freePrice` adds each country's price ladder. */
  async getTopCountriesByService(service: string, options: { freePrice?: boolean } = {}): Promise<UpstreamTopCountry[]> {
    const params: Record<string, string> = { service };
    if (options.freePrice) params.freePrice = 'true';
    const rows = this.json(await this.call('getTopCountriesByService', params), topCountriesSchema, 'getTopCountriesByService');
    return rows.map((row) => ({
      country: row.country,
      stock: row.count,
      costMicros: this.values.micros(row.price, 'getTopCountriesByService'),
      retailMicros: row.retail_price == null ? null : this.values.micros(row.retail_price, 'getTopCountriesByService'),
      freePrices:
        row.freePriceMap == null
          ? null
          : Object.entries(row.freePriceMap)
              .map(([price, stock]) => ({ costMicros: this.values.micros(price, 'getTopCountriesByService'), stock }))
              .sort((a, b) => (a.costMicros < b.costMicros ? -1 : a.costMicros > b.costMicros ? 1 : 0)),
    }));
  }

  async getCountries(): Promise<UpstreamCountry[]> {
    const countries = this.json(await this.call('getCountries'), countriesSchema, 'getCountries');
    return countries.map((country) => ({ id: country.id, nameEn: country.eng ?? country.id, nameRu: country.rus ?? null, visible: country.visible ?? true }));
  }

  async getServicesList(options: { country?: string; lang?: string } = {}): Promise<UpstreamService[]> {
    const params: Record<string, string> = {};
    if (options.country) params.country = options.country;
    if (options.lang) params.lang = options.lang;
    const { services } = this.json(await this.call('getServicesList', params), servicesListSchema, 'getServicesList');
    return services;
  }

  private async setStatus(upstreamId: string, status: string, accepted: readonly string[]): Promise<void> {
    const reply = await this.call('setStatus', { id: upstreamId, status });
    if (reply.type === 'token' && accepted.includes(reply.name)) return;
    throw this.unexpected(reply, `setStatus ${status}`);
  }

  private purchased(reply: Reply, action: string): PurchasedNumber {
    if (reply.type === 'token') {
      // getNumber's answer, which some providers also give to getNumberV2.
      const [upstreamId, phone] = reply.value?.split(':') ?? [];
      if (reply.name === 'ACCESS_NUMBER' && /^\d+$/.test(upstreamId ?? '') && phone) {
        return { upstreamId, phone: this.values.phone(phone, action), costMicros: null };
      }
      throw this.unexpected(reply, action);
    }
    const bought = this.json(reply, numberV2Schema, action);
    return {
      upstreamId: bought.activationId,
      phone: this.values.phone(bought.phoneNumber, action),
      costMicros: bought.activationCost == null ? null : this.values.micros(bought.activationCost, action),
    };
  }

  /** One handler_api call: GET with the parameters in the query string, the one form every clone accepts. */
  private async call(action: string, params: Record<string, string> = {}): Promise<Reply> {
    const url = new URL(this.baseUrl);
    url.searchParams.set('api_key', this.apiKey);
    url.searchParams.set('action', action);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return httpCall(this.transport, { action, url, headers: { accept: 'application/json, text/plain, */*' } }, parseReply);
  }

  /** A token the call did not expect: a documented refusal maps to its kind, anything else is TRANSIENT. */
  private unexpected(reply: Reply, action: string): ProviderError {
    if (reply.type === 'token') return errorForToken(reply, `${this.id} ${action}`);
    return this.values.unexpected(action, 'JSON where a token was expected');
  }

  private json<T extends z.ZodType>(reply: Reply, schema: T, action: string): z.infer<T> {
    if (reply.type === 'token') throw this.unexpected(reply, action);
    return this.values.shaped(reply.value, schema, action);
  }
}

function codesOf(activation: { smsCode?: string | string[] | null }): string[] {
  return activation.smsCode == null ? [] : Array.isArray(activation.smsCode) ? activation.smsCode : [activation.smsCode];
}

/** handler_api's `YYYY-MM-DD HH:MM:SS`, read as UTC (the providers do not say their zone); null when unreadable. */
function providerTimeToIso(value: string | null | undefined): string | null {
  if (!value || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return null;
  const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
