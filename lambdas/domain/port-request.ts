import type { EmailTemplateName } from './emails';
import {
  canTransition,
  isTerminal,
  mapTwilioNumberStatus,
  mapTwilioRequestStatus,
  type PhoneNumberStatus,
  type PortRequestStatus,
} from './port-status';

export type PortRoute = 'API' | 'MANUAL';
export type NumberType = 'LOCAL' | 'MOBILE' | 'TOLL_FREE' | 'UNKNOWN';

/** What the customer told us about their account with the losing carrier. PINs are kept apart (see `pins`). */
export interface LosingCarrier {
  readonly name: string;
  readonly customerType?: 'Business' | 'Individual';
  readonly customerName: string;
  readonly accountNumber?: string;
  readonly accountTelephoneNumber?: string;
  readonly authorizedRepresentative: string;
  readonly authorizedRepresentativeEmail: string;
  readonly address: {
    readonly street: string;
    readonly street2?: string;
    readonly city: string;
    readonly state: string;
    readonly zip: string;
    readonly country: string;
  };
  readonly utilityBillDocumentSid?: string;
}

export interface PortRequestNumber {
  readonly phoneNumber: string;
  readonly numberType: NumberType;
  readonly status: PhoneNumberStatus;
  readonly focDate?: string;
  readonly rejectionReason?: string;
  readonly imported: boolean;
  /** Whether calls to the number reach Ring Tonic (VerifyNumbers); absent until the number is imported. */
  readonly verification?: NumberVerification;
}

/** PENDING until checked; FAILED is checked again until it passes or the re-checks give up. */
export type VerificationStatus = 'PENDING' | 'PASSED' | 'FAILED' | 'SKIPPED';

/** Why a number failed its check, as {@link explainVerificationFailure} words it for the customer. */
export type VerificationFailure =
  | 'NOT_IN_TWILIO_ACCOUNT'
  | 'NOT_VOICE_CAPABLE'
  | 'VOICE_URL_ELSEWHERE'
  | 'CALL_DID_NOT_ARRIVE'
  | 'ROUTER_DID_NOT_ANSWER';

/** The test call of one check: written before the call is created, so that a retry never places a second one. */
export interface VerificationCall {
  /** The check (the port request's `verificationRound`) the call belongs to. */
  readonly round: number;
  /** The caller ID: another number of the Twilio account. */
  readonly from: string;
  /** When the create was first tried; a retry that finds this set looks for the call before creating one. */
  readonly attemptedAt: string;
  readonly callSid?: string;
  /** When the call was known to be placed: its inbound leg is looked for from then, within the answer window. */
  readonly placedAt?: string;
}

/** A number's verification, as GET port-requests/{id} answers it (`failure` and `call` stay inside). */
export interface NumberVerification {
  readonly status: VerificationStatus;
  readonly checkedAt?: string;
  /** In plain words: what passed, or why it failed and what that means. */
  readonly detail?: string;
  readonly failure?: VerificationFailure;
  /** The test call of the check in progress. */
  readonly call?: VerificationCall;
  /** Passed on the number checks alone: the account has no other number to call it from. */
  readonly notTestCalled?: boolean;
}

/** Plain words for a failed check: what is wrong, for the customer. */
export function explainVerificationFailure(failure: VerificationFailure): string {
  switch (failure) {
    case 'NOT_IN_TWILIO_ACCOUNT':
      return 'The number is not in your Twilio account yet.';
    case 'NOT_VOICE_CAPABLE':
      return 'Twilio says the number cannot take voice calls.';
    case 'VOICE_URL_ELSEWHERE':
      return 'Calls to the number go somewhere else than Ring Tonic: its voice URL in Twilio was changed.';
    case 'CALL_DID_NOT_ARRIVE':
      return 'Our test call did not reach your Twilio account: the old carrier may still be routing the number.';
    case 'ROUTER_DID_NOT_ANSWER':
      return 'Our test call reached your Twilio account but Ring Tonic did not answer it.';
  }
}

/** A number's verification as far as the customer sees it: PENDING until it is imported and checked. */
export function verificationOf(n: PortRequestNumber): NumberVerification {
  return n.verification ?? { status: 'PENDING' };
}

/** One entry of the timeline that GET .../events answers. */
export interface TimelineEvent {
  readonly at: string;
  readonly type: string;
  readonly status?: PortRequestStatus;
  readonly detail?: string;
}

/** An email the port request owes the customer; written with the change that requires it, sent by DeliverEmails. */
export interface OutboxEmail {
  readonly id: string;
  readonly template: EmailTemplateName;
  readonly createdAt: string;
  readonly sentAt?: string;
  readonly messageId?: string;
  /** When SES refused it for good: it is not sent again (the DeadLetters alarm tells operations). */
  readonly deadLetteredAt?: string;
  /** Why it was dead-lettered, e.g. the SES error name. */
  readonly deadLetterReason?: string;
  /**
   * When a DeliverEmails invocation claimed it to hand it to SES. While set (and not `sentAt`), whether SES took it
   * is in doubt: the invocation may have died in between. SES's Send event settles it (ConfirmEmailSent marks it
   * sent); without one within the confirmation window it was never taken, and it is sent again.
   */
  readonly sendingSince?: string;
}

/** A port request: one losing-carrier account, at most 1,000 numbers, one Step Functions execution. */
export interface PortRequest {
  readonly accountId: string;
  readonly portRequestId: string;
  readonly orderId: string;
  readonly status: PortRequestStatus;
  readonly route: PortRoute;
  readonly losingCarrier: LosingCarrier;
  /** PINs by number, kept only until the port-in is submitted to Twilio. */
  readonly pins?: Readonly<Record<string, string>>;
  readonly phoneNumbers: readonly PortRequestNumber[];
  readonly targetPortInDate?: string;
  readonly focDate?: string;
  readonly notificationEmails: readonly string[];
  readonly twilioAccountSid: string;
  readonly twilioPortInRequestSid?: string;
  readonly events: readonly TimelineEvent[];
  readonly outbox: readonly OutboxEmail[];
  readonly taskToken?: string;
  readonly wakeRequestedAt?: string;
  /** How many wakes (webhooks, corrections, cancel) have been recorded; a counter, so no clock race can hide one. */
  readonly wakeCount?: number;
  /** The `wakeCount` that the last SyncPortStatus had read when it started: later wakes are still pending. */
  readonly wakesHandled?: number;
  /**
   * The earliest Twilio webhook no sync has covered yet: when it arrived, and the `wakeCount` it recorded. The
   * sync that covers it and changes the status reports the time between (WebhookToTransitionLatency).
   */
  readonly webhookPendingSince?: string;
  readonly webhookPendingWake?: number;
  readonly lastSyncedAt?: string;
  /**
   * The earliest time a sync woken by a Twilio webhook may start: the last sync plus the settle window. Twilio sends
   * webhooks in bursts (one per number of a 1,000-number port at each change); the burst's first webhook wakes the
   * workflow at once, the rest of it is read by one sync at this time (SettleWebhooks waits for it).
   */
  readonly webhookSyncNotBefore?: string;
  readonly lastReminderAt?: string;
  /** The FOC date before the last change, for the "date changed" email. */
  readonly previousFocDate?: string;
  /**
   * The FOC date whose "tomorrow" reminder went out, or whose own announcement (set or changed) went out when the
   * reminder was already due and so stands for it.
   */
  readonly focReminderSentFor?: string;
  /** When the customer last sent a correction; resubmitted when later than `lastSubmittedAt`. */
  readonly correctionRequestedAt?: string;
  readonly lastSubmittedAt?: string;
  /** When a Port In create was first tried and no sid stored yet: lets a retry adopt what a lost answer created. */
  readonly portInCreateAttemptedAt?: string;
  /** When a sync first found this port past its maximum age (the operations alarm's signal). */
  readonly pastMaxAgeAt?: string;
  /**
   * Set when the port request is written, cleared once its execution is known to have started: until then the
   * sweeper (StartPendingWorkflowsFunction) starts it, so an accepted order is never left without its executions.
   */
  readonly workflowStartPendingSince?: string;
  /**
   * Since when a workflow step has kept failing for a transient reason (Twilio or AWS unavailable, a crash), and
   * why: set with the one DELAYED timeline event of that delay, cleared when a retry of the step succeeds.
   */
  readonly delayedSince?: string;
  readonly delayReason?: string;
  /** When ImportNumbers first imported the ported numbers (the port counts as completed then). */
  readonly importedAt?: string;
  /** The ported numbers' checks (VerifyNumbers): which one is going, when verification began, when it gave up. */
  readonly verificationRound?: number;
  readonly verificationStartedAt?: string;
  /** When the next check of the numbers that failed is due. */
  readonly verificationNextCheckAt?: string;
  /** When re-checking stopped (48 hours of failures): the port request stays not safe to cancel. */
  readonly verificationGaveUpAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

/** A snapshot of a Twilio Port In request, as far as the workflow needs it. */
export interface TwilioPortInSnapshot {
  readonly status: string;
  readonly phoneNumbers: ReadonlyArray<{
    readonly phoneNumber: string;
    readonly status: string;
    readonly focDate?: string;
    readonly rejectionReason?: string;
  }>;
}

/** Records a wake (webhook, correction, cancel) for the waiting workflow to see even without a stored token. */
export function withWake(pr: PortRequest, at: string): PortRequest {
  return { ...pr, wakeRequestedAt: at, wakeCount: (pr.wakeCount ?? 0) + 1 };
}

/**
 * Records a Twilio webhook's wake; when no earlier webhook is still waiting for a sync, it also becomes the one
 * the next status change is timed from.
 */
export function withWebhookWake(pr: PortRequest, at: string): PortRequest {
  const woken = withWake(pr, at);
  const earlierPending = (pr.webhookPendingWake ?? 0) > (pr.wakesHandled ?? 0);
  return earlierPending ? woken : { ...woken, webhookPendingSince: at, webhookPendingWake: woken.wakeCount };
}

/**
 * When the earliest webhook a sync covers arrived: a sync that read `wakeCount` = `wakesSeen` covers the webhooks
 * recorded after the previous sync read the port request (`wakesHandled`) and up to `wakesSeen`.
 */
export function coveredWebhookSince(pr: PortRequest, wakesSeen: number): string | undefined {
  const wake = pr.webhookPendingWake;
  if (wake === undefined || !pr.webhookPendingSince) return undefined;
  return wake > (pr.wakesHandled ?? 0) && wake <= wakesSeen ? pr.webhookPendingSince : undefined;
}

/** What woke a waiting workflow (the output that completes WaitForPortUpdate's task, at `$.wake`). */
export type WakeCause = 'webhook' | 'early-webhook' | 'terminal' | 'cancel' | 'correction';

/** The output that completes WaitForPortUpdate's task: what woke it, and when SettleWebhooks lets the sync start. */
export interface PortWake {
  readonly wokenBy: WakeCause;
  /** Whole seconds (Step Functions' Wait truncates milliseconds), never before now. */
  readonly syncNotBefore: string;
}

/**
 * The wake of a waiting port request. A webhook's sync starts no earlier than `webhookSyncNotBefore` (the settle
 * window after the last sync); a customer's cancel or correction, or a finished port, at once.
 */
export function portWake(pr: Pick<PortRequest, 'webhookSyncNotBefore'>, wokenBy: WakeCause, now: Date): PortWake {
  const settles = wokenBy === 'webhook' || wokenBy === 'early-webhook';
  const notBefore =
    settles && pr.webhookSyncNotBefore ? Math.max(Date.parse(pr.webhookSyncNotBefore), now.getTime()) : now.getTime();
  // Rounded up to the second, so the wait is never shorter than the window.
  return { wokenBy, syncNotBefore: new Date(Math.ceil(notBefore / 1000) * 1000).toISOString().replace('.000Z', 'Z') };
}

/** Adds an event to the timeline. */
export function withEvent(pr: PortRequest, event: TimelineEvent): PortRequest {
  return { ...pr, events: [...pr.events, event] };
}

/**
 * Records that the port is delayed (a step keeps failing for a transient reason): one DELAYED event for the whole
 * delay, however many retries it takes. The status stays; no email goes out. Unchanged when already delayed.
 */
export function withDelay(pr: PortRequest, delay: { since: string; reason: string; at: string }): PortRequest {
  if (pr.delayedSince) return pr;
  return withEvent(
    { ...pr, delayedSince: delay.since, delayReason: delay.reason },
    { at: delay.at, type: 'DELAYED', detail: delay.reason },
  );
}

/** The delay is over (a retried step succeeded): the next delay gets its own DELAYED event. */
export function withoutDelay(pr: PortRequest): PortRequest {
  if (!pr.delayedSince) return pr;
  const { delayedSince: _since, delayReason: _reason, ...rest } = pr;
  return rest;
}

/** Queues an email in the outbox; DeliverEmails sends it and marks it sent. */
export function withEmail(pr: PortRequest, template: EmailTemplateName, at: string): PortRequest {
  const id = `${template}#${pr.outbox.length + 1}`;
  return { ...pr, outbox: [...pr.outbox, { id, template, createdAt: at }] };
}

/**
 * The outbox entry's id as an SES message tag value carries it (tag values take only A-Za-z0-9_-): `FOC_DATE_SET#2`
 * → `FOC_DATE_SET-2`. Unique within a port request: templates are A-Z_ and the sequence a number.
 */
export function outboxEntryTag(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '-');
}

/**
 * Marks an outbox entry sent, with its EMAIL_SENT timeline event; undefined when it is sent or dead-lettered already
 * (whoever marks it first, DeliverEmails on SES's answer or ConfirmEmailSent on SES's Send event, marks it once).
 */
export function withEmailSent(
  pr: PortRequest,
  entryId: string,
  sent: { at: string; messageId: string },
): PortRequest | undefined {
  const entry = pr.outbox.find((e) => e.id === entryId);
  if (!entry || entry.sentAt || entry.deadLetteredAt) return undefined;
  const outbox = pr.outbox.map((e): OutboxEmail => {
    if (e.id !== entryId) return e;
    const { sendingSince: _claimed, ...rest } = e;
    return { ...rest, sentAt: sent.at, messageId: sent.messageId };
  });
  return withEvent({ ...pr, outbox }, { at: sent.at, type: 'EMAIL_SENT', detail: entry.template });
}

/** Moves the port request to a new status with its timeline event, if the move is allowed. */
export function withStatus(pr: PortRequest, status: PortRequestStatus, at: string, detail?: string): PortRequest {
  if (!canTransition(pr.status, status)) return pr;
  return withEvent({ ...pr, status }, { at, type: 'STATUS_CHANGED', status, ...(detail ? { detail } : {}) });
}

const FINAL_NUMBER_STATUSES: ReadonlySet<PhoneNumberStatus> = new Set(['COMPLETED', 'CANCELED']);

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether `at` falls on the day before the FOC date or on the day itself (UTC): when its reminder is due. */
export function focReminderWindowOpen(focDate: string, at: string): boolean {
  const focDay = Date.parse(`${focDate.slice(0, 10)}T00:00:00Z`);
  const today = Date.parse(`${at.slice(0, 10)}T00:00:00Z`);
  return today >= focDay - DAY_MS && today <= focDay;
}

/** The email that entering a status owes the customer, if any. COMPLETED waits for the import. */
const EMAIL_ON_STATUS: Partial<Record<PortRequestStatus, EmailTemplateName>> = {
  WAITING_FOR_SIGNATURE: 'LOA_SIGNATURE_NEEDED',
  ACTION_REQUIRED: 'ACTION_REQUIRED',
  CANCELED: 'PORT_CANCELED',
  EXPIRED: 'PORT_EXPIRED',
};

/**
 * Applies what Twilio says of the request: per-number statuses, the FOC date, the request status (forward only),
 * and the emails those changes owe. Twilio's answer is the source of truth; webhooks only tell us when to look.
 */
export function applyTwilioSnapshot(pr: PortRequest, snapshot: TwilioPortInSnapshot, at: string): PortRequest {
  if (isTerminal(pr.status)) return pr;
  const byNumber = new Map(snapshot.phoneNumbers.map((n) => [n.phoneNumber, n]));
  const phoneNumbers = pr.phoneNumbers.map((n): PortRequestNumber => {
    const twilio = byNumber.get(n.phoneNumber);
    if (!twilio || FINAL_NUMBER_STATUSES.has(n.status)) return n;
    const status = mapTwilioNumberStatus(twilio.status);
    const { focDate: _f, rejectionReason: _r, ...rest } = n;
    return {
      ...rest,
      status,
      // A rejected number has no port date any more, whatever was promised before.
      ...(status === 'REJECTED'
        ? {}
        : twilio.focDate
          ? { focDate: twilio.focDate }
          : n.focDate
            ? { focDate: n.focDate }
            : {}),
      ...(status === 'REJECTED' && twilio.rejectionReason ? { rejectionReason: twilio.rejectionReason } : {}),
    };
  });
  // A completed request has ported every number still in it, whatever Twilio's per-number list lags behind on.
  const requestCompleted = mapTwilioRequestStatus(snapshot.status, []) === 'COMPLETED';
  const settled = requestCompleted
    ? phoneNumbers.map(
        (n): PortRequestNumber =>
          n.status === 'REJECTED' || n.status === 'CANCELED' ? n : { ...n, status: 'COMPLETED' },
      )
    : phoneNumbers;
  let next: PortRequest = { ...pr, phoneNumbers: settled };

  const focDates = settled.map((n) => n.focDate).filter((d): d is string => Boolean(d));
  const focDate = focDates.sort().at(-1);
  if (focDate && focDate !== pr.focDate) {
    const changed = pr.focDate !== undefined;
    // Announced when its day-before reminder is already due, the date needs no second email: this one reminds
    // (and, like the reminder it stands for, restarts the "do not cancel" reminders' interval).
    const announcedInReminderWindow = focReminderWindowOpen(focDate, at);
    next = withEvent(
      {
        ...next,
        focDate,
        ...(changed ? { previousFocDate: pr.focDate } : {}),
        ...(announcedInReminderWindow ? { focReminderSentFor: focDate, lastReminderAt: at } : {}),
      },
      {
        at,
        type: changed ? 'FOC_DATE_CHANGED' : 'FOC_DATE_SET',
        detail: changed ? `${pr.focDate} → ${focDate}` : focDate,
      },
    );
    next = withEmail(next, changed ? 'FOC_DATE_CHANGED' : 'FOC_DATE_SET', at);
  }

  const status = mapTwilioRequestStatus(
    snapshot.status,
    settled.map((n) => n.status),
  );
  if (status && status !== next.status) {
    const moved = withStatus(next, status, at);
    if (moved !== next) {
      next = moved;
      const template = EMAIL_ON_STATUS[status];
      if (template) next = withEmail(next, template, at);
    }
  } else if (next.status === 'ACTION_REQUIRED') {
    // Already waiting on the customer, and the carrier rejected more numbers: tell them about those too.
    const before = new Set(pr.phoneNumbers.filter((n) => n.status === 'REJECTED').map((n) => n.phoneNumber));
    const newly = next.phoneNumbers.filter((n) => n.status === 'REJECTED' && !before.has(n.phoneNumber));
    if (newly.length > 0) {
      next = withEvent(next, { at, type: 'NUMBERS_REJECTED', detail: newly.map((n) => n.phoneNumber).join(', ') });
      next = withEmail(next, 'ACTION_REQUIRED', at);
    }
  }
  return next;
}

/**
 * Queues the reminders that are due: "do not cancel yet" at the configured interval (while the LOA waits for its
 * signature, a reminder to sign it instead), and one on the day before the FOC date.
 */
export function withReminderIfDue(pr: PortRequest, at: string, reminderIntervalSeconds: number): PortRequest {
  if (isTerminal(pr.status)) return pr;
  let next = pr;
  if (next.focDate && next.focReminderSentFor !== next.focDate && focReminderWindowOpen(next.focDate, at)) {
    next = withEmail({ ...next, focReminderSentFor: next.focDate, lastReminderAt: at }, 'FOC_TOMORROW_REMINDER', at);
  }
  const last = Date.parse(next.lastReminderAt ?? next.createdAt);
  if (Date.parse(at) - last < reminderIntervalSeconds * 1000) return next;
  const template = next.status === 'WAITING_FOR_SIGNATURE' ? 'LOA_SIGNATURE_REMINDER' : 'DO_NOT_CANCEL_REMINDER';
  return withEmail({ ...next, lastReminderAt: at }, template, at);
}

/** Whether the number's check says calls reach Ring Tonic (or checks are switched off for the deployment). */
export function isVerified(n: PortRequestNumber): boolean {
  const status = n.verification?.status;
  return status === 'PASSED' || status === 'SKIPPED';
}

/**
 * Safe to cancel the old service only once the port is COMPLETED and every ported number is imported and verified
 * (PASSED, or SKIPPED where verification is switched off).
 */
export function isSafeToCancelOldService(pr: PortRequest): boolean {
  const ported = pr.phoneNumbers.filter((n) => n.status === 'COMPLETED');
  return pr.status === 'COMPLETED' && ported.length > 0 && ported.every((n) => n.imported && isVerified(n));
}

/**
 * The other port requests of `pr`'s order that move numbers away from the same carrier: an order splits one
 * carrier's numbers into several requests (a toll-free number goes the MANUAL way), and the carrier's service may
 * only be cancelled once all of them are done.
 */
export function sameCarrierSiblings(pr: PortRequest, orderPortRequests: readonly PortRequest[]): PortRequest[] {
  const carrier = pr.losingCarrier.name.trim().toLowerCase();
  return orderPortRequests.filter(
    (other) =>
      other.portRequestId !== pr.portRequestId &&
      other.orderId === pr.orderId &&
      other.losingCarrier.name.trim().toLowerCase() === carrier,
  );
}

/** Safe to cancel the carrier: this port request and every other of its order with the same carrier are done. */
export function isSafeToCancelCarrier(pr: PortRequest, orderPortRequests: readonly PortRequest[]): boolean {
  return isSafeToCancelOldService(pr) && sameCarrierSiblings(pr, orderPortRequests).every(isSafeToCancelOldService);
}

/** The carrier's numbers still not ported and imported in the other port requests of the order. */
export function carrierNumbersStillPorting(pr: PortRequest, orderPortRequests: readonly PortRequest[]): string[] {
  return sameCarrierSiblings(pr, orderPortRequests)
    .filter((other) => !isSafeToCancelOldService(other))
    .flatMap((other) => other.phoneNumbers.map((n) => n.phoneNumber));
}

const BUSINESS_DAYS_BY_ROUTE: Record<PortRoute, readonly [number, number]> = {
  API: [7, 10],
  MANUAL: [7, 21],
};

/** Adds business days (Mon-Fri) to a date, in UTC. */
export function addBusinessDays(fromIso: string, days: number): string {
  const date = new Date(`${fromIso.slice(0, 10)}T00:00:00Z`);
  let added = 0;
  while (added < days) {
    date.setUTCDate(date.getUTCDate() + 1);
    const day = date.getUTCDay();
    if (day !== 0 && day !== 6) added += 1;
  }
  return date.toISOString().slice(0, 10);
}

/** The completion window we tell customers: US local 7-10 business days, toll-free 7-21. */
export function expectedCompletion(pr: Pick<PortRequest, 'route' | 'createdAt' | 'focDate'>): {
  earliest: string;
  latest: string;
} {
  if (pr.focDate) return { earliest: pr.focDate.slice(0, 10), latest: pr.focDate.slice(0, 10) };
  const [min, max] = BUSINESS_DAYS_BY_ROUTE[pr.route];
  return { earliest: addBusinessDays(pr.createdAt, min), latest: addBusinessDays(pr.createdAt, max) };
}

/** Twilio's list prices: about $1.15 a month per US local or mobile number, $2.00 per toll-free number. */
export const MONTHLY_PRICE_USD: Record<NumberType, number> = {
  LOCAL: 1.15,
  MOBILE: 1.15,
  TOLL_FREE: 2.0,
  UNKNOWN: 1.15,
};

/** What the port request's numbers will cost a month in Twilio (porting in itself is free). */
export function estimatedMonthlyCostUsd(numbers: readonly Pick<PortRequestNumber, 'numberType'>[]): number {
  const cents = numbers.reduce((sum, n) => sum + Math.round(MONTHLY_PRICE_USD[n.numberType] * 100), 0);
  return cents / 100;
}
