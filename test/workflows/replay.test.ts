/**
 * Determinism guard: histories recorded from real runs (test/workflows/record-histories.ts →
 * test/fixtures/histories/) must replay against the current workflow bundle. A workflow change
 * that would break running workflows in production fails here — proved below by bundling a
 * copy of workflows/ with two activity calls swapped, and, as a control, a copy with a
 * harmless change that must still replay.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { Worker, bundleWorkflowCode, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { TMP_DIR, WORKFLOW_BUNDLE_FILE } from '../support/paths';
import { HISTORIES_DIR, historyFromJson } from './history-json';
import { quietTemporalRuntime } from './support';

const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');

/** Every recorded scenario; a missing fixture is a failure, not a silently smaller test. */
const LEGACY = ['cancelled', 'completed', 'expired', 'failed', 'failed-over', 'operator-cancelled'];
const SCENARIOS = ['cancelled', 'completed', 'expired', 'failed', 'failed-over', 'operator-cancelled'];
/** The same scenarios as the `activation` type ran them (recorded with the prefix `activation-`). */
const PREVIOUS = SCENARIOS.map((name) => `activation-${name}`);
/** The same scenarios as the `purchase` type runs them (recorded with the prefix `purchase-`). */
const CURRENT = SCENARIOS.map((name) => `purchase-${name}`);
/** webhookDeliveryWorkflow's, recorded by record-webhook-history.ts: before its pauses ran out uncancelled, and since. */
const WEBHOOK = ['webhook-delivery', 'webhook-delivery-uncancelled-pauses'];
const EXPECTED = [...PREVIOUS, ...LEGACY, ...CURRENT, ...WEBHOOK];

function loadHistories() {
  return readdirSync(HISTORIES_DIR)
    .filter((file) => file.endsWith('.json') && file !== 'index.json')
    .map((file) => file.replace(/\.json$/, ''))
    .sort()
    .map((name) => ({ name, history: historyFromJson(JSON.parse(readFileSync(path.join(HISTORIES_DIR, `${name}.json`), 'utf8'))) }));
}

/** Replays every fixture; returns the error (or null) per fixture name. */
async function replayAll(workflowBundle: ReplayWorkerOptions['workflowBundle']): Promise<Record<string, Error | null>> {
  const fixtures = loadHistories();
  const results: Record<string, Error | null> = {};
  const replay = Worker.runReplayHistories(
    { workflowBundle },
    fixtures.map(({ name, history }) => ({ workflowId: name, history })),
  );
  for await (const result of replay) results[result.workflowId] = result.error ?? null;
  return results;
}

const quiet = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined };

/**
 * Bundles a copy of workflows/ in which `mutate` rewrote `fileName` — by default activation-v1.ts,
 * the code the recorded activation histories run (they predate activation.ts's `lean-activation`
 * marker). Under .tmp so the copy resolves the project's node_modules.
 */
async function bundleModifiedCopy(label: string, mutate: (source: string) => string, fileName = 'activation-v1.ts'): Promise<string> {
  const dir = mkdtempSync(path.join(TMP_DIR, `replay-${label}-`));
  try {
    cpSync(WORKFLOWS_DIR, path.join(dir, 'workflows'), { recursive: true });
    const file = path.join(dir, 'workflows', fileName);
    const original = readFileSync(file, 'utf8');
    const changed = mutate(original);
    expect(changed).not.toBe(original);
    writeFileSync(file, changed);
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows', 'index.ts'), logger: quiet as never });
    return bundle.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Swaps two whole lines, each found exactly once; fails loudly if the workflow no longer has them. */
function swapLines(source: string, first: RegExp, second: RegExp): string {
  const lines = source.split('\n');
  const find = (pattern: RegExp) => {
    const hits = lines.flatMap((line, i) => (pattern.test(line) ? [i] : []));
    if (hits.length !== 1) throw new Error(`expected exactly one line matching ${pattern}, found ${hits.length}: update the mutation to the workflow`);
    return hits[0];
  };
  const a = find(first);
  const b = find(second);
  [lines[a], lines[b]] = [lines[b], lines[a]];
  return lines.join('\n');
}

beforeAll(() => {
  quietTemporalRuntime();
});

describe('replay of recorded histories', () => {
  it('has every recorded scenario', () => {
    expect(loadHistories().map((f) => f.name)).toEqual(EXPECTED);
  });

  it('replays every history against the current workflow bundle', async () => {
    const results = await replayAll({ codePath: WORKFLOW_BUNDLE_FILE });
    expect(Object.keys(results).sort()).toEqual(EXPECTED);
    expect(results).toEqual(Object.fromEntries(EXPECTED.map((name) => [name, null])));
  });

  it('fails with DeterminismViolationError when two activity calls are reordered (a modified copy, bundled from a temp dir)', async () => {
    // Charge before storing the SMS: recordSms and captureFunds are scheduled the other way round.
    const code = await bundleModifiedCopy('reordered', (source) =>
      swapLines(source, /^\s*await local\.recordSms\(/, /^\s*await settle\('capture'\);\s*$/),
    );
    const results = await replayAll({ code });

    // Histories with an SMS scheduled those two activities; the others never reach that code.
    for (const name of ['completed', 'failed-over']) {
      expect(results[name]).toBeInstanceOf(DeterminismViolationError);
      expect(results[name]!.message).toMatch(/nondetermin/i);
    }
    for (const name of ['cancelled', 'expired', 'failed', 'operator-cancelled', ...WEBHOOK, ...PREVIOUS, ...CURRENT]) expect(results[name]).toBeNull();

    // The single-history API throws it too.
    const completed = loadHistories().find((f) => f.name === 'completed')!;
    await expect(Worker.runReplayHistory({ workflowBundle: { code } }, completed.history)).rejects.toBeInstanceOf(DeterminismViolationError);
  });

  it('fails the `activation` and `purchase` histories that end without a sale when that end runs another step (the release left out)', async () => {
    const code = await bundleModifiedCopy(
      'activation-other-step',
      (source) => {
        const line = /^(\s*)await db\.releaseAndClose\(\{ activationId: input\.activationId, release, status: next, reason, view: viewAs\(next\) \}\);$/m;
        expect(source).toMatch(line);
        return source.replace(line, '$1await db.recordOutcome({ activationId: input.activationId, status: next, reason, view: viewAs(next) });');
      },
      'activation.ts',
    );
    const results = await replayAll({ code });
    for (const prefix of ['activation-', 'purchase-']) {
      for (const name of ['cancelled', 'expired', 'failed', 'operator-cancelled']) expect(results[`${prefix}${name}`]).toBeInstanceOf(DeterminismViolationError);
      // Sold and finished: those end through finishAfterSms, which the change leaves alone.
      for (const name of ['completed', 'failed-over']) expect(results[`${prefix}${name}`]).toBeNull();
    }
    // The legacy type runs activation-v1.ts.
    for (const name of LEGACY) expect(results[name]).toBeNull();
  });

  it('tells the two lean shapes apart: `purchase` histories fail when the hold and the first buy are two steps again, `activation` ones when they are one', async () => {
    const code = await bundleModifiedCopy(
      'shapes-swapped',
      (source) => {
        const shapes = /^const PURCHASE_SHAPE: Shape = \{ holdAndBuyInOneStep: true, codeReceivedPhase: false \};\nconst ACTIVATION_SHAPE: Shape = \{ holdAndBuyInOneStep: false, codeReceivedPhase: true \};$/m;
        expect(source).toMatch(shapes);
        return source.replace(shapes, 'const PURCHASE_SHAPE: Shape = { holdAndBuyInOneStep: false, codeReceivedPhase: false };\nconst ACTIVATION_SHAPE: Shape = { holdAndBuyInOneStep: true, codeReceivedPhase: true };');
      },
      'activation.ts',
    );
    const results = await replayAll({ code });
    // Either way the history does not replay: a nondeterminism error, or the step's recorded result read as the other step's.
    for (const name of [...PREVIOUS, ...CURRENT]) expect(results[name]).toBeInstanceOf(Error);
    for (const name of [...LEGACY, ...WEBHOOK]) expect(results[name]).toBeNull();
  });

  it('fails the webhook delivery histories when their workflow schedules another activity first', async () => {
    const code = await bundleModifiedCopy(
      'webhook-extra-activity',
      (source) => source.replace(/^(\s*)(const outcome = await webhooks\.deliverWebhookEvent\()/m, '$1await webhooks.giveUpWebhookEvent({ eventId: ref.eventId, generation: ref.generation });\n$1$2'),
      'webhook-delivery.ts',
    );
    const results = await replayAll({ code });
    for (const name of WEBHOOK) expect(results[name]).toBeInstanceOf(DeterminismViolationError);
    expect(results.completed).toBeNull();
  });

  it('still replays after a change that adds no commands (a log line)', async () => {
    const code = await bundleModifiedCopy('harmless', (source) =>
      source.replace(/^(\s*)(const sold = await buy\(reservation\.candidates\);)$/m, "$1log.info('buying', { activationId: input.activationId });\n$1$2"),
    );
    const results = await replayAll({ code });
    expect(results).toEqual(Object.fromEntries(EXPECTED.map((name) => [name, null])));
  });
});
