/**
 * Where the simulator takes an SMS for one of its numbers: its control API, at the tenant the
 * provider's base URL points to (`http://127.0.0.1:4010/hero/stubs/handler_api.php` → tenant
 * `hero`; `…/fivesim/v1` → `fivesim`). Null for a provider that is not the simulator's shape.
 */
export function simulatorSmsUrl(providerBaseUrl: string, upstreamId: string): string | null {
  let url: URL;
  try {
    url = new URL(providerBaseUrl);
  } catch {
    return null;
  }
  // `/<tenant>/stubs/handler_api.php` or `/<tenant>/v1`: a real provider's URL has no tenant segment.
  const [tenant, protocol] = url.pathname.split('/').filter(Boolean);
  if (!tenant || !/^[a-z0-9-]+$/.test(tenant) || (protocol !== 'stubs' && protocol !== 'v1') || !/^\d+$/.test(upstreamId)) return null;
  return `${url.origin}/control/${tenant}/activations/${upstreamId}/sms`;
}

/** An SMS code as a provider would send one: 4–8 digits (letters allowed, as some services use them). */
export const SMS_CODE = /^[A-Za-z0-9]{4,8}$/;

/** `act-3f2a…` or just its start (`3f2a`, `act-3f2a`): what `npm run sms` accepts. */
export function activationIdPattern(input: string): { exact: string; prefix: string } | null {
  const id = input.trim();
  if (!/^(act-)?[0-9a-f-]{4,64}$/i.test(id)) return null;
  const full = id.startsWith('act-') ? id : `act-${id}`;
  return { exact: full.toLowerCase(), prefix: full.toLowerCase() };
}
