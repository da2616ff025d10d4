import {
  type PortRequest,
  type PortRequestNumber,
  portWake,
  withEmail,
  withEvent,
  withStatus,
  withWake,
} from '../domain/port-request';
import { isTerminal } from '../domain/port-status';
import { HttpProblem } from '../shared/errors';
import type { Clock, PortInRepository, TwilioGateway, TwilioTokenStore, WorkflowClient } from './ports';
import { twilioForAccount } from './twilio-account';

/**
 * POST cancel: cancels the port in Twilio, ends the workflow, and tells the customer to keep the old service
 * (their numbers stay with the old carrier). Refused once the port is COMPLETED or otherwise over.
 */
export async function cancelPortRequest(
  input: { accountId: string; portRequestId: string },
  deps: {
    repository: PortInRepository;
    tokens: TwilioTokenStore;
    twilio: TwilioGateway;
    workflow: WorkflowClient;
    clock: Clock;
  },
): Promise<PortRequest> {
  const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
  if (!pr) throw new HttpProblem(404, 'Not found', 'No such port request in this account.');
  if (isTerminal(pr.status)) {
    throw new HttpProblem(409, 'Conflict', `The port request is ${pr.status} and can no longer be canceled.`);
  }
  if (pr.twilioPortInRequestSid) {
    const { gateway } = await twilioForAccount(input.accountId, deps);
    await gateway.cancelPortIn(pr.twilioPortInRequestSid);
  }
  const at = deps.clock.now().toISOString();
  const updated = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    if (isTerminal(current.status)) return undefined;
    const phoneNumbers = current.phoneNumbers.map(
      (n): PortRequestNumber => (n.status === 'COMPLETED' ? n : { ...n, status: 'CANCELED' }),
    );
    const { pins: _pins, ...rest } = current;
    const canceled = withStatus({ ...rest, phoneNumbers }, 'CANCELED', at, 'canceled by the customer');
    return withWake(withEmail(withEvent(canceled, { at, type: 'CANCELED_BY_CUSTOMER' }), 'PORT_CANCELED', at), at);
  });
  if (updated.status !== 'CANCELED') {
    throw new HttpProblem(409, 'Conflict', `The port request is ${updated.status} and can no longer be canceled.`);
  }
  // The waiting workflow wakes, sees CANCELED, sends the email and ends.
  if (updated.taskToken)
    await deps.workflow.completeTask(updated.taskToken, portWake(updated, 'cancel', deps.clock.now()));
  return updated;
}
