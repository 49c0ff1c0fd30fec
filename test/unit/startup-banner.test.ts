import { startupBanner } from '../../src/bin/banner';
import { loadConfig } from '../../src/config/app.config';

describe('the start-up banner', () => {
  const urls = { api: 'http://127.0.0.1:3000', temporalUi: 'http://127.0.0.1:8233', simulator: 'http://127.0.0.1:4010', catalog: '965 offers' };

  it.each(['admin-password', 'a-custom-Pa55word-for-the-admin'])('never prints the admin password (%s)', (password) => {
    const { env } = loadConfig({ ADMIN_PASSWORD: password });
    const banner = startupBanner(env, urls);
    expect(banner).toContain(env.ADMIN_EMAIL);
    expect(banner).toContain('ADMIN_PASSWORD');
    expect(banner).not.toContain(password);
  });

  it('names the setup route, not the token, when the admin is bootstrapped by ADMIN_SETUP_TOKEN', () => {
    const token = 'Zq7hWkP2s9vXcB4nM1tRyL6uE3oA8dFg';
    const banner = startupBanner(loadConfig({ ADMIN_SETUP_TOKEN: token }).env, { ...urls, simulator: null });
    expect(banner).toContain('POST /api/auth/setup');
    expect(banner).not.toContain(token);
    expect(banner).toContain('off (production)');
  });
});
