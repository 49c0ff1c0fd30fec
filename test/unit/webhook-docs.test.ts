import { readFileSync } from 'node:fs';
import path from 'node:path';
import { signWebhook, verifyWebhook } from '../../src/auth/webhook-signature';

/**
 * The verification snippet partners copy from docs/webhooks.md, run as written against the
 * signatures SimGate sends: a snippet that drifted from the signing code would fail here.
 */
function documentedVerifier(): (secret: string, header: string | undefined, body: string | Buffer, tolerance?: number) => boolean {
  const doc = readFileSync(path.resolve(__dirname, '../../docs/webhooks.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Verifying a delivery (Node)'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('no js block under "Verifying a delivery (Node)"');
  return new Function('require', `${code}\nreturn verifySimGateWebhook;`)(require);
}

describe('webhook signatures', () => {
  const secret = 'whsec_test-secret';
  const body = JSON.stringify({ id: 'evt_x', type: 'sms.received', data: { text: 'Код 12345 — ok' } });
  const now = Math.floor(Date.now() / 1000);
  const verify = documentedVerifier();

  it('the documented snippet accepts what SimGate signs, as a string or the raw bytes', () => {
    const header = signWebhook(secret, now, body);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(secret, header, body)).toBe(true);
    expect(verify(secret, header, Buffer.from(body, 'utf8'))).toBe(true);
    expect(verifyWebhook(secret, header, body)).toBe(true);
  });

  it('both refuse a changed body, another secret, a moved timestamp, a stale one and garbage', () => {
    const header = signWebhook(secret, now, body);
    const stale = signWebhook(secret, now - 301, body);
    const moved = header.replace(/^t=\d+/, `t=${now + 1}`);
    for (const check of [verify, (s: string, h: string | undefined, b: string) => verifyWebhook(s, h, b)]) {
      expect(check(secret, header, body.replace('12345', '12346'))).toBe(false);
      expect(check('whsec_other', header, body)).toBe(false);
      expect(check(secret, moved, body)).toBe(false);
      expect(check(secret, stale, body)).toBe(false);
      expect(check(secret, undefined, body)).toBe(false);
      expect(check(secret, 't=abc,v1=zz', body)).toBe(false);
      expect(check(secret, `t=${now},v1=${'0'.repeat(63)}`, body)).toBe(false);
    }
  });
});
