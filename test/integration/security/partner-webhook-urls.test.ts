import { request } from 'node:http';
import { hostname } from 'node:os';
import { createWebhookActivities } from '../../../activities/webhooks';
import { PartnerWebhookService, publicOnlyLookup } from '../../../src/auth/partner-webhooks.service';
import { startWebhookReceiver } from '../../support/webhook-receiver';
import { startSystem, type TestSystem } from '../../support/system';
import { register } from './helpers';

/**
 * In production a partner's webhook URL must resolve (DNS, not only IP literals) to public
 * addresses only, when saved and again at delivery: a name can point at the metadata service or
 * at our own network just as well as a literal can.
 */
describe('partner webhook URLs in production', () => {
  let system: TestSystem;
  let userId: string;
  let answers: Record<string, string[]>;
  let service: PartnerWebhookService;

  beforeAll(async () => {
    system = await startSystem();
    userId = (await register(system)).user.id;
    const { db, secrets, audit } = system.container;
    answers = {};
    // Names under .test never resolve in public DNS: these answers stand in for a partner's zone.
    const resolve = async (host: string) => {
      if (answers[host]) return answers[host];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    service = new PartnerWebhookService({ db, secrets, audit, production: true, resolve });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const save = (url: string) => service.put(userId, { url, enabled: true, rotateSecret: false }, { ip: '203.0.113.1' });
  const refusal = (url: string) => save(url).then(
    () => 'accepted',
    (error: { code?: string }) => error.code,
  );

  it.each([
    ['a name resolving to loopback', 'https://loopback.partner.test/hook', ['127.0.0.1']],
    ['a name resolving to a private address', 'https://intranet.partner.test/hook', ['10.20.30.40']],
    ['a name resolving to the metadata service', 'https://metadata.partner.test/hook', ['169.254.169.254']],
    ['a name with one private address among public ones', 'https://mixed.partner.test/hook', ['93.184.216.34', '192.168.1.5']],
    ['a name resolving to IPv6 unique-local', 'https://ula.partner.test/hook', ['fd00:ec2::254']],
    ['a name resolving to an IPv4-mapped loopback', 'https://mapped.partner.test/hook', ['::ffff:127.0.0.1']],
  ])('refuses %s', async (_name, url, addresses) => {
    answers[new URL(url).hostname] = addresses;
    expect(await refusal(url)).toBe('WEBHOOK_URL_INVALID');
  });

  it('refuses IP literals of the metadata service and CGNAT, a name that does not resolve, and plain http', async () => {
    for (const url of ['https://169.254.169.254/latest', 'https://[::1]/hook', 'https://100.100.100.200/hook', 'https://nowhere.partner.test/hook', 'http://93.184.216.34/hook']) {
      expect(await refusal(url)).toBe('WEBHOOK_URL_INVALID');
    }
  });

  it("refuses this machine's own name with the system resolver", async () => {
    const { db, secrets, audit } = system.container;
    const real = new PartnerWebhookService({ db, secrets, audit, production: true });
    await expect(real.put(userId, { url: `https://${hostname()}/hook`, enabled: true, rotateSecret: false }, { ip: '203.0.113.1' })).rejects.toMatchObject({ code: 'WEBHOOK_URL_INVALID' });
  });

  it('accepts a name resolving to public addresses only, and re-checks it at delivery', async () => {
    answers['hooks.partner.test'] = ['93.184.216.34', '2606:4700::1'];
    expect(await refusal('https://hooks.partner.test/simgate')).toBe('accepted');
    expect(await service.deliveryTarget(userId)).toMatchObject({ url: 'https://hooks.partner.test/simgate', secret: expect.stringMatching(/^whsec_/) });
    // The partner's DNS now points the same name inside our network: no delivery goes there.
    answers['hooks.partner.test'] = ['10.0.0.7'];
    expect(await service.deliveryTarget(userId)).toBeNull();
  });

  it('fails a delivery attempt whose name now points inside, sending nothing, and says why in the log', async () => {
    const { db } = system.container;
    answers['rebind.partner.test'] = ['93.184.216.34'];
    expect(await refusal('https://rebind.partner.test/hook')).toBe('accepted');
    const webhook = await db.partnerWebhook.findUniqueOrThrow({ where: { userId } });
    const eventId = `evt_${'r'.repeat(32)}`;
    await db.webhookDelivery.create({ data: { id: eventId, webhookId: webhook.id, userId, type: 'activation.active', body: '{}' } });
    answers['rebind.partner.test'] = ['169.254.169.254'];
    const activities = createWebhookActivities({ db, partnerWebhooks: service, timeoutMs: 1000 });
    expect(await activities.deliverWebhookEvent({ webhookId: webhook.id, eventId, generation: 0, attempt: 1 })).toBe('failed');
    const row = await db.webhookDelivery.findUniqueOrThrow({ where: { id: eventId } });
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: null, lastError: 'Not delivered: The webhook URL must point to a public host.' });
  });

  it("pins the check to the delivery's own connection: a name resolving to loopback is refused when connecting", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const port = new URL(receiver.url).port;
      const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        const req = request(`http://localhost:${port}/hook`, { method: 'POST', lookup: publicOnlyLookup }, () => reject(new Error('connected')));
        req.on('error', resolve);
        req.end('{}');
      });
      expect(error.code).toBe('EADDRNOTPUBLIC');
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});
