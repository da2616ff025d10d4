import { outboxEntryTag, withEmailSent } from '../domain/port-request';
import type { PortInRepository } from './ports';

/** What SES's Send event says of one email the service sent (its tags name the outbox entry). */
export interface EmailSentConfirmation {
  readonly accountId: string;
  readonly portRequestId: string;
  /** The outbox entry's id as tagged ({@link outboxEntryTag}). */
  readonly outboxEntry: string;
  readonly messageId: string;
  /** When SES took the email. */
  readonly at: string;
}

/**
 * ConfirmEmailSent: SES took an email (its Send event, through EventBridge), so the outbox entry is marked sent,
 * whether or not the DeliverEmails invocation that handed it over lived to mark it. The one mark wins: an entry
 * already marked (by DeliverEmails on SES's answer, or by an earlier delivery of this event) is left as it is.
 * `unknown`: no such port request or entry (an email of a port request deleted since, say), nothing to do.
 */
export async function confirmEmailSent(
  confirmation: EmailSentConfirmation,
  deps: { repository: PortInRepository },
): Promise<'marked' | 'already-marked' | 'unknown'> {
  const { accountId, portRequestId } = confirmation;
  const pr = await deps.repository.getPortRequest(accountId, portRequestId);
  const entry = pr?.outbox.find((e) => outboxEntryTag(e.id) === confirmation.outboxEntry);
  if (!pr || !entry) return 'unknown';
  if (entry.sentAt || entry.deadLetteredAt) return 'already-marked';
  const updated = await deps.repository.updatePortRequest(accountId, portRequestId, (current) =>
    withEmailSent(current, entry.id, { at: confirmation.at, messageId: confirmation.messageId }),
  );
  const marked = updated.outbox.find((e) => e.id === entry.id);
  return marked?.messageId === confirmation.messageId && marked.sentAt === confirmation.at
    ? 'marked'
    : 'already-marked';
}
