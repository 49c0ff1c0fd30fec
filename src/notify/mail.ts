import type { Db } from '../db/client';
import type { Logger } from '../lib/logger';

export interface MailMessageInput {
  to: string;
  subject: string;
  text: string;
}

/** How SimGate sends e-mail (verification links, password resets). */
export interface Mailer {
  send(message: MailMessageInput): Promise<void>;
}

/**
 * Development and test transport: every message lands in the `mail_outbox` table, where tests
 * and developers read it (`SELECT * FROM mail_outbox ORDER BY id DESC`). Nothing leaves the machine.
 */
export class OutboxMailer implements Mailer {
  constructor(private readonly deps: { db: Db; logger?: Logger }) {}

  async send(message: MailMessageInput): Promise<void> {
    await this.deps.db.mailMessage.create({ data: { to: message.to, subject: message.subject, text: message.text } });
    // The body carries one-time tokens: log that a message went out, never what it said.
    this.deps.logger?.debug({ to: message.to, subject: message.subject }, 'mail queued in mail_outbox');
  }
}

/**
 * `npm start` only: every message also goes to the terminal, so a developer trying the sign-up
 * or "forgot password" flow can open the link without reading the mail_outbox table.
 */
export class EchoingMailer implements Mailer {
  constructor(
    private readonly inner: Mailer,
    private readonly echo: (message: MailMessageInput) => void,
  ) {}

  async send(message: MailMessageInput): Promise<void> {
    await this.inner.send(message);
    this.echo(message);
  }
}
