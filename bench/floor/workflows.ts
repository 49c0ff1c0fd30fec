/**
 * Temporal's own floor for a purchase, measured by bench/floor.ts on the same dev server as
 * SimGate: update-with-start of a workflow that answers the update at once and ends. Nothing of
 * SimGate is in it, so what it costs is what any workflow costs on this machine right now.
 */
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

export const readyUpdate = defineUpdate<string>('ready');

export async function floorWorkflow(): Promise<string> {
  let answered = false;
  setHandler(readyUpdate, () => {
    answered = true;
    return 'ready';
  });
  await condition(() => answered);
  return 'done';
}
