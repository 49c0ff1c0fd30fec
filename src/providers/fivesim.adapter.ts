import { formatUsd } from '../lib/money';
import { parseReply } from './fivesim/reply';
import { ordersSchema, orderSchema, pricesSchema, profileSchema, type FivesimOrder, type FivesimStatus } from './fivesim/schemas';
import { codeOf } from './fivesim/sms';
import { httpCall, type HttpTransport } from './http-call';
import { ReplyValues } from './reply-values';
import {
  ProviderError,
  type BuyRequest,
  type ProviderAdapter,
  type PurchasedNumber,
  type UpstreamActivation,
  type UpstreamPrice,
  type UpstreamSale,
  type UpstreamStatus,
} from './types';

export interface FivesimAdapterOptions extends HttpTransport {
  /** The v1 root, e.g. https://5sim.net/v1 or http://127.0.0.1:4010/fivesim/v1 (the simulator's `fivesim` tenant). */
  baseUrl: string;
  /** The account's API token (a JWT), sent as `Authorization: Bearer …`. */
  apiKey: string;
}

/** Live: the number works and SMS may arrive. RECEIVED does not mean an SMS came: sms[] says so. */
const LIVE: ReadonlySet<FivesimStatus> = new Set(['PENDING', 'RECEIVED']);
/** Ended with the price given back: what a cancel is satisfied with. */
const REFUNDED: ReadonlySet<FivesimStatus> = new Set(['CANCELED', 'TIMEOUT', 'BANNED']);

/** getActiveActivations pages through the order history, newest first, this many at a time… */
const ORDERS_PAGE = 100;
/** …and stops once a page reaches back further than any order can live (5sim: 30 min at most, spec 1.7), or after this many pages. */
const LIVE_WINDOW_MS = 60 * 60_000;
const MAX_ORDER_PAGES = 20;

/**
 * The 5sim.net v1 protocol (spec section 1): JSON orders under `/user/*` with a bearer token,
 * guest price lists under `/guest/*`, refusals as plain-text phrases. Every reply becomes a typed
 * result or a ProviderError whose `kind` tells the workflow what to do next.
 *
 * Offers store 5sim's own slugs, so `BuyRequest.service` is the product (`telegram`) and
 * `country` the country slug (`england`); the adapter always buys with operator `any`, the only
 * form in which 5sim honours `maxPrice`.
 */
export class FivesimAdapter implements ProviderAdapter {
  readonly id: string;
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly transport: HttpTransport;
  private readonly values: ReplyValues;

  constructor({ baseUrl, apiKey, ...transport }: FivesimAdapterOptions) {
    this.id = transport.id;
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.apiKey = apiKey;
    this.transport = transport;
    this.values = new ReplyValues(transport.id);
  }

  async buy(request: BuyRequest): Promise<PurchasedNumber> {
    const query: Record<string, string> = {};
    // formatUsd prints micros exactly ("0.35", "0.014"), whatever the currency.
    if (request.maxPriceMicros !== undefined) query.maxPrice = formatUsd(request.maxPriceMicros);
    const path = `/user/buy/activation/${segment(request.country)}/any/${segment(request.service)}`;
    const order = this.values.shaped(await this.call('buy', path, query), orderSchema, 'buy');
    return {
      upstreamId: order.id,
      phone: this.values.phone(order.phone, 'buy'),
      costMicros: order.price == null ? null : this.values.micros(order.price, 'buy'),
    };
  }

  async getStatus(upstreamId: string): Promise<UpstreamStatus> {
    const order = await this.order('check', upstreamId);
    const last = order.sms.at(-1);
    if (LIVE.has(order.status)) return last ? { state: 'CODE', code: codeOf(last), text: last.text ?? null } : { state: 'WAITING' };
    if (order.status === 'FINISHED') return { state: 'FINISHED', code: last ? codeOf(last) : null };
    return { state: 'CANCELLED' };
  }

  /**
   * Resolves once the order is CANCELED — or already ended with a refund (CANCELED, TIMEOUT,
   * BANNED), which 5sim reports as `order expired` and a check confirms.
   */
  async cancel(upstreamId: string): Promise<void> {
    await this.end('cancel', upstreamId, REFUNDED);
  }

  /** Resolves once the order is FINISHED, also when it already was (an earlier finish, or 5sim's own at expiry). */
  async finish(upstreamId: string): Promise<void> {
    await this.end('finish', upstreamId, new Set(['FINISHED']));
  }

  /** 5sim-only: report the number as already used; refunded like a cancel. Resolves once the order is BANNED or otherwise refunded. */
  async ban(upstreamId: string): Promise<void> {
    await this.end('ban', upstreamId, REFUNDED);
  }

  /**
   * 5sim has no "send another code" call: a live order keeps receiving, every SMS is appended
   * to `sms[]` and getStatus reports the newest one (the FAQ's 5-minute re-request window is
   * enforced by 5sim, not by a call). Resolves without a request.
   */
  async requestAnotherSms(_upstreamId: string): Promise<void> {}

  /**
   * `/guest/prices`, flattened to one price per product × country: the cheapest operator that
   * has numbers (the one `operator=any` buys), with the stock of every operator summed.
   */
  async getPrices(filter: { service?: string; country?: string } = {}): Promise<UpstreamPrice[]> {
    const query: Record<string, string> = {};
    if (filter.country) query.country = filter.country;
    if (filter.service) query.product = filter.service;
    const value = await this.call('prices', '/guest/prices', query);
    // The literal `null`: the product is not sold in that country.
    if (value === null) return [];
    const tree = this.values.shaped(value, pricesSchema, 'prices');
    // `?product=` alone nests product → country; recognised by its single top-level key.
    const inverted = filter.service !== undefined && filter.country === undefined && Object.keys(tree).every((key) => key === filter.service);
    const flat: UpstreamPrice[] = [];
    for (const [outer, inner] of Object.entries(tree)) {
      for (const [key, operators] of Object.entries(inner)) {
        const [country, service] = inverted ? [key, outer] : [outer, key];
        const offers = Object.values(operators).map((offer) => ({ costMicros: this.values.micros(offer.cost, 'prices'), stock: offer.count }));
        if (offers.length === 0) continue;
        const inStock = offers.filter((offer) => offer.stock > 0);
        const costMicros = (inStock.length > 0 ? inStock : offers).reduce((low, offer) => (offer.costMicros < low ? offer.costMicros : low), offers[0].costMicros);
        flat.push({ service, country, costMicros, stock: offers.reduce((sum, offer) => sum + offer.stock, 0) });
      }
    }
    return flat;
  }

  async getBalance(): Promise<bigint> {
    const profile = this.values.shaped(await this.call('profile', '/user/profile'), profileSchema, 'profile');
    return this.values.micros(profile.balance, 'profile');
  }

  /** `/user/orders?category=activation`, newest first, filtered to the live orders; returned oldest first. */
  async getActiveActivations(): Promise<UpstreamActivation[]> {
    return (await this.liveOrders()).map((order) => this.activation(order));
  }

  async getOpenSales(): Promise<UpstreamSale[]> {
    return (await this.liveOrders()).map((order) => ({
      upstreamId: order.id,
      service: order.product ?? '',
      country: order.country ?? null,
      phone: this.values.phone(order.phone, 'orders'),
      costMicros: order.price == null ? null : this.values.micros(order.price, 'orders'),
      soldAt: Number.isFinite(Date.parse(order.created_at ?? '')) ? new Date(Date.parse(order.created_at!)).toISOString() : null,
      codes: order.sms.map(codeOf),
    }));
  }

  /** Live activation orders, oldest first. */
  private async liveOrders(): Promise<FivesimOrder[]> {
    const live: FivesimOrder[] = [];
    let newest = -Infinity;
    for (let page = 0; page < MAX_ORDER_PAGES; page++) {
      const query = { category: 'activation', limit: String(ORDERS_PAGE), offset: String(page * ORDERS_PAGE), order: 'id', reverse: 'true' };
      const { Data: orders, Total: total } = this.values.shaped(await this.call('orders', '/user/orders', query), ordersSchema, 'orders');
      for (const order of orders) if (LIVE.has(order.status)) live.push(order);
      if (orders.length < ORDERS_PAGE || (total != null && (page + 1) * ORDERS_PAGE >= total)) break;
      const created = orders.map((order) => Date.parse(order.created_at ?? '')).filter(Number.isFinite);
      newest = Math.max(newest, ...created);
      if (created.length > 0 && Math.min(...created) < newest - LIVE_WINDOW_MS) break;
    }
    return live.reverse();
  }

  /**
   * finish / cancel / ban: resolves when the reply (or, after `order expired`, a check) shows
   * one of `done`. An order that ended with a code refuses a cancel or ban with HAS_SMS, as
   * `order has sms` does while it is live.
   */
  private async end(action: 'finish' | 'cancel' | 'ban', upstreamId: string, done: ReadonlySet<FivesimStatus>): Promise<void> {
    let order: FivesimOrder;
    try {
      order = await this.order(action, upstreamId);
    } catch (error) {
      if (!(error instanceof ProviderError) || error.token !== 'order expired') throw error;
      const current = await this.order('check', upstreamId);
      if (done.has(current.status)) return;
      if (action !== 'finish' && current.status === 'FINISHED') {
        throw new ProviderError('HAS_SMS', error.token, `${this.id} ${action} ${upstreamId}: refused, the order finished with a code`, undefined, { cause: error });
      }
      throw error;
    }
    if (!done.has(order.status)) {
      throw this.values.unexpected(`${action} ${upstreamId}`, `the order is ${order.status} after ${action}`);
    }
  }

  private async order(action: 'check' | 'finish' | 'cancel' | 'ban', upstreamId: string): Promise<FivesimOrder> {
    if (!/^\d+$/.test(upstreamId)) throw new ProviderError('NOT_FOUND', 'order not found', `${this.id} ${action}: not a 5sim order id: ${upstreamId}`);
    return this.values.shaped(await this.call(action, `/user/${action}/${upstreamId}`), orderSchema, action);
  }

  private activation(order: FivesimOrder): UpstreamActivation {
    const texts = order.sms.flatMap((sms) => (sms.text ? [sms.text] : []));
    return {
      upstreamId: order.id,
      service: order.product ?? '',
      phone: this.values.phone(order.phone, 'orders'),
      codes: order.sms.map(codeOf),
      text: texts.length > 0 ? texts.join('\n') : null,
    };
  }

  /** One GET, the token in the header (never in the URL, so errors and logs cannot leak it). */
  private async call(action: string, path: string, query: Record<string, string> = {}): Promise<unknown> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return httpCall(this.transport, { action, url, headers: { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' } }, parseReply);
  }
}

/** A slug as one path segment; 5sim's are lower-case letters and digits, anything else is escaped rather than trusted. */
function segment(value: string): string {
  return encodeURIComponent(value.trim().toLowerCase());
}
