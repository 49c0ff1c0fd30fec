import type { Env } from '../config/env.schema';

/**
 * What `npm start` prints once everything runs. Never a password or a token: banners end up in
 * terminal scrollback, CI logs and screenshots. It says where the admin's password comes from.
 */
export function startupBanner(
  env: Pick<Env, 'ADMIN_EMAIL' | 'ADMIN_SETUP_TOKEN'>,
  urls: { api: string; temporalUi: string | null; simulator: string | null; catalog: string },
): string {
  const admin = env.ADMIN_SETUP_TOKEN ? 'create the first admin with ADMIN_SETUP_TOKEN: POST /api/auth/setup' : `${env.ADMIN_EMAIL}, password from ADMIN_PASSWORD (README: Configuration)`;
  return [
    '',
    'SimGate is running:',
    `  Web app       ${urls.api}/`,
    `  Admin panel   ${urls.api}/admin/   (${admin})`,
    `  API           ${urls.api}/api`,
    `  Temporal UI   ${urls.temporalUi ?? 'off'}`,
    `  Simulator     ${urls.simulator ? `${urls.simulator}/control/tenants` : 'off (production)'}`,
    `  Catalog       ${urls.catalog}`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
