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
