import { canonicalString, checkTimestamp, NONCE_PATTERN, signRequest, verifyRequestSignature, type SignedParts } from '../../src/auth/signing';

/** Partner request signatures (docs/partners.md): the canonical string and its HMAC are a public contract. */
describe('request signing', () => {
  const parts: SignedParts = {
    method: 'post',
    path: '/api/v1/numbers?x=1',
    timestamp: '1700000000',
    nonce: 'nonce-0123456789abcdef',
    body: '{"service":"tg","country":"ID"}',
  };
  const secret = 'sgs_test-secret';

  it('builds METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(body)', () => {
    expect(canonicalString(parts)).toBe(
      'POST\n/api/v1/numbers?x=1\n1700000000\nnonce-0123456789abcdef\n2064dcf67a363b489aa997773664c6e1d66d78ec4197baa1ad8dd23ef800fe73',
    );
  });

  it('hashes an empty body as SHA-256 of nothing', () => {
    expect(canonicalString({ ...parts, method: 'POST', body: '' }).split('\n')[4]).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(canonicalString({ ...parts, body: Buffer.alloc(0) })).toBe(canonicalString({ ...parts, body: '' }));
  });

  it('signs with hex HMAC-SHA256 (fixed vector, as in the partner docs)', () => {
    expect(signRequest(secret, parts)).toBe('1c427fd4860257f8d95769220f908de80af8e1d4ca95c4425eca46439ae48c99');
  });

  it('verifies only the exact request', () => {
    const signature = signRequest(secret, parts);
    expect(verifyRequestSignature(secret, parts, signature)).toBe(true);
    expect(verifyRequestSignature(secret, parts, signature.toUpperCase())).toBe(true);
    const changes: Partial<SignedParts>[] = [
      { method: 'PUT' },
      { path: '/api/v1/numbers' },
      { path: '/api/v1/numbers?x=2' },
      { timestamp: '1700000001' },
      { nonce: 'nonce-0123456789abcdeF' },
      { body: '{"service":"tg","country":"RU"}' },
    ];
    for (const change of changes) expect(verifyRequestSignature(secret, { ...parts, ...change }, signature)).toBe(false);
    expect(verifyRequestSignature('sgs_other-secret', parts, signature)).toBe(false);
    expect(verifyRequestSignature(secret, parts, signature.slice(0, 63))).toBe(false);
    expect(verifyRequestSignature(secret, parts, `${signature.slice(0, 63)}g`)).toBe(false);
    expect(verifyRequestSignature(secret, parts, '')).toBe(false);
  });

  it('accepts timestamps within ± the tolerance only', () => {
    const now = 1_700_000_000;
    expect(checkTimestamp(String(now), now, 300)).toBe('ok');
    expect(checkTimestamp(String(now - 300), now, 300)).toBe('ok');
    expect(checkTimestamp(String(now + 300), now, 300)).toBe('ok');
    expect(checkTimestamp(String(now - 301), now, 300)).toBe('expired');
    expect(checkTimestamp(String(now + 301), now, 300)).toBe('expired');
    expect(checkTimestamp(String(now * 1000), now, 300)).toBe('malformed');
    for (const bad of ['', 'abc', '-5', '1.5', ' 1700000000']) expect(checkTimestamp(bad, now, 300)).toBe('malformed');
  });

  it('takes nonces of 16–128 URL-safe characters', () => {
    expect(NONCE_PATTERN.test('0b8a6f0e-52f4-4cf5-a6bb-6f3c0d2c9d43')).toBe(true);
    expect(NONCE_PATTERN.test('a'.repeat(15))).toBe(false);
    expect(NONCE_PATTERN.test('a'.repeat(129))).toBe(false);
    expect(NONCE_PATTERN.test('abc def ghi jkl mno')).toBe(false);
  });
});
