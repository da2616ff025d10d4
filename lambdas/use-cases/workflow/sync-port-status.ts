import {
  applyTwilioSnapshot,
  type PortRequest,
  type PortRequestNumber,
  withEvent,
  withReminderIfDue,
  withStatus,
} from '../../domain/port-request';
import { isTerminal } from '../../domain/port-status';
import type { PortStepResult, PortWorkflowInput } from '../../shared/workflow-contract';
import { twilioForAccount } from '../twilio-account';
import type { WorkflowDeps } from './submit-port-in';

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

/**
 * SyncPortStatus: reads the request from Twilio (webhooks are only hints), applies forward-only changes with the
 * emails they owe, and queues a "do not cancel yet" reminder when one is due.
 */
export async function syncPortStatus(
  input: Pick<PortWorkflowInput, 'accountId' | 'portRequestId' | 'cadence'> & { wokenBy?: string },
  deps: WorkflowDeps,
): Promise<PortStepResult> {
  const startedAt = deps.clock.now().toISOString();
  const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
  if (!pr) throw new Error(`Port request ${input.portRequestId} not found`);
  if (isTerminal(pr.status)) return { status: pr.status };

  const { gateway } = await twilioForAccount(input.accountId, deps);
  let apply: (current: PortRequest) => PortRequest;
  if (pr.route === 'MANUAL') {
    const arrived = new Set((await gateway.listIncomingPhoneNumbers()).map((n) => n.phoneNumber));
    apply = (current) => applyArrivedNumbers(current, arrived, startedAt);
  } else {
    if (!pr.twilioPortInRequestSid) throw new Error(`Port request ${pr.portRequestId} was never submitted`);
    const snapshot = await gateway.fetchPortIn(pr.twilioPortInRequestSid);
    apply = (current) => applyTwilioSnapshot(current, snapshot, startedAt);
  }

  const updated = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    const { taskToken: _token, ...rest } = current;
    let next = apply(rest as PortRequest);
    if (next.status !== current.status && input.wokenBy === 'poll') {
      next = withEvent(next, { at: startedAt, type: 'POLL_FOUND_CHANGE', status: next.status });
    }
    next = withReminderIfDue(next, startedAt, input.cadence.reminderIntervalSeconds);
    return { ...next, lastSyncedAt: startedAt };
  });
  return { status: updated.status };
}
