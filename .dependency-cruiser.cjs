/**
 * The walls between SimGate's parts (DESIGN.md "One picture"), checked by `npm run lint:deps`,
 * which `npm test` runs right after the type check. Paths are relative to the repository root;
 * `node_modules/` paths are npm packages, dependency type `core` is Node's built-ins.
 */
const BROWSER = '^(web|admin|ui)/';
/** Vite's configs are Node programs that build the browser apps, not browser code. */
const BROWSER_BUILD_CONFIG = '^(web|admin|ui)/vite\\.config\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'workflows-deterministic',
      comment:
        'Workflow code is replayed from history and bundled into a sandbox: it may import only @temporalio/workflow, ' +
        '@temporalio/common, other workflow files (contracts.ts among them) and the types of activities/, so nothing in ' +
        'it touches the network, the disk or the clock outside the SDK (no src/, no Node built-ins, no other npm packages).',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { pathNot: ['^workflows/', '^activities/', '^node_modules/@temporalio/(workflow|common)/'] },
    },
    {
      name: 'workflows-activities-type-only',
      comment:
        'A value import from activities/ would bundle activity code (Prisma, Redis, provider clients) into the ' +
        'deterministic workflow sandbox: workflows/ may import activities/ with `import type` only.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-no-edge',
      comment:
        'Domain services are plain classes over explicit dependencies, shared by the API and the activities: they must ' +
        'not know the HTTP edge, Temporal, the activation orchestration (src/activations), activities or workflows.',
      severity: 'error',
      from: { path: '^src/(wallet|catalog|providers|auth|notify|lib|db|payments)/' },
      to: { path: ['^src/(http|temporal|activations)/', '^activities/', '^workflows/(?!contracts\\.ts$)', '^node_modules/@temporalio/'] },
    },
    {
      name: 'domain-failure-codes-as-types',
      comment:
        'The one failure vocabulary lives in workflows/contracts.ts; domain services name its codes (AppError) but ' +
        'import it with `import type` only, so no Temporal code is loaded with them.',
      severity: 'error',
      from: { path: '^src/(wallet|catalog|providers|auth|notify|lib|db|payments)/' },
      to: { path: '^workflows/contracts\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'config-owns-shapes',
      comment:
        'Configuration is read before anything else is built and every part depends on it: it declares its own shapes ' +
        'and imports no other src/ module, so no domain module can drag itself into every entry point through it.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/config/' },
    },
    {
      name: 'browser-no-server',
      comment:
        'The web app, the admin panel and their shared ui/ run in the browser and talk to the server over HTTP only: ' +
        'server code imported there would be bundled and shipped to every visitor.',
      severity: 'error',
      from: { path: BROWSER, pathNot: BROWSER_BUILD_CONFIG },
      to: { path: '^(src|activities|workflows|prisma|bench|scripts)/' },
    },
    {
      name: 'browser-no-node',
      comment: 'Node built-ins do not exist in the browser: an import of one breaks the bundle or pulls in a shim.',
      severity: 'error',
      from: { path: BROWSER, pathNot: BROWSER_BUILD_CONFIG },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'simulator-standalone',
      comment:
        'The simulator stands in for the upstream providers: it keeps its own reference data, money formatting, errors ' +
        'and logger, so a bug in SimGate cannot cancel itself out across the wire. It imports npm packages, Node ' +
        'built-ins and its own files only.',
      severity: 'error',
      from: { path: '^src/simulator/' },
      to: { pathNot: ['^src/simulator/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'payment-simulator-standalone',
      comment:
        'The payment simulator stands in for Stripe and NOWPayments: it signs its own callbacks and keeps its own amounts, ' +
        'so a bug in our verification cannot cancel itself out. It imports npm packages, Node built-ins and its own files only.',
      severity: 'error',
      from: { path: '^src/payment-simulator/' },
      to: { pathNot: ['^src/payment-simulator/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-circular',
      comment: 'A cycle means two modules cannot be understood, tested or loaded one without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time, or hides a dependency missing from package.json.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // src/generated is the Prisma client `prisma generate` writes: like a package, checked as a target only.
    // Worktrees link node_modules and src/generated from the main checkout: name modules by their link, as in a clone.
    preserveSymlinks: true,
    doNotFollow: { path: ['node_modules', '^src/generated/'] },
    // Built bundles (vite output) are not source: their code-split chunks import each other in cycles.
    exclude: { path: '^(web|admin)/dist/' },
    // Type-only imports are walls too: `import type` from the wrong side couples the code all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages that declare `exports` (zod, pino …) resolve as Node and TypeScript resolve them.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
