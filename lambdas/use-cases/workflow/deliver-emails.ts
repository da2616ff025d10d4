import { type EmailData, renderEmail } from '../../domain/emails';
import {
  carrierNumbersStillPorting,
  estimatedMonthlyCostUsd,
  expectedCompletion,
  type OutboxEmail,
  outboxEntryTag,
  type PortRequest,
  withEmailSent,
  withEvent,
} from '../../domain/port-request';
import { CrashPoints, crashPoint } from '../../shared/crash-points';
import { EmailDeliveryFailedError, EmailRejectedError, EmailSendUnconfirmedError } from '../../shared/errors';
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
      ...(n.verification
        ? {
            verification: {
              status: n.verification.status,
              ...(n.verification.detail ? { detail: n.verification.detail } : {}),
              ...(n.verification.notTestCalled ? { notTestCalled: true } : {}),
            },
          }
        : {}),
    })),
    ...(pr.twilioPortInRequestSid ? { twilioPortInRequestSid: pr.twilioPortInRequestSid } : {}),
    ...(pr.focDate ? { focDate: pr.focDate } : {}),
    ...(pr.previousFocDate ? { previousFocDate: pr.previousFocDate } : {}),
    expectedCompletion: expectedCompletion(pr),
    estimatedMonthlyCostUsd: estimatedMonthlyCostUsd(pr.phoneNumbers),
    ...(stillPorting.length > 0 ? { carrierNumbersStillPorting: stillPorting } : {}),
  };
}

/** How DeliverEmails settles an email an earlier invocation may have handed to SES (see {@link deliverEmails}). */
export interface EmailConfirmation {
  /**
   * How long after the claim SES's Send event may still come (EventBridge delivers SES events best effort, within
   * seconds as a rule). Past it, an unconfirmed email was never taken and is sent again.
   */
  readonly windowSeconds: number;
  /** How long one invocation waits for the confirmation before leaving it to the state machine's retry. */
  readonly waitMs: number;
  /** How often it reads the outbox while it waits. */
  readonly pollMs: number;
}

export const DEFAULT_EMAIL_CONFIRMATION: EmailConfirmation = { windowSeconds: 600, waitMs: 5000, pollMs: 250 };

export interface DeliverEmailsDeps {
  readonly repository: PortInRepository;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly confirmation?: EmailConfirmation;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The entry, unless it is settled (sent or dead-lettered) or claimed by someone else than `claim`. */
function stillOwed(pr: PortRequest, id: string, claim: string | undefined): OutboxEmail | undefined {
  const entry = pr.outbox.find((e) => e.id === id);
  if (!entry || entry.sentAt || entry.deadLetteredAt || entry.sendingSince !== claim) return undefined;
  return entry;
}

function withEntry(pr: PortRequest, id: string, change: (entry: OutboxEmail) => OutboxEmail): PortRequest {
  return { ...pr, outbox: pr.outbox.map((e) => (e.id === id ? change(e) : e)) };
}

function unclaimed(entry: OutboxEmail): OutboxEmail {
  const { sendingSince: _claim, ...rest } = entry;
  return rest;
}

/**
 * An entry an earlier invocation claimed and did not mark: waits (up to `waitMs`) for SES's Send event to mark it
 * sent. `settled`: it changed meanwhile (read the outbox again); `resend`: the window passed with no confirmation,
 * so SES never took it. Otherwise throws EmailSendUnconfirmedError, for the state machine to retry.
 */
async function settleInDoubt(
  input: { accountId: string; portRequestId: string },
  entry: OutboxEmail,
  deps: DeliverEmailsDeps,
  confirmation: EmailConfirmation,
): Promise<'settled' | 'resend'> {
  const sleep = deps.sleep ?? defaultSleep;
  const deadline = Date.parse(entry.sendingSince as string) + confirmation.windowSeconds * 1000;
  const waitUntil = deps.clock.now().getTime() + confirmation.waitMs;
  for (;;) {
    const now = deps.clock.now().getTime();
    if (now >= deadline) return 'resend';
    if (now >= waitUntil) {
      throw new EmailSendUnconfirmedError(
        `${entry.template} may have gone out at ${entry.sendingSince}: waiting for SES to confirm it`,
      );
    }
    await sleep(Math.min(confirmation.pollMs, deadline - now));
    const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
    if (!pr || !stillOwed(pr, entry.id, entry.sendingSince)) return 'settled';
  }
}

/**
 * DeliverEmails: sends every email the outbox owes, oldest first, each exactly once. An email stays in the outbox
 * until SES took it, so a failure is retried and nothing is lost; and since SendEmail has no idempotency token, each
 * send is claimed first (`sendingSince`), tagged with its outbox entry, and marked sent on SES's answer. An
 * invocation that dies between SES taking the email and the mark leaves the claim: the next one does not send it
 * again but waits for SES's Send event, which marks it sent (ConfirmEmailSent), and sends it again only when the
 * confirmation window passes without one (then SES never took it). An email SES refuses for good
 * (EmailRejectedError) is dead-lettered instead: marked so, with its timeline event and a DeadLetters count for the
 * operations alarm, and the rest of the outbox still goes out.
 */
export async function deliverEmails(
  input: { accountId: string; portRequestId: string },
  deps: DeliverEmailsDeps,
): Promise<{ sent: number; deadLettered: number }> {
  const confirmation = deps.confirmation ?? DEFAULT_EMAIL_CONFIRMATION;
  const { accountId, portRequestId } = input;
  let sent = 0;
  let deadLettered = 0;
  for (;;) {
    const pr = await deps.repository.getPortRequest(accountId, portRequestId);
    if (!pr) throw new Error(`Port request ${portRequestId} not found`);
    const pending = pr.outbox.find((e) => !e.sentAt && !e.deadLetteredAt);
    if (!pending) return { sent, deadLettered };
    if (pending.sendingSince) {
      if ((await settleInDoubt(input, pending, deps, confirmation)) === 'settled') continue;
      deps.metrics.count('EmailsUnconfirmed');
    }
    // "Safe to cancel" is decided when it goes out (after this request's import): by then, of two requests of one
    // carrier finishing together, at least the later one sees the other imported.
    const order = pending.template === 'PORT_COMPLETED' ? await orderPortRequests(deps.repository, pr) : [];
    const email = renderEmail(pending.template, toEmailData(pr, order));
    const claim = deps.clock.now().toISOString();
    const claimed = await deps.repository.updatePortRequest(accountId, portRequestId, (current) =>
      stillOwed(current, pending.id, pending.sendingSince)
        ? withEntry(current, pending.id, (e) => ({ ...e, sendingSince: claim }))
        : undefined,
    );
    // Another invocation claimed or settled it meanwhile: look again.
    if (!stillOwed(claimed, pending.id, claim)) continue;
    await crashPoint(CrashPoints.EmailClaimed);
    let messageId: string;
    try {
      ({ messageId } = await deps.mailer.send({
        to: pr.notificationEmails,
        ...email,
        tags: { template: pending.template, accountId, portRequestId, outboxEntry: outboxEntryTag(pending.id) },
      }));
    } catch (error) {
      if (error instanceof EmailDeliveryFailedError && !error.maybeTaken) {
        // SES answered no: the email was not taken, and the next attempt may send it at once.
        await deps.repository.updatePortRequest(accountId, portRequestId, (current) =>
          stillOwed(current, pending.id, claim) ? withEntry(current, pending.id, unclaimed) : undefined,
        );
      }
      if (!(error instanceof EmailRejectedError)) throw error;
      const at = deps.clock.now().toISOString();
      const reason = error.cause instanceof Error ? error.cause.name : error.name;
      const marked = await deps.repository.updatePortRequest(accountId, portRequestId, (current) => {
        if (!stillOwed(current, pending.id, claim)) return undefined;
        const outbox = withEntry(current, pending.id, (e) => ({
          ...unclaimed(e),
          deadLetteredAt: at,
          deadLetterReason: reason,
        }));
        return withEvent(outbox, { at, type: 'EMAIL_DEAD_LETTERED', detail: `${pending.template}: ${reason}` });
      });
      if (marked.outbox.find((e) => e.id === pending.id)?.deadLetteredAt === at) {
        deps.metrics.count('DeadLetters');
        deadLettered += 1;
      }
      continue;
    }
    await crashPoint(CrashPoints.EmailTaken);
    const at = deps.clock.now().toISOString();
    await deps.repository.updatePortRequest(accountId, portRequestId, (current) =>
      withEmailSent(current, pending.id, { at, messageId }),
    );
    sent += 1;
  }
}
