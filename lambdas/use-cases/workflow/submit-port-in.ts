import { applyTwilioSnapshot, type PortRequest, withEmail, withEvent, withStatus } from '../../domain/port-request';
import { isTerminal, mapTwilioRequestStatus } from '../../domain/port-status';
import { PortInRejectedError, TwilioRequestError } from '../../shared/errors';
import type { PortStepResult } from '../../shared/workflow-contract';
import type {
  Clock,
  Metrics,
  PortInRepository,
  TwilioGateway,
  TwilioPortInCreateBody,
  TwilioTokenStore,
} from '../ports';
import { twilioForAccount } from '../twilio-account';
import { createPortInOnce } from './create-port-in-once';

export interface WorkflowDeps {
  readonly repository: PortInRepository;
  readonly tokens: TwilioTokenStore;
  readonly twilio: TwilioGateway;
  readonly clock: Clock;
  readonly metrics: Metrics;
}

/**
 * What a step that touched the port request answers the state machine: its status, and whether its outbox still
 * owes an email (one neither sent nor dead-lettered), which sends the workflow through DeliverEmails.
 */
export function portStepResult(pr: Pick<PortRequest, 'status' | 'outbox'>): PortStepResult {
  return { status: pr.status, emailsPending: pr.outbox.some((e) => !e.sentAt && !e.deadLetteredAt) };
}

/** The snake_case Port In body Twilio expects, built from our port request. */
export function toPortInCreateBody(pr: PortRequest, accountSid: string): TwilioPortInCreateBody {
  const c = pr.losingCarrier;
  return {
    account_sid: accountSid,
    documents: c.utilityBillDocumentSid ? [c.utilityBillDocumentSid] : [],
    losing_carrier_information: {
      ...(c.customerType ? { customer_type: c.customerType } : {}),
      customer_name: c.customerName,
      ...(c.accountNumber ? { account_number: c.accountNumber } : {}),
      ...(c.accountTelephoneNumber ? { account_telephone_number: c.accountTelephoneNumber } : {}),
      authorized_representative: c.authorizedRepresentative,
      authorized_representative_email: c.authorizedRepresentativeEmail,
      address: {
        street: c.address.street,
        ...(c.address.street2 ? { street_2: c.address.street2 } : {}),
        city: c.address.city,
        state: c.address.state,
        zip: c.address.zip,
        country: c.address.country,
      },
    },
    phone_numbers: pr.phoneNumbers.map((n) => {
      const pin = pr.pins?.[n.phoneNumber];
      return { phone_number: n.phoneNumber, ...(pin ? { pin } : {}) };
    }),
    notification_emails: [...pr.notificationEmails],
    ...(pr.targetPortInDate ? { target_port_in_date: pr.targetPortInDate } : {}),
  };
}

/** SubmitPortIn: creates the Port In request in the customer's Twilio account, then forgets the PINs. */
export async function submitPortIn(
  input: { accountId: string; portRequestId: string },
  deps: WorkflowDeps,
): Promise<PortStepResult> {
  const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
  if (!pr) throw new Error(`Port request ${input.portRequestId} not found`);
  if (pr.twilioPortInRequestSid || isTerminal(pr.status)) return portStepResult(pr);

  const { gateway, accountSid } = await twilioForAccount(input.accountId, deps);
  let created: Awaited<ReturnType<typeof createPortInOnce>>;
  try {
    const body = toPortInCreateBody(pr, accountSid);
    created = await createPortInOnce(gateway, deps.repository, pr, body, deps.clock.now().toISOString());
  } catch (error) {
    if (error instanceof TwilioRequestError) {
      throw new PortInRejectedError(`Twilio refused the port-in (${error.code ?? error.status})`, { cause: error });
    }
    throw error;
  }
  deps.metrics.count('PortsSubmitted');
  await deps.repository.putTwilioPortInLookup(input.accountId, created.sid, input.portRequestId);
  const at = deps.clock.now().toISOString();
  const updated = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    if (current.twilioPortInRequestSid || isTerminal(current.status)) return undefined;
    const { pins: _pins, portInCreateAttemptedAt: _attempt, ...withoutPins } = current;
    let next: PortRequest = withEvent(
      { ...withoutPins, twilioPortInRequestSid: created.sid, lastSubmittedAt: at },
      {
        at,
        type: 'SUBMITTED_TO_TWILIO',
        detail: created.adopted ? `${created.sid} (found after a lost answer)` : created.sid,
      },
    );
    if (!created.adopted) {
      next = withStatus(next, mapTwilioRequestStatus(created.snapshot.status, []) ?? 'IN_REVIEW', at);
      return withEmail(next, 'PORT_SUBMITTED', at);
    }
    // An adopted request may have moved on (even completed) since the lost create: take all of it, numbers
    // included, as SyncPortStatus would.
    next = withEmail(withStatus(next, 'IN_REVIEW', at), 'PORT_SUBMITTED', at);
    return applyTwilioSnapshot(next, created.snapshot, at);
  });
  if (updated.twilioPortInRequestSid !== created.sid) {
    // Canceled by the customer while we were submitting: withdraw what we just created.
    await gateway.cancelPortIn(created.sid);
  }
  return portStepResult(updated);
}
