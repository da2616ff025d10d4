import { type EmailData, renderEmail } from '../../domain/emails';
import {
  carrierNumbersStillPorting,
  estimatedMonthlyCostUsd,
  expectedCompletion,
  type OutboxEmail,
  type PortRequest,
  withEvent,
} from '../../domain/port-request';
import { EmailRejectedError } from '../../shared/errors';
import { orderPortRequests } from '../order-port-requests';
import type { Clock, Mailer, Metrics, PortInRepository } from '../ports';

/**
 * The template data of a port request: names, numbers and dates, never a PIN or an account number.
 * `orderPortRequests` (the port requests of its order) tell whether the carrier still has numbers porting.
 */
export function toEmailData(pr: PortRequest, orderPortRequests: readonly PortRequest[] = []): EmailData {
  const stillPorting = carrierNumbersStillPorting(pr, orderPortRequests);
  return {
    portRequestId: pr.portRequestId,
    status: pr.status,
    losingCarrierName: pr.losingCarrier.name,
    customerName: pr.losingCarrier.customerName,
    authorizedRepresentative: pr.losingCarrier.authorizedRepresentative,
    route: pr.route,
    phoneNumbers: pr.phoneNumbers.map((n) => ({
      phoneNumber: n.phoneNumber,
      status: n.status,
      imported: n.imported,
      ...(n.rejectionReason ? { rejectionReason: n.rejectionReason } : {}),
    })),
    ...(pr.focDate ? { focDate: pr.focDate } : {}),
    ...(pr.previousFocDate ? { previousFocDate: pr.previousFocDate } : {}),
    expectedCompletion: expectedCompletion(pr),
    estimatedMonthlyCostUsd: estimatedMonthlyCostUsd(pr.phoneNumbers),
    ...(stillPorting.length > 0 ? { carrierNumbersStillPorting: stillPorting } : {}),
  };
}

/**
 * DeliverEmails: sends every email the outbox owes, oldest first, marking each sent with its timeline event.
 * An email stays in the outbox until SES took it, so a failure is retried and nothing is lost. An email SES refuses
 * for good (EmailRejectedError) is dead-lettered instead: marked so, with its timeline event and a DeadLetters
 * count for the operations alarm, and the rest of the outbox still goes out.
 */
export async function deliverEmails(
  input: { accountId: string; portRequestId: string },
  deps: { repository: PortInRepository; mailer: Mailer; clock: Clock; metrics: Metrics },
): Promise<{ sent: number; deadLettered: number }> {
  let sent = 0;
  let deadLettered = 0;
  for (;;) {
    const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
    if (!pr) throw new Error(`Port request ${input.portRequestId} not found`);
    const pending = pr.outbox.find((e) => !e.sentAt && !e.deadLetteredAt);
    if (!pending) return { sent, deadLettered };
    // "Safe to cancel" is decided when it goes out (after this request's import): by then, of two requests of one
    // carrier finishing together, at least the later one sees the other imported.
    const order = pending.template === 'PORT_COMPLETED' ? await orderPortRequests(deps.repository, pr) : [];
    const email = renderEmail(pending.template, toEmailData(pr, order));
    let messageId: string;
    try {
      ({ messageId } = await deps.mailer.send({
        to: pr.notificationEmails,
        ...email,
        tags: { template: pending.template },
      }));
    } catch (error) {
      if (!(error instanceof EmailRejectedError)) throw error;
      const at = deps.clock.now().toISOString();
      const reason = error.cause instanceof Error ? error.cause.name : error.name;
      const marked = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
        const entry = current.outbox.find((e) => e.id === pending.id);
        if (!entry || entry.sentAt || entry.deadLetteredAt) return undefined;
        const outbox = current.outbox.map(
          (e): OutboxEmail => (e.id === pending.id ? { ...e, deadLetteredAt: at, deadLetterReason: reason } : e),
        );
        return withEvent(
          { ...current, outbox },
          { at, type: 'EMAIL_DEAD_LETTERED', detail: `${pending.template}: ${reason}` },
        );
      });
      if (marked.outbox.find((e) => e.id === pending.id)?.deadLetteredAt === at) {
        deps.metrics.count('DeadLetters');
        deadLettered += 1;
      }
      continue;
    }
    const at = deps.clock.now().toISOString();
    await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
      const entry = current.outbox.find((e) => e.id === pending.id);
      if (!entry || entry.sentAt) return undefined;
      const outbox = current.outbox.map(
        (e): OutboxEmail => (e.id === pending.id ? { ...e, sentAt: at, messageId } : e),
      );
      return withEvent({ ...current, outbox }, { at, type: 'EMAIL_SENT', detail: pending.template });
    });
    sent += 1;
  }
}
