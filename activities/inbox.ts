import { log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../src/db/client';
import type { Logger } from '../src/lib/logger';
import type { ProviderRegistry } from '../src/providers/registry';
import { smsReceivedSignal, type InboxSignalled } from '../workflows/contracts';
import { isUnknownProvider } from './catalog';

export interface InboxActivityDeps {
  db: Db;
  providers: ProviderRegistry;
  /** Signals the activation workflows; the worker's process-wide client (container.temporal.client). */
  temporal?: Client;
  logger?: Logger;
  now?: () => number;
}

export interface InboxPollResult {
  /** The state to pass to the next poll: only activations the provider still lists with a code. */
  lastSignalled: InboxSignalled;
  /** Activation ids signalled by this poll. */
  signalled: string[];
  /** Activations the provider lists as active (with or without a code). */
  active: number;
  /** The provider is gone (or disabled with nothing left to deliver): the poller may end. */
  stop: boolean;
}

/** Upper bound on the carried state, whatever the provider lists. */
const MAX_TRACKED = 5000;

/**
 * The provider inbox poller's step (workflows/provider-inbox.ts): one getActiveActivations call
 * for the whole provider instead of one getStatus per activation, and a signal to every ACTIVE
 * activation whose newest code it has not delivered yet. Records nothing: the activation
 * workflow de-duplicates, stores and charges.
 */
export function createInboxActivities(deps: InboxActivityDeps) {
  const now = deps.now ?? Date.now;
  const warn = (fields: Record<string, unknown>, message: string) => {
    if (deps.logger) deps.logger.warn(fields, message);
    else log.warn(message, fields);
  };

  return {
    async pollProviderInbox(input: { providerId: string; lastSignalled?: InboxSignalled }): Promise<InboxPollResult> {
      const { db } = deps;
      const temporal = deps.temporal;
      if (!temporal) throw new Error('pollProviderInbox needs a Temporal client (ActivityDeps.temporal)');
      const previous = input.lastSignalled ?? {};

      let registered;
      try {
        registered = await deps.providers.get(input.providerId);
      } catch (error) {
        if (isUnknownProvider(error)) return { lastSignalled: {}, signalled: [], active: 0, stop: true };
        throw error;
      }
      const row = await db.provider.findUnique({ where: { id: input.providerId }, select: { enabled: true } });
      if (!row?.enabled) {
        // A disabled provider sells nothing new, but the numbers it sold still get their SMS.
        const open = await db.activation.count({ where: { providerId: input.providerId, status: 'ACTIVE' } });
        if (open === 0) return { lastSignalled: {}, signalled: [], active: 0, stop: true };
      }

      const listed = await registered.adapter.getActiveActivations();
      const withCodes = listed.filter((a) => a.codes.length > 0);
      if (withCodes.length === 0) return { lastSignalled: {}, signalled: [], active: listed.length, stop: false };

      const rows = await db.activation.findMany({
        where: { providerId: input.providerId, upstreamId: { in: withCodes.map((a) => a.upstreamId) }, status: 'ACTIVE' },
        select: { id: true, upstreamId: true, messages: { select: { code: true } } },
      });
      const byUpstream = new Map(rows.map((r) => [r.upstreamId!, r]));

      const next: InboxSignalled = {};
      const toSignal: { activationId: string; code: string; mark: string }[] = [];
      for (const activation of withCodes) {
        const row = byUpstream.get(activation.upstreamId);
        if (!row) continue; // not ours, or no longer waiting
        const code = activation.codes[activation.codes.length - 1];
        const mark = `${activation.codes.length}:${code}`;
        if (previous[row.id] === mark || row.messages.some((m) => m.code === code)) {
          // Signalled by an earlier poll, or already stored by the workflow (webhook, its own poll).
          next[row.id] = mark;
          continue;
        }
        toSignal.push({ activationId: row.id, code, mark });
      }

      const receivedAt = new Date(now()).toISOString();
      const outcomes = await Promise.allSettled(
        toSignal.map(({ activationId, code }) =>
          // An inbox lists codes, not texts: the code stands in for the text, as with a status poll.
          temporal.workflow.getHandle(activationId).signal(smsReceivedSignal, { code, text: code, receivedAt, source: 'inbox' }),
        ),
      );
      const signalled: string[] = [];
      outcomes.forEach((outcome, i) => {
        const { activationId, mark } = toSignal[i];
        if (outcome.status === 'fulfilled') {
          signalled.push(activationId);
          next[activationId] = mark;
        } else if (outcome.reason instanceof WorkflowNotFoundError) {
          // Already closed: nothing to deliver to; do not try again.
          next[activationId] = mark;
        } else {
          // Not marked: the next poll tries again.
          warn({ providerId: input.providerId, activationId, err: outcome.reason }, 'inbox signal failed');
        }
      });

      const keys = Object.keys(next);
      if (keys.length > MAX_TRACKED) for (const key of keys.slice(0, keys.length - MAX_TRACKED)) delete next[key];
      return { lastSignalled: next, signalled, active: listed.length, stop: false };
    },
  };
}
