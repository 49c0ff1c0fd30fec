import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '../../src/config/app.config';
import { ConfigError, parseEnv } from '../../src/config/env.schema';

/**
 * Configuration is parsed once, frozen, and fails fast with ONE error listing every problem —
 * environment variables and PROVIDERS_JSON alike — so an operator fixes them in one go.
 */

/** The problems of a ConfigError thrown by `load`, or a failure if it did not throw one. */
function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    // The message lists them too, one per line.
    for (const problem of problems) expect((error as ConfigError).message).toContain(`  - ${problem}`);
    return problems;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

const variablesOf = (problems: string[]) => problems.map((p) => p.slice(0, p.indexOf(':'))).sort();

const provider = (overrides: Record<string, unknown> = {}) => ({
  id: 'hero',
  displayName: 'HeroSMS',
  protocol: 'SMS_ACTIVATE',
  baseUrl: 'https://hero-sms.com/stubs/handler_api.php',
  apiKey: 'super-secret-provider-key',
  ...overrides,
});

/** What production needs on top of the defaults. */
const productionSecrets = {
  NODE_ENV: 'production',
  JWT_SECRET: randomBytes(32).toString('base64'),
  PROVIDER_WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
  SECRETS_KEYS: `1:${randomBytes(32).toString('base64')}`,
  ADMIN_PASSWORD: 'Tr0ub4dor&3-horse-battery',
};

describe('parseEnv', () => {
  it('lists every bad variable at once, not just the first', () => {
    const problems = problemsOf(() =>
      parseEnv({
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://localhost/simgate',
        REDIS_URL: 'localhost:6379',
        JWT_SECRET: 'too-short',
        POLL_INITIAL_MS: '5',
        ADMIN_EMAIL: 'not-an-email',
      }),
    );
    expect(variablesOf(problems)).toEqual(['ADMIN_EMAIL', 'DATABASE_URL', 'JWT_SECRET', 'LOG_LEVEL', 'POLL_INITIAL_MS', 'PORT', 'REDIS_URL']);
    expect(problems).toEqual(
      expect.arrayContaining(['DATABASE_URL: must be a postgresql:// URL', 'REDIS_URL: must be a redis:// URL', 'JWT_SECRET: must be at least 32 characters']),
    );
  });

  it('refuses production without secrets, naming each one', () => {
    const problems = problemsOf(() => parseEnv({ NODE_ENV: 'production' }));
    expect(problems).toEqual(expect.arrayContaining(['JWT_SECRET: must be set in production', 'PROVIDER_WEBHOOK_SECRET: must be set in production']));
  });

  it('lists the production rules together with the other problems', () => {
    // Zod skips refinements once a field failed; these must still be reported in the same run.
    const problems = problemsOf(() => parseEnv({ NODE_ENV: 'production', PORT: 'eighty', SEARCH_ENGINE: 'meilisearch' }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: /),
        'JWT_SECRET: must be set in production',
        'PROVIDER_WEBHOOK_SECRET: must be set in production',
        'MEILI_URL: required when SEARCH_ENGINE=meilisearch',
      ]),
    );
  });

  it('accepts production once the secrets are set', () => {
    const env = parseEnv(productionSecrets);
    expect(env.NODE_ENV).toBe('production');
    expect(env.JWT_SECRET).toBe(productionSecrets.JWT_SECRET);
  });

  it('coerces numbers and booleans from strings', () => {
    const env = parseEnv({ PORT: '8080', POLL_INITIAL_MS: '250', SIMULATOR_ENABLED: 'false' });
    expect(env).toMatchObject({ PORT: 8080, POLL_INITIAL_MS: 250, SIMULATOR_ENABLED: false });
    expect(variablesOf(problemsOf(() => parseEnv({ SIMULATOR_ENABLED: 'yes' })))).toEqual(['SIMULATOR_ENABLED']);
  });
});

describe('loadConfig', () => {
  it('works with no environment at all: local defaults and the two simulated providers', () => {
    const config = loadConfig({});
    expect(config.env).toMatchObject({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 3000,
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/simgate',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_TASK_QUEUE: 'simgate-activations',
      SIMULATOR_PORT: 4010,
    });
    expect(config.providers.map((p) => [p.id, p.baseUrl])).toEqual([
      ['hero-sim', 'http://127.0.0.1:4010/hero/stubs/handler_api.php'],
      ['activate-sim', 'http://127.0.0.1:4010/activate/stubs/handler_api.php'],
    ]);
    // The inbox is the usual intake; per-activation polling is its slow fallback (issue 11).
    expect(config.activation).toEqual({ pollInitialMs: 600_000, pollMaxMs: 600_000, inboxIntervalMs: 5000, inboxSuperviseMs: 15_000 });
  });

  it('is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.env)).toBe(true);
    expect(Object.isFrozen(config.providers)).toBe(true);
    expect(() => {
      (config.env as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
  });

  it('never lets the poll ceiling fall below the first poll', () => {
    expect(loadConfig({ POLL_INITIAL_MS: '5000', POLL_MAX_MS: '1000' }).activation).toMatchObject({ pollInitialMs: 5000, pollMaxMs: 5000 });
  });

  it('leaves the worker on the SDK\'s defaults unless WORKER_* settings say otherwise', () => {
    expect(loadConfig({}).worker).toEqual({ reuseV8Context: true });
    expect(
      loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '2000', WORKER_WORKFLOW_TASK_SLOTS: '80', WORKER_WORKFLOW_TASK_POLLS: '20', WORKER_LOCAL_ACTIVITY_SLOTS: '50', WORKER_ACTIVITY_SLOTS: '30', WORKER_REUSE_V8_CONTEXT: 'false', WORKER_WORKFLOW_THREADS: '2' }).worker,
    ).toEqual({
      maxCachedWorkflows: 2000,
      maxConcurrentWorkflowTaskExecutions: 80,
      maxConcurrentWorkflowTaskPolls: 20,
      maxConcurrentLocalActivityExecutions: 50,
      maxConcurrentActivityTaskExecutions: 30,
      reuseV8Context: false,
      workflowThreadPoolSize: 2,
    });
  });

  it('refuses worker settings the SDK would refuse at start: more polls than slots, fewer than 2 slots', () => {
    expect(variablesOf(problemsOf(() => loadConfig({ WORKER_WORKFLOW_TASK_POLLS: '50' })))).toEqual(['WORKER_WORKFLOW_TASK_POLLS']);
    expect(variablesOf(problemsOf(() => loadConfig({ WORKER_WORKFLOW_TASK_SLOTS: '1', WORKER_WORKFLOW_THREADS: '0' })))).toEqual(['WORKER_WORKFLOW_TASK_SLOTS', 'WORKER_WORKFLOW_THREADS']);
  });

  it('reads providers from PROVIDERS_JSON with their defaults', () => {
    const config = loadConfig({ PROVIDERS_JSON: JSON.stringify([provider(), provider({ id: 'grizzly', usdRate: '0.0108', minCancelSeconds: 0 })]) });
    expect(config.providers).toEqual([
      expect.objectContaining({ id: 'hero', usdRate: '1', markupBps: 2500, lifetimeSeconds: 1200, minCancelSeconds: 120, requestTimeoutMs: 10_000, countryIds: 'sms-activate' }),
      expect.objectContaining({ id: 'grizzly', usdRate: '0.0108', minCancelSeconds: 0 }),
    ]);
  });

  it('refuses PROVIDERS_JSON that is not JSON, without echoing it (it holds API keys)', () => {
    const problems = problemsOf(() => loadConfig({ PROVIDERS_JSON: '[{"apiKey":"super-secret-provider-key",' }));
    expect(problems).toEqual(['PROVIDERS_JSON: not valid JSON']);
  });

  it.each([
    ['an object instead of a list', {}, ['PROVIDERS_JSON: Invalid input: expected array, received object']],
    ['an empty list', [], ['PROVIDERS_JSON: must list at least one provider']],
    ['a duplicate id', [provider(), provider({ displayName: 'again' })], ['PROVIDERS_JSON[1].id: duplicate provider id "hero"']],
    ['a lifetime below 10 s', [provider({ lifetimeSeconds: 5 })], [expect.stringMatching(/^PROVIDERS_JSON\[0\]\.lifetimeSeconds: /)]],
  ])('refuses PROVIDERS_JSON with %s, naming the place', (_name, value, expected) => {
    expect(problemsOf(() => loadConfig({ PROVIDERS_JSON: JSON.stringify(value) }))).toEqual(expected);
  });

  it('lists every problem of every provider', () => {
    const problems = problemsOf(() =>
      loadConfig({ PROVIDERS_JSON: JSON.stringify([provider({ id: 'Bad Id', baseUrl: 'not a url' }), { id: 'other' }]) }),
    );
    expect(variablesOf(problems)).toEqual(
      ['PROVIDERS_JSON[0].baseUrl', 'PROVIDERS_JSON[0].id', 'PROVIDERS_JSON[1].apiKey', 'PROVIDERS_JSON[1].baseUrl', 'PROVIDERS_JSON[1].displayName', 'PROVIDERS_JSON[1].protocol'].sort(),
    );
    expect(problems.join('\n')).not.toContain('super-secret-provider-key');
  });

  it('lists environment and PROVIDERS_JSON problems in one error', () => {
    const problems = problemsOf(() => loadConfig({ NODE_ENV: 'production', PORT: 'eighty', PROVIDERS_JSON: '[]' }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: /),
        'JWT_SECRET: must be set in production',
        'PROVIDER_WEBHOOK_SECRET: must be set in production',
        'PROVIDERS_JSON: must list at least one provider',
      ]),
    );
  });

  it('refuses production without PROVIDERS_JSON: the simulator\'s providers are never sold', () => {
    expect(problemsOf(() => loadConfig(productionSecrets))).toEqual([expect.stringMatching(/^PROVIDERS_JSON: must be set in production/)]);
  });

  it('loads a production configuration with its secrets set', () => {
    const config = loadConfig({ ...productionSecrets, PROVIDERS_JSON: JSON.stringify([provider()]) });
    expect(config.env.NODE_ENV).toBe('production');
    expect(config.providers.map((p) => p.id)).toEqual(['hero']);
  });
});

describe('production secrets and the admin bootstrap', () => {
  const production = (overrides: Record<string, string | undefined>) => ({ ...productionSecrets, PROVIDERS_JSON: JSON.stringify([provider()]), ...overrides });

  it.each([
    ['32 × a', 'a'.repeat(32)],
    ['the development default with another case', 'Dev-only-secret-change-me-in-production-0123456789'],
    ['a placeholder', 'please-CHANGE_ME-before-going-live-0123456789'],
    ['a short one', 'x7#Qp9'],
    ['a repeated pattern', 'abab'.repeat(12)],
  ])('refuses %s as JWT_SECRET, PROVIDER_WEBHOOK_SECRET, CSRF_SECRET and METRICS_TOKEN', (_name, weak) => {
    const problems = problemsOf(() => loadConfig(production({ JWT_SECRET: weak.padEnd(32, weak), PROVIDER_WEBHOOK_SECRET: weak.padEnd(16, weak), CSRF_SECRET: weak.padEnd(32, weak), METRICS_TOKEN: weak })));
    expect(variablesOf(problems)).toEqual(['CSRF_SECRET', 'JWT_SECRET', 'METRICS_TOKEN', 'PROVIDER_WEBHOOK_SECRET']);
  });

  it('refuses SECRETS_KEYS keys that are not random bytes', () => {
    const problems = problemsOf(() => loadConfig(production({ SECRETS_KEYS: `1:${Buffer.alloc(32, 7).toString('base64')},2:${Buffer.from([...Array(32).keys()]).toString('base64')}` })));
    expect(problems).toEqual([expect.stringMatching(/^SECRETS_KEYS: key 1 is not random/), expect.stringMatching(/^SECRETS_KEYS: key 2 is not random/)]);
  });

  it.each([
    ['unset (the admin-password default)', undefined],
    ['"password"', 'password'],
    ['"Admin-Password" (a known default, any case)', 'Admin-Password'],
    ['shorter than 12 characters', 'k9$mQ2xv!'],
    ['one character repeated', 'zzzzzzzzzzzzzzzz'],
  ])('refuses an ADMIN_PASSWORD that is %s, unless ADMIN_SETUP_TOKEN bootstraps the admin instead', (_name, password) => {
    const env = { ...production({}), ADMIN_PASSWORD: password };
    expect(variablesOf(problemsOf(() => loadConfig(env)))).toEqual(['ADMIN_PASSWORD']);
    expect(loadConfig({ ...env, ADMIN_SETUP_TOKEN: randomBytes(32).toString('base64url') }).security.adminSetupToken).toBeTruthy();
  });

  it('refuses a weak ADMIN_SETUP_TOKEN', () => {
    expect(variablesOf(problemsOf(() => loadConfig(production({ ADMIN_SETUP_TOKEN: 'setup'.repeat(8) }))))).toEqual(['ADMIN_SETUP_TOKEN']);
  });

  it('lists every unsafe default of a bare production start at once', () => {
    const problems = problemsOf(() => loadConfig({ NODE_ENV: 'production' }));
    expect(variablesOf(problems)).toEqual(['ADMIN_PASSWORD', 'JWT_SECRET', 'PROVIDERS_JSON', 'PROVIDER_WEBHOOK_SECRET', 'SECRETS_KEYS']);
  });

  it('takes an empty METRICS_TOKEN, ADMIN_SETUP_TOKEN or TRUST_PROXY (FOO= in a compose file) as unset', () => {
    const config = loadConfig(production({ METRICS_TOKEN: '', ADMIN_SETUP_TOKEN: '', TRUST_PROXY: '' }));
    expect(config.security).toMatchObject({ metricsToken: null, adminSetupToken: null, trustProxy: false });
  });

  it('refuses TRUST_PROXY=true in production: every client could choose its own IP', () => {
    expect(variablesOf(problemsOf(() => loadConfig(production({ TRUST_PROXY: 'true' }))))).toEqual(['TRUST_PROXY']);
  });

  it('leaves development alone: no variable needed', () => {
    expect(loadConfig({}).env.ADMIN_PASSWORD).toBe('admin-password');
  });
});

describe('trusted proxies', () => {
  it('trusts none by default, and what TRUST_PROXY names otherwise', () => {
    expect(loadConfig({}).security.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).security.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).security.trustProxy).toBe('loopback, 10.0.0.0/8');
  });
});

describe('an entry point with a bad configuration', () => {
  it('prints every problem and exits 2, without a stack trace', () => {
    const root = path.resolve(__dirname, '../..');
    const run = spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'src/bin/api.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: 'eighty', PROVIDERS_JSON: '{' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Invalid configuration:');
    for (const line of ['  - PORT: ', '  - JWT_SECRET: must be set in production', '  - PROVIDERS_JSON: not valid JSON']) expect(run.stderr).toContain(line);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a bare NODE_ENV=production start, naming every unsafe default', () => {
    const root = path.resolve(__dirname, '../..');
    const run = spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'src/bin/api.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    for (const variable of ['ADMIN_PASSWORD', 'JWT_SECRET', 'PROVIDER_WEBHOOK_SECRET', 'SECRETS_KEYS', 'PROVIDERS_JSON']) expect(run.stderr).toContain(`  - ${variable}: `);
    expect(run.stderr).not.toContain('admin-password');
  });
});
