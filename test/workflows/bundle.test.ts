/**
 * workflows/ is deterministic by construction: it bundles with the SDK's bundler (what the
 * production worker loads), and its files import nothing but the workflow SDK, the common
 * definitions, each other, and activity *types*. The imports are read with the TypeScript
 * parser, so multi-line imports, re-exports, require() and import() are all seen.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { bundleWorkflowCode } from '@temporalio/worker';
import { buildWorkflowBundle } from '../../src/temporal/worker';
import { TMP_DIR } from '../support/paths';

const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');
const ACTIVITIES_DIR = path.resolve(__dirname, '../../activities');

const ALLOWED_PACKAGES = new Set(['@temporalio/workflow', '@temporalio/common']);

interface ImportUse {
  specifier: string;
  typeOnly: boolean;
  line: number;
  text: string;
}

/** Every module a source file refers to: import / export … from, import x = require(), require(), import(). */
function importsOf(fileName: string, source: string): ImportUse[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const uses: ImportUse[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) {
      uses.push({ specifier: '<computed>', typeOnly: false, line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.getText() });
      return;
    }
    uses.push({ specifier: specifier.text, typeOnly, line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.getText().split('\n')[0] });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      // `import('x').T` in a type position: erased, but only activity types are welcome.
      const literal = ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined;
      add(node, literal as ts.Expression | undefined, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return uses;
}

/** What is wrong with one file's imports; empty when it may run in the workflow sandbox. */
function importViolations(fileName: string, source: string): string[] {
  const problems: string[] = [];
  for (const use of importsOf(fileName, source)) {
    const where = `${path.basename(fileName)}:${use.line} ${use.text}`;
    if (ALLOWED_PACKAGES.has(use.specifier)) continue;
    if (use.specifier.startsWith('./')) {
      // Another workflow file, in this folder.
      const target = path.resolve(path.dirname(fileName), use.specifier);
      if (path.dirname(target) !== path.dirname(fileName) || ![`${target}.ts`, path.join(target, 'index.ts')].some(existsSync)) {
        problems.push(`${where}: not a workflow file of this folder`);
      }
      continue;
    }
    const resolved = use.specifier.startsWith('.') ? path.resolve(path.dirname(fileName), use.specifier) : null;
    const isActivities = resolved !== null && (resolved === ACTIVITIES_DIR || resolved.startsWith(`${ACTIVITIES_DIR}${path.sep}`));
    if (isActivities && use.typeOnly) continue;
    problems.push(isActivities ? `${where}: activities may only be imported with \`import type\`` : `${where}: ${use.specifier} is not allowed in workflow code`);
  }
  return problems;
}

const workflowFiles = () =>
  readdirSync(WORKFLOWS_DIR)
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => path.join(WORKFLOWS_DIR, name));

describe('workflow bundle', () => {
  it('builds with the SDK bundler and exports the activation workflow', async () => {
    const bundle = await buildWorkflowBundle();
    expect(bundle.code.length).toBeGreaterThan(10_000);
    expect(bundle.code).toContain('activationWorkflow');
  });

  it('workflows/*.ts import only @temporalio/workflow, @temporalio/common, sibling workflow files and activity types', () => {
    const files = workflowFiles();
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['activation.ts', 'contracts.ts', 'index.ts']));
    const problems = files.flatMap((file) => importViolations(file, readFileSync(file, 'utf8')));
    expect(problems).toEqual([]);
    // And the rule is not vacuous: the activation workflow does use each allowed kind.
    const activation = importsOf('activation.ts', readFileSync(path.join(WORKFLOWS_DIR, 'activation.ts'), 'utf8'));
    expect(activation).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ specifier: '@temporalio/workflow', typeOnly: false }),
        expect.objectContaining({ specifier: '../activities', typeOnly: true }),
        expect.objectContaining({ specifier: './contracts', typeOnly: false }),
      ]),
    );
  });

  it('the import check catches what would break the sandbox', () => {
    const file = path.join(WORKFLOWS_DIR, 'example.ts');
    const source = [
      "import fs from 'node:fs';",
      "import { createActivities } from '../activities';",
      "import { type Activities } from '../activities';",
      "import { WalletService } from '../src/wallet';",
      "import type { Db } from '../src/db/client';",
      "import Redis from 'ioredis';",
      "export { x } from '../src/lib/money';",
      "const crypto = require('crypto');",
      "const later = import('./contracts');",
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type { Activities as A } from '../activities';",
      "import { searchAttributes } from './contracts';",
      "import { nothing } from './missing';",
    ].join('\n');
    expect(importViolations(file, source)).toEqual([
      "example.ts:1 import fs from 'node:fs';: node:fs is not allowed in workflow code",
      "example.ts:2 import { createActivities } from '../activities';: activities may only be imported with `import type`",
      "example.ts:3 import { type Activities } from '../activities';: activities may only be imported with `import type`",
      "example.ts:4 import { WalletService } from '../src/wallet';: ../src/wallet is not allowed in workflow code",
      "example.ts:5 import type { Db } from '../src/db/client';: ../src/db/client is not allowed in workflow code",
      "example.ts:6 import Redis from 'ioredis';: ioredis is not allowed in workflow code",
      "example.ts:7 export { x } from '../src/lib/money';: ../src/lib/money is not allowed in workflow code",
      "example.ts:8 require('crypto'): crypto is not allowed in workflow code",
      "example.ts:13 import { nothing } from './missing';: not a workflow file of this folder",
    ]);
  });

  it('the bundler itself refuses a workflow that imports a Node built-in (so CI fails, not production)', async () => {
    const dir = mkdtempSync(path.join(TMP_DIR, 'bundle-bad-'));
    try {
      cpSync(WORKFLOWS_DIR, path.join(dir, 'workflows'), { recursive: true });
      const file = path.join(dir, 'workflows', 'activation.ts');
      writeFileSync(file, `import { readFileSync } from 'node:fs';\nexport const sneaky = () => readFileSync('/etc/hostname', 'utf8');\n${readFileSync(file, 'utf8')}`);
      const said: string[] = [];
      const collect = (message: string, meta?: unknown) => said.push(`${message} ${meta === undefined ? '' : JSON.stringify(meta)}`);
      const logger = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: collect, error: collect, log: (_level: string, message: string, meta?: unknown) => collect(message, meta) };
      await expect(bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows', 'index.ts'), logger: logger as never })).rejects.toThrow(/Webpack finished with errors/);
      // The bundler names the offending module and the file that imported it.
      expect(said.join('\n')).toMatch(/node:fs/);
      expect(said.join('\n')).toMatch(/activation\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
