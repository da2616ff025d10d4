import {
  applyTwilioSnapshot,
  coveredWebhookSince,
  type PortRequest,
  type PortRequestNumber,
  type TwilioPortInSnapshot,
  withEmail,
  withEvent,
  withReminderIfDue,
  withStatus,
} from '../../domain/port-request';
import { isTerminal, mapTwilioRequestStatus } from '../../domain/port-status';
import { TwilioRequestError } from '../../shared/errors';
import { logger } from '../../shared/logger';
import { PORT_PAST_MAX_AGE_MESSAGE } from '../../shared/operations-signals';
import type { PortStepResult, PortWorkflowInput } from '../../shared/workflow-contract';
import type { TwilioAccountGateway } from '../ports';
import { twilioForAccount } from '../twilio-account';
import { createPortInOnce } from './create-port-in-once';
import { portStepResult, toPortInCreateBody, type WorkflowDeps } from './submit-port-in';

const DAY_MS = 24 * 60 * 60 * 1000;

/** For a MANUAL (toll-free) port: the numbers that have arrived in the customer's Twilio account complete. */
function applyArrivedNumbers(pr: PortRequest, arrived: ReadonlySet<string>, at: string): PortRequest {
  const phoneNumbers = pr.phoneNumbers.map(
    (n): PortRequestNumber =>
      arrived.has(n.phoneNumber) && n.status !== 'COMPLETED' ? { ...n, status: 'COMPLETED' } : n,
  );
  const next = { ...pr, phoneNumbers };
  return phoneNumbers.every((n) => n.status === 'COMPLETED')
    ? withStatus(next, 'COMPLETED', at, 'numbers arrived in Twilio')
    : next;
}

/** A correction came in since the last submission. */
function correctionPending(pr: PortRequest): boolean {
  return (
    pr.status === 'ACTION_REQUIRED' &&
    pr.correctionRequestedAt !== undefined &&
    (!pr.lastSubmittedAt || pr.correctionRequestedAt > pr.lastSubmittedAt)
  );
}

/**
 * Resubmits a corrected port: Twilio's Port In requests cannot be edited, so the rejected request is canceled and
 * a new one made for every number not yet ported. Answers the change to apply to the stored port request.
 */
async function resubmit(
  pr: PortRequest,
  gateway: TwilioAccountGateway,
  accountSid: string,
  deps: WorkflowDeps,
  at: string,
): Promise<(current: PortRequest) => PortRequest> {
  const remaining = pr.phoneNumbers.filter((n) => n.status !== 'COMPLETED' && n.status !== 'CANCELED');
  if (pr.twilioPortInRequestSid) await gateway.cancelPortIn(pr.twilioPortInRequestSid);
  let created: { sid: string; snapshot: TwilioPortInSnapshot };
  try {
    const body = toPortInCreateBody({ ...pr, phoneNumbers: remaining }, accountSid);
    created = await createPortInOnce(gateway, deps.repository, pr, body, at);
  } catch (error) {
    if (!(error instanceof TwilioRequestError)) throw error;
    return ({ portInCreateAttemptedAt: _attempt, ...current }) =>
      withEmail(
        withEvent(
          { ...current, lastSubmittedAt: at },
          { at, type: 'CORRECTION_REFUSED', detail: `Twilio error ${error.code ?? error.status}` },
        ),
        'ACTION_REQUIRED',
        at,
      );
  }
  deps.metrics.count('PortsSubmitted');
  await deps.repository.putTwilioPortInLookup(pr.accountId, created.sid, pr.portRequestId);
  const resubmitted = new Set(remaining.map((n) => n.phoneNumber));
  return (current) => {
    const { pins: _pins, portInCreateAttemptedAt: _attempt, ...rest } = current;
    const phoneNumbers = current.phoneNumbers.map((n): PortRequestNumber => {
      if (!resubmitted.has(n.phoneNumber)) return n;
      const { rejectionReason: _r, focDate: _f, ...number } = n;
      return { ...number, status: 'PENDING' };
    });
    let next: PortRequest = withEvent(
      { ...rest, phoneNumbers, twilioPortInRequestSid: created.sid, lastSubmittedAt: at },
      { at, type: 'CORRECTION_SUBMITTED', detail: created.sid },
    );
    next = withStatus(next, mapTwilioRequestStatus(created.snapshot.status, []) ?? 'IN_REVIEW', at);
    return withEmail(next, 'CORRECTION_SUBMITTED', at);
  };
}

/**
 * SyncPortStatus: reads the request from Twilio (webhooks are only hints), applies forward-only changes with the
 * emails they owe, resubmits a corrected port, queues the reminders that are due, and flags a port past its
 * maximum age for the operations alarm.
 */
export async function syncPortStatus(
  input: Pick<PortWorkflowInput, 'accountId' | 'portRequestId' | 'cadence'> & { wokenBy?: string },
  deps: WorkflowDeps & {
    maxAgeDays: number;
    /** The settle window: a sync woken by a webhook starts at least this long after the one before. */
    webhookSettleSeconds: number;
  },
): Promise<PortStepResult> {
  const startedAt = deps.clock.now().toISOString();
  const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
  if (!pr) throw new Error(`Port request ${input.portRequestId} not found`);
  if (isTerminal(pr.status)) return portStepResult(pr);
  // Wakes recorded from here on are not covered by what this sync reads: the next wait must see them.
  const wakesSeen = pr.wakeCount ?? 0;
  const webhookSince = coveredWebhookSince(pr, wakesSeen);

  const { gateway, accountSid } = await twilioForAccount(input.accountId, deps);
  let apply: (current: PortRequest) => PortRequest;
  if (pr.route === 'MANUAL') {
    const arrived = new Set((await gateway.listIncomingPhoneNumbers()).map((n) => n.phoneNumber));
    apply = (current) => applyArrivedNumbers(current, arrived, startedAt);
  } else if (correctionPending(pr)) {
    apply = await resubmit(pr, gateway, accountSid, deps, startedAt);
  } else {
    if (!pr.twilioPortInRequestSid) throw new Error(`Port request ${pr.portRequestId} was never submitted`);
    const snapshot = await gateway.fetchPortIn(pr.twilioPortInRequestSid);
    apply = (current) => applyTwilioSnapshot(current, snapshot, startedAt);
  }

  const ageDays = (Date.parse(startedAt) - Date.parse(pr.createdAt)) / DAY_MS;
  const pastMaxAge = ageDays > deps.maxAgeDays;
  if (pastMaxAge) {
    // The operations alarm counts this line (metric filter on the function's log group).
    logger.warn(PORT_PAST_MAX_AGE_MESSAGE, {
      portRequestId: pr.portRequestId,
      ageDays: Math.floor(ageDays),
      metric: 'PortPastMaxAge',
    });
  }

  let statusChanged = false;
  const updated = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    statusChanged = false;
    if (isTerminal(current.status)) return undefined;
    const { taskToken: _token, ...rest } = current;
    let next = apply(rest as PortRequest);
    statusChanged = next.status !== current.status;
    if (next.status !== current.status && input.wokenBy === 'poll') {
      next = withEvent(next, { at: startedAt, type: 'POLL_FOUND_CHANGE', status: next.status });
    }
    if (pastMaxAge && !next.pastMaxAgeAt) {
      next = withEvent(
        { ...next, pastMaxAgeAt: startedAt },
        { at: startedAt, type: 'PAST_MAX_AGE', detail: `${Math.floor(ageDays)} days` },
      );
    }
    next = withReminderIfDue(next, startedAt, input.cadence.reminderIntervalSeconds);
    const webhookSyncNotBefore = new Date(Date.parse(startedAt) + deps.webhookSettleSeconds * 1000).toISOString();
    return { ...next, lastSyncedAt: startedAt, webhookSyncNotBefore, wakesHandled: wakesSeen };
  });
  /*
   * WebhookToTransitionLatency: for a sync that changed the port request's status and covered at least one Twilio
   * webhook (one recorded after the previous sync read the port request and before this one did), the time from
   * the earliest such webhook's arrival at our webhook handler to this sync's write of the new status. It spans
   * the wake of the waiting workflow, Step Functions' hand-over, the Twilio read and the write; a status change
   * no webhook announced (found by a poll) is not measured.
   */
  if (statusChanged && webhookSince) {
    deps.metrics.milliseconds('WebhookToTransitionLatency', deps.clock.now().getTime() - Date.parse(webhookSince));
  }
  return portStepResult(updated);
}
