import { log } from '@temporalio/activity';
import type { MatchedActivation, SmsIntake } from '../src/activations/sms-intake';
import type { Db } from '../src/db/client';
import type { Logger } from '../src/lib/logger';
import type { ProviderRegistry } from '../src/providers/registry';
import type { InboxSignalled } from '../workflows/contracts';
import { isUnknownProvider } from './catalog';

export interface InboxActivityDeps {
  db: Db;
  providers: ProviderRegistry;
  /** Hands each SMS to its activation (src/activations/sms-intake.ts); needs the worker's Temporal client. */
  intake?: SmsIntake;
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
 * for the whole provider instead of one getStatus per activation, and each code it has not
 * delivered yet handed to the SMS intake — the same path a webhook takes. Records nothing
 * itself: the activation workflow de-duplicates, stores and charges.
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
      const intake = deps.intake;
      if (!intake) throw new Error('pollProviderInbox needs the SMS intake (ActivityDeps.intake)');
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

      const ours = await intake.match(input.providerId, withCodes.map((a) => a.upstreamId));
      const next: InboxSignalled = {};
      const toDeliver: { activation: MatchedActivation; code: string; mark: string }[] = [];
      for (const listedActivation of withCodes) {
        const activation = ours.get(listedActivation.upstreamId);
        if (!activation) continue; // another client's number on the same provider account
        const code = listedActivation.codes[listedActivation.codes.length - 1];
        const mark = `${listedActivation.codes.length}:${code}`;
        if (previous[activation.id] === mark || activation.messages.some((m) => m.code === code)) {
          // Delivered by an earlier poll, or already stored by the workflow (webhook, its own poll).
          next[activation.id] = mark;
          continue;
        }
        toDeliver.push({ activation, code, mark });
      }

      const receivedAt = new Date(now()).toISOString();
      const outcomes = await Promise.all(
        // An inbox lists codes, not texts: the code stands in for the text, as with a status poll.
        toDeliver.map(({ activation, code }) => intake.deliver(input.providerId, activation.upstreamId, { code, text: code, receivedAt, source: 'inbox' }, activation)),
      );
      const signalled: string[] = [];
      outcomes.forEach((outcome, i) => {
        const { activation, mark } = toDeliver[i];
        if (outcome.kind === 'failed') {
          // Not marked: the next poll tries again.
          warn({ providerId: input.providerId, activationId: activation.id, err: outcome.error }, 'inbox signal failed');
          return;
        }
        if (outcome.kind === 'signalled') signalled.push(activation.id);
        next[activation.id] = mark;
      });

      const keys = Object.keys(next);
      if (keys.length > MAX_TRACKED) for (const key of keys.slice(0, keys.length - MAX_TRACKED)) delete next[key];
      return { lastSignalled: next, signalled, active: listed.length, stop: false };
    },
  };
}
