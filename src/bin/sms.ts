import { randomInt } from 'node:crypto';
import { loadConfig } from '../config/app.config';
import { createDb } from '../db/client';
import { activationIdPattern, simulatorSmsUrl, SMS_CODE } from './sms-target';

/**
 * `npm run sms -- <activation id> [code]`: the development simulator sends an SMS to the number
 * of one of SimGate's activations — the id the web app shows on the number's page (and in its
 * address, `#/numbers/<id>`). Looks up which provider sold it and the provider's own id, then
 * calls the simulator's control API; the SMS reaches SimGate the way a provider's would.
 */
async function main(args: string[]): Promise<number> {
  const [idArg, codeArg] = args;
  const pattern = idArg ? activationIdPattern(idArg) : null;
  if (!pattern) {
    console.error('usage: npm run sms -- <activation id, e.g. act-3f2a… or its first characters> [code]');
    return 2;
  }
  if (codeArg !== undefined && !SMS_CODE.test(codeArg)) {
    console.error(`"${codeArg}" is not a code (4–8 letters or digits)`);
    return 2;
  }
  const code = codeArg ?? String(randomInt(100_000, 1_000_000));
  const db = createDb(loadConfig().env.DATABASE_URL, { max: 1 });
  try {
    const matches = await db.activation.findMany({
      where: { OR: [{ id: pattern.exact }, { id: { startsWith: pattern.prefix } }] },
      select: { id: true, status: true, upstreamId: true, provider: { select: { id: true, baseUrl: true } } },
      orderBy: { createdAt: 'desc' },
      take: 5,
    });
    const activation = matches.find((m) => m.id === pattern.exact) ?? (matches.length === 1 ? matches[0] : null);
    if (!activation) {
      console.error(matches.length === 0 ? `no activation ${idArg}` : `"${idArg}" is the start of several activations: ${matches.map((m) => m.id).join(', ')}`);
      return 1;
    }
    if (!activation.provider || !activation.upstreamId) {
      console.error(`${activation.id} has no number yet (${activation.status})`);
      return 1;
    }
    const url = simulatorSmsUrl(activation.provider.baseUrl, activation.upstreamId);
    if (!url) {
      console.error(`${activation.id} was sold by ${activation.provider.id}, which is not the development simulator`);
      return 1;
    }
    const reply = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) }).catch((error: unknown) => error as Error);
    if (reply instanceof Error) {
      console.error(`the simulator did not answer at ${new URL(url).origin} (is npm start running?): ${reply.message}`);
      return 1;
    }
    if (!reply.ok) {
      const body = (await reply.json().catch(() => null)) as { error?: { message?: string } } | null;
      console.error(`the simulator refused: ${body?.error?.message ?? reply.status}`);
      return 1;
    }
    console.log(`SMS with code ${code} sent to ${activation.id} (${activation.provider.id}, upstream ${activation.upstreamId})`);
    return 0;
  } finally {
    await db.$disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
