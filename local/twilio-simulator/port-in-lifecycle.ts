import { isoDateTime } from './http';
import {
  NUMBER_STATUSES,
  type NumberStatus,
  newSid,
  type PortInNumber,
  type PortInRequest,
  REQUEST_STATUSES,
  type RequestStatus,
  SETTLED_NUMBER_STATUSES,
  type SimulatorStore,
} from './state';
import type { PortingEvent, WebhookDispatcher, WebhookMode } from './webhooks';

const canonicalKey = (value: string) => value.toLowerCase().replace(/[\s_-]+/g, '');

/** "in progress", "IN_PROGRESS", "InProgress" → "In Progress"; undefined when unknown. */
export function normaliseRequestStatus(raw: string): RequestStatus | undefined {
  const key = canonicalKey(raw).replace('cancelled', 'canceled');
  return REQUEST_STATUSES.find((status) => canonicalKey(status) === key);
}

/** "Port Pending", "PORT_PENDING" → "port_pending"; undefined when unknown. */
export function normaliseNumberStatus(raw: string): NumberStatus | undefined {
  const key = canonicalKey(raw).replace('cancelled', 'canceled');
  return NUMBER_STATUSES.find((status) => canonicalKey(status) === key);
}

const REQUEST_EVENTS: Partial<Record<RequestStatus, string>> = {
  'Waiting for Signature': 'PortInWaitingForSignature',
  'In Progress': 'PortInInProgress',
  'Action Required': 'PortInActionRequired',
  Completed: 'PortInCompleted',
  Canceled: 'PortInCanceled',
  Expired: 'PortInExpired',
};

const NUMBER_EVENTS: Partial<Record<NumberStatus, string>> = {
  waiting_for_signature: 'PortInPhoneNumberWaitingForSignature',
  port_submitted: 'PortInPhoneNumberSubmitted',
  port_pending: 'PortInPhoneNumberPending',
  completed: 'PortInPhoneNumberCompleted',
  port_rejected: 'PortInPhoneNumberRejected',
  canceled: 'PortInPhoneNumberCanceled',
};

/** A per-number change; omitted fields stay as they are. */
export interface NumberChange {
  status?: NumberStatus;
  portDate?: string | null;
  rejectionReason?: string | null;
}

/** A change to a Port In request: its status, some of its numbers, or both. */
export interface PortInChange {
  status?: RequestStatus;
  /** Keyed by E.164 number. Numbers not named follow the request status (see defaultNumberStatus). */
  numbers?: ReadonlyMap<string, NumberChange>;
  /** Announce the request status even if it did not change (an explicit control call asks for it). */
  announceStatus?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** An FOC date `days` ahead, at midnight UTC, as the API writes port_date. */
export function focDateAhead(days: number, now = new Date()): string {
  const date = new Date(now.getTime() + days * DAY_MS);
  return `${date.toISOString().slice(0, 10)}T00:00:00Z`;
}

/** What a number not named in a change becomes when its request enters `status`. */
function defaultNumberStatus(status: RequestStatus, current: NumberStatus): NumberStatus {
  if (SETTLED_NUMBER_STATUSES.includes(current)) return current;
  switch (status) {
    case 'In Review':
      return 'in_review';
    case 'Waiting for Signature':
      return 'waiting_for_signature';
    case 'In Progress':
      return current === 'in_review' || current === 'waiting_for_signature' ? 'port_submitted' : current;
    case 'Completed':
      return 'completed';
    case 'Canceled':
    case 'Expired':
      return 'canceled';
    case 'Action Required':
      return current;
  }
}

/** Applies status changes to Port In requests, keeps IncomingPhoneNumbers in step, and sends the webhooks. */
export class PortInLifecycle {
  constructor(
    private readonly store: SimulatorStore,
    private readonly webhooks: WebhookDispatcher,
  ) {}

  /** Applies `change` and posts one webhook per changed request/number; answers the events sent. */
  change(request: PortInRequest, change: PortInChange, mode: WebhookMode = 'deliver'): PortingEvent[] {
    const now = new Date();
    const events: PortingEvent[] = [];
    const previousStatus = request.status;
    if (change.status) request.status = change.status;
    const statusChanged = change.status !== undefined && change.status !== previousStatus;
    if (statusChanged || change.announceStatus) {
      request.updatedAt = now;
      const eventType = REQUEST_EVENTS[request.status];
      if (eventType) events.push(this.requestEvent(request, eventType, now));
    }
    for (const number of request.numbers) {
      const explicit = change.numbers?.get(number.phoneNumber);
      const status =
        explicit?.status ?? (change.status ? defaultNumberStatus(change.status, number.status) : number.status);
      if (this.applyNumberChange(number, { ...explicit, status }, now)) {
        const eventType = NUMBER_EVENTS[number.status];
        if (eventType) events.push(this.numberEvent(request, number, eventType, now));
      }
    }
    this.syncIncomingNumbers(request, now);
    this.webhooks.send(request.accountSid, events, mode);
    return events;
  }

  /** True when the number's status, FOC date or rejection reason changed. */
  private applyNumberChange(number: PortInNumber, change: NumberChange, now: Date): boolean {
    const before = `${number.status}|${number.portDate}|${number.rejectionReason}`;
    if (change.status) number.status = change.status;
    if (change.portDate !== undefined) number.portDate = change.portDate;
    if (change.rejectionReason !== undefined) number.rejectionReason = change.rejectionReason;
    // A real FOC always comes with a date, and a completed port has a port date.
    if ((number.status === 'port_pending' || number.status === 'completed') && !number.portDate) {
      number.portDate = number.status === 'completed' ? `${now.toISOString().slice(0, 10)}T00:00:00Z` : focDateAhead(3);
    }
    if (number.status !== 'port_rejected' && change.rejectionReason === undefined) number.rejectionReason = null;
    const changed = before !== `${number.status}|${number.portDate}|${number.rejectionReason}`;
    if (changed) number.updatedAt = now;
    return changed;
  }

  /** Completed numbers appear in the account's IncomingPhoneNumbers; a completion undone takes them out. */
  private syncIncomingNumbers(request: PortInRequest, now: Date): void {
    const account = this.store.account(request.accountSid);
    for (const number of request.numbers) {
      const existing = this.store.findIncomingNumber(request.accountSid, number.phoneNumber);
      if (number.status === 'completed' && !existing) {
        const sid = newSid('PN');
        account.incomingNumbers.set(sid, {
          sid,
          accountSid: request.accountSid,
          phoneNumber: number.phoneNumber,
          createdAt: now,
          updatedAt: now,
          portInRequestSid: request.sid,
          settings: {},
        });
      } else if (number.status !== 'completed' && existing?.portInRequestSid === request.sid) {
        account.incomingNumbers.delete(existing.sid);
      }
    }
  }

  private requestEvent(request: PortInRequest, eventType: string, now: Date): PortingEvent {
    return {
      event_type: eventType,
      account_sid: request.accountSid,
      port_in_request_sid: request.sid,
      status: request.status,
      last_date_updated: isoDateTime(now),
    };
  }

  private numberEvent(request: PortInRequest, number: PortInNumber, eventType: string, now: Date): PortingEvent {
    return {
      event_type: eventType,
      account_sid: request.accountSid,
      port_in_request_sid: request.sid,
      port_in_phone_number_sid: number.sid,
      phone_number: number.phoneNumber,
      status: number.status,
      ...(number.rejectionReason ? { rejection_reason: number.rejectionReason } : {}),
      ...(number.portDate ? { port_date: number.portDate } : {}),
      last_date_updated: isoDateTime(now),
    };
  }
}
