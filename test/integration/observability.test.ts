import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startWorkerMetricsServer } from '../../src/temporal/worker-metrics';
import { startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { ACTIVATION_WORKFLOW_TYPE } from '../../workflows/contracts';

/**
 * What a deployment watches, from a real worker: the request id of a purchase in the worker's
 * log lines about it (ours and the SDK's), with the workflow id on each; and the worker's own
 * /metrics — our counters moved by purchases, refunds, SMS and provider calls, next to the
 * Temporal SDK's metrics.
 */
describe('observability of a purchase', () => {
  let system: TestSystem;
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const MAIN = { service: 'wa', country: 'ID' };
  const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

  beforeAll(async () => {
    // The first system of this file, so its worker installs the process's SDK runtime (logger, metrics).
    system = await startSystem({ logDestination: destination, env: { LOG_LEVEL: 'debug' }, workerMetrics: true, polling: { initialMs: 200, maxMs: 500 } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const scrape = async () => {
    const response = await fetch(system.worker.metrics!.url);
    expect(response.status).toBe(200);
    return response.text();
  };
  /** The sum of every sample of `name` whose labels include `labels` (0 when none). */
  const sample = (text: string, name: string, labels: Record<string, string> = {}) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);

  const buy = async (token: string, requestId: string) => {
    const bought = await system.request('POST', '/api/numbers', { token, headers: { 'Idempotency-Key': randomUUID(), 'X-Request-Id': requestId }, body: MAIN });
    expect(bought.status).toBe(201);
    expect(bought.headers.get('x-request-id')).toBe(requestId);
    return bought.body.activation as { id: string; providerId: string; phone: string; heldMicros: string; priceMicros: string };
  };

  it("carries a purchase's request id into the worker's activity and SDK log lines, each naming the workflow", async () => {
    const customer = await system.customer();
    const requestId = `purchase-${randomUUID()}`;
    const activation = await buy(customer.token, requestId);

    const ours = await waitFor(async () => {
      const found = lines.filter((line) => line.requestId === requestId && typeof line.activityType === 'string');
      return found.some((line) => line.msg === 'provider call') && found.some((line) => line.msg === 'Activity completed' && line.activityType === 'holdAndBuy') ? found : null;
    });
    const workflowIds = new Set(ours.map((line) => line.workflowId));
    expect(workflowIds.size).toBe(1);
    const [workflowId] = workflowIds as Set<string>;
    expect(typeof workflowId).toBe('string');
    // The purchase's first step: the hold, the buy at the provider (its HTTP call logged by our adapter), the record.
    const types = new Set(ours.map((line) => line.activityType as string));
    expect([...types]).toContain('holdAndBuy');
    const providerCall = ours.find((line) => line.msg === 'provider call')!;
    expect(providerCall).toMatchObject({ provider: activation.providerId, workflowId, requestId });

    // The SDK's own line for each activity of the purchase has it as well.
    const completed = ours.filter((line) => line.msg === 'Activity completed').map((line) => line.activityType);
    expect(completed).toContain('holdAndBuy');

    // Workflow code's log lines: a purchase both providers refuse logs each refusal from the workflow.
    const refusedId = `refused-${randomUUID()}`;
    for (const tenant of ['hero', 'activate']) await system.sim('POST', `/control/${tenant}/faults`, { action: 'getNumberV2', times: 1, reply: { token: 'NO_NUMBERS' } });
    const refused = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID(), 'X-Request-Id': refusedId }, body: MAIN });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const fromWorkflow = await waitFor(async () => lines.find((line) => line.requestId === refusedId && line.sdkComponent === 'workflow'));
    expect(fromWorkflow).toMatchObject({ msg: 'provider could not sell, trying the next one', workflowType: ACTIVATION_WORKFLOW_TYPE });
    expect(typeof fromWorkflow.workflowId).toBe('string');

    // No task token (it completes an activity for anyone who can reach Temporal) in any line.
    expect(lines.filter((line) => 'taskToken' in line)).toEqual([]);
    // Every line of the worker about a workflow or an activity names the workflow.
    const aboutWork = lines.filter((line) => line.activityType !== undefined || line.sdkComponent === 'workflow' || line.sdkComponent === 'activity');
    expect(aboutWork.length).toBeGreaterThan(0);
    expect(aboutWork.filter((line) => typeof line.workflowId !== 'string')).toEqual([]);
    // The API's own lines for the purchase request carry the id too.
    expect(lines.some((line) => line.requestId === requestId && line.activityType === undefined && line.sdkComponent === undefined)).toBe(true);
  });

  it('moves the worker /metrics counters: purchases by outcome, refunds, SMS latency, provider calls; the SDK metrics are there', async () => {
    const before = await scrape();
    // The SDK's own metrics, from its Prometheus exporter, in the same scrape.
    expect(before).toMatch(/^temporal_\w+/m);
    expect(before).toMatch(/^process_cpu_user_seconds_total/m);

    const customer = await system.customer();
    // One paid purchase: bought, an SMS, finished.
    const paid = await buy(customer.token, `paid-${randomUUID()}`);
    const tenant = tenantOf(paid.providerId);
    const { activations } = await system.sim('GET', `/control/${tenant}/activations`);
    const upstream = (activations as { id: number; phone: string }[]).find((a) => `+${a.phone}` === paid.phone)!;
    await system.sim('POST', `/control/${tenant}/activations/${upstream.id}/sms`, { code: '40417' });
    await waitFor(async () => ((await system.request('GET', `/api/numbers/${paid.id}`, { token: customer.token })).body.activation.messages.length > 0 ? true : null));
    expect((await system.request('POST', `/api/numbers/${paid.id}/finish`, { token: customer.token })).status).toBe(200);
    // One refunded purchase: bought, cancelled.
    const refunded = await buy(customer.token, `refunded-${randomUUID()}`);
    expect((await system.request('POST', `/api/numbers/${refunded.id}/cancel`, { token: customer.token })).status).toBe(200);

    const after = await waitFor(async () => {
      const text = await scrape();
      return sample(text, 'simgate_purchases_total', { outcome: 'COMPLETED' }) > sample(before, 'simgate_purchases_total', { outcome: 'COMPLETED' }) &&
        sample(text, 'simgate_purchases_total', { outcome: 'CANCELLED' }) > sample(before, 'simgate_purchases_total', { outcome: 'CANCELLED' }) &&
        sample(text, 'simgate_refunds_total') > sample(before, 'simgate_refunds_total')
        ? text
        : null;
    });
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('simgate_purchases_total', { outcome: 'COMPLETED' })).toBe(1);
    expect(delta('simgate_purchases_total', { outcome: 'CANCELLED' })).toBe(1);
    expect(delta('simgate_numbers_bought_total')).toBe(2);
    expect(delta('simgate_refunds_total')).toBe(1);
    expect(delta('simgate_refunded_micros_total')).toBe(Number(refunded.heldMicros));
    expect(delta('simgate_captures_total')).toBe(1);
    expect(delta('simgate_captured_micros_total')).toBe(Number(paid.priceMicros));
    expect(delta('simgate_sms_latency_seconds_count', { provider: paid.providerId })).toBe(1);
    expect(delta('simgate_provider_calls_total', { operation: 'buy', result: 'ok' })).toBe(2);
    expect(delta('simgate_provider_calls_total', { operation: 'cancel', result: 'ok' })).toBe(1);
    expect(delta('simgate_provider_call_duration_seconds_count', { operation: 'buy' })).toBe(2);
    // The SDK counted our activities too (the activation's steps are local activities: workflows/activation.ts).
    expect(after).toMatch(/^temporal_local_activity_execution_latency\w*_count\{/m);
  });

  it("serves from the worker every event counter and Temporal SDK series the example alert rules watch", async () => {
    const rules = readFileSync(path.resolve(__dirname, '../../ops/alerts.yml'), 'utf8');
    const text = await scrape();
    const declared = (series: string) => text.includes(`# TYPE ${series.replace(/_(count|sum|bucket)$/, '')} `);
    const sdk = [...new Set(rules.match(/temporal_[a-z_]+/g) ?? [])];
    expect(sdk.length).toBeGreaterThanOrEqual(2);
    expect(sdk.filter((series) => !declared(series))).toEqual([]);
    // The API's gauges are checked against its own /metrics (security/ops-endpoints.test.ts); the rest is the worker's.
    const gauges = ['simgate_activations', 'simgate_activations_stuck', 'simgate_ledger_entries', 'simgate_wallet_micros', 'simgate_ledger_invariant_violations', 'simgate_open_incidents', 'simgate_provider_breaker_open', 'simgate_http_request_duration_seconds'];
    const events = [...new Set(rules.match(/simgate_[a-z_]+/g) ?? [])].filter((series) => !gauges.some((gauge) => series === gauge || series.startsWith(`${gauge}_`)));
    expect(events).toEqual(expect.arrayContaining(['simgate_purchases_total', 'simgate_refunds_total', 'simgate_provider_errors_total', 'simgate_sms_latency_seconds_bucket']));
    expect(events.filter((series) => !declared(series))).toEqual([]);
  });

  it('counts provider errors by provider and operation', async () => {
    const before = await scrape();
    await system.sim('POST', '/control/hero/faults', { times: 3, reply: { status: 500, body: 'internal error' } });
    expect((await system.request('POST', '/api/admin/providers/hero-sim/sync', { token: system.adminToken })).status).toBeGreaterThanOrEqual(500);
    await system.sim('DELETE', '/control/hero/faults');
    const after = await scrape();
    expect(sample(after, 'simgate_provider_errors_total', { provider: 'hero-sim', operation: 'getPrices' }) - sample(before, 'simgate_provider_errors_total', { provider: 'hero-sim', operation: 'getPrices' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'simgate_provider_calls_total', { provider: 'hero-sim', operation: 'getPrices', result: 'TRANSIENT' })).toBeGreaterThanOrEqual(1);
  });

  it('wants METRICS_TOKEN when one is set, and answers nothing but GET /metrics', async () => {
    expect((await fetch(system.worker.metrics!.url.replace('/metrics', '/'))).status).toBe(404);
    const token = randomUUID();
    const guarded = await startWorkerMetricsServer({ host: '127.0.0.1', port: 0, token, sdkMetricsUrl: null, logger: system.container.logger });
    try {
      expect((await fetch(guarded.url)).status).toBe(401);
      expect((await fetch(guarded.url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
      const ok = await fetch(guarded.url, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/^# HELP simgate_purchases_total/m);
    } finally {
      await guarded.close();
    }
  });
});
