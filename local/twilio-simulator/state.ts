import { randomBytes } from 'node:crypto';

/** Port In request statuses, spelt as the Porting API answers them. */
export const REQUEST_STATUSES = [
  'In Review',
  'Waiting for Signature',
  'In Progress',
  'Action Required',
  'Completed',
  'Canceled',
  'Expired',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Per-number statuses, spelt as the Porting API answers them. */
export const NUMBER_STATUSES = [
  'in_review',
  'waiting_for_signature',
  'port_submitted',
  'port_pending',
  'port_rejected',
  'canceling',
  'canceled',
  'completed',
] as const;
export type NumberStatus = (typeof NUMBER_STATUSES)[number];

/** Requests in these statuses no longer hold their numbers. */
export const CLOSED_REQUEST_STATUSES: readonly RequestStatus[] = ['Completed', 'Canceled', 'Expired'];
/** Numbers in these statuses are out of the port (done, or to be resubmitted in a new request). */
export const SETTLED_NUMBER_STATUSES: readonly NumberStatus[] = ['completed', 'canceled', 'port_rejected'];

/** Operations whose answers `/_sim/faults` can replace. */
export const OPERATIONS = [
  'fetchAccount',
  'createPortIn',
  'fetchPortIn',
  'cancelPortIn',
  'listPortIns',
  'fetchPortInPhoneNumber',
  'cancelPortInPhoneNumber',
  'fetchPortability',
  'configureWebhook',
  'fetchWebhookConfiguration',
  'uploadDocument',
  'listIncomingPhoneNumbers',
  'fetchIncomingPhoneNumber',
  'updateIncomingPhoneNumber',
  'createCall',
  'fetchCall',
  'listCalls',
  'updateCall',
] as const;
export type OperationName = (typeof OPERATIONS)[number];

/** One number of a Port In request. */
export interface PortInNumber {
  readonly sid: string;
  readonly phoneNumber: string;
  readonly numberType: 'LOCAL' | 'MOBILE';
  readonly pin: string | undefined;
  readonly createdAt: Date;
  status: NumberStatus;
  portDate: string | null;
  rejectionReason: string | null;
  updatedAt: Date;
}

/** A Port In request (KW sid) as the simulator holds it. */
export interface PortInRequest {
  readonly sid: string;
  readonly accountSid: string;
  /** Creation order, so that requests created in the same millisecond still sort newest first. */
  readonly sequence: number;
  readonly createdAt: Date;
  readonly supportTicketId: number;
  /** The create body byte for byte, and parsed: tests read back exactly what the client sent. */
  readonly rawRequestBody: string;
  readonly requestBody: Record<string, unknown>;
  readonly numbers: PortInNumber[];
  status: RequestStatus;
  updatedAt: Date;
  /**
   * The auto-advance walk's next step, while the request is on it: kept with the request (so in the state file) for
   * a restarted simulator to carry the walk on where it was.
   */
  autoAdvance?: { step: number; dueAt: Date };
}

/** A number in an account's IncomingPhoneNumbers (PN sid). */
export interface IncomingNumber {
  readonly sid: string;
  readonly accountSid: string;
  readonly phoneNumber: string;
  readonly createdAt: Date;
  /** Set when a completed port put the number here, so that undoing the completion takes it out again. */
  readonly portInRequestSid: string | undefined;
  /** Configurable fields in the 2010 API's snake_case (voice_url, friendly_name, ...). */
  settings: Record<string, string | boolean | null>;
  updatedAt: Date;
}

/** Call statuses, as the 2010-04-01 API spells them (`call_enum_status`). */
export const CALL_STATUSES = [
  'queued',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** A call in these statuses is over. */
export const FINAL_CALL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];

/** What an outbound call was asked to do (the create parameters the simulator acts on). */
export interface OutboundCallRequest {
  /** TwiML URL of the call (`Url`), requested when the call is answered. */
  readonly url: string | null;
  readonly method: 'GET' | 'POST';
  /** Inline TwiML (`Twiml`), used when there is no Url. */
  readonly twiml: string | null;
  /** How long the call rings before it is given up as no-answer (`Timeout`, seconds, 1..600, default 60). */
  readonly timeoutSeconds: number;
  /** The longest the call may last once answered (`TimeLimit`, seconds, default 14400). */
  readonly timeLimitSeconds: number;
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: 'GET' | 'POST';
  /** initiated, ringing, answered, completed; `completed` alone when none was asked for. */
  readonly statusCallbackEvents: readonly string[];
}

/** One request the simulator made to a voice URL (or a call's Url), kept on the call for tests and demos. */
export interface VoiceRequestRecord {
  readonly at: Date;
  /** The URL Twilio signs and the application sees (before any local rewrite). */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  /** The status the URL answered; null when it gave no answer (refused, unreachable, timed out). */
  responseStatus: number | null;
  error: string | null;
}

/** A call (CA sid): an outbound-api leg placed through the API, or the inbound leg it made to a number. */
export interface SimulatedCall {
  readonly sid: string;
  readonly accountSid: string;
  readonly sequence: number;
  readonly direction: 'outbound-api' | 'inbound';
  readonly from: string;
  readonly to: string;
  /** The IncomingPhoneNumber that received an inbound leg (or placed an outbound one). */
  readonly phoneNumberSid: string | null;
  readonly createdAt: Date;
  /** Outbound leg: what the create asked for. */
  readonly request: OutboundCallRequest | undefined;
  /** Inbound leg: the outbound leg that made it; outbound leg: its inbound leg, once there is one. */
  otherLegSid: string | null;
  status: CallStatus;
  startTime: Date | null;
  answerTime: Date | null;
  endTime: Date | null;
  updatedAt: Date;
  /** Why a call failed, as Twilio's debugger would say it (11200 HTTP retrieval failure, ...). */
  errorCode: number | null;
  voiceRequests: VoiceRequestRecord[];
}

/** A utility bill uploaded through /v1/Documents (RD sid). */
export interface UploadedDocument {
  readonly sid: string;
  readonly accountSid: string;
  readonly friendlyName: string;
  readonly documentType: string;
  readonly mimeType: string;
  readonly fileName: string;
  readonly size: number;
  readonly createdAt: Date;
}

/** An account's porting webhook configuration. */
export interface WebhookConfiguration {
  portInTargetUrl: string | null;
  portOutTargetUrl: string | null;
  notificationsOf: string[];
  portInDateCreated: Date | null;
  portOutDateCreated: Date | null;
}

/** A Twilio account, known from its first request. */
export interface Account {
  readonly sid: string;
  readonly createdAt: Date;
  /** The token of the first authenticated request; undefined for an account only touched by control routes. */
  authToken: string | undefined;
  webhookConfiguration: WebhookConfiguration | undefined;
  readonly incomingNumbers: Map<string, IncomingNumber>;
  readonly documents: Map<string, UploadedDocument>;
  /** Calls of the account, both legs (CA sid). */
  readonly calls: Map<string, SimulatedCall>;
  /**
   * E.164 numbers whose calls do not reach the account (`/_sim/.../routing`), as while the old carrier still routes
   * a ported number; kept for numbers not (yet) in the account too.
   */
  unreachableNumbers: string[];
}

/**
 * A failure injected by /_sim/faults: status 0 means no answer at all; an error status answers that error; no
 * status (with delayMs) handles the call as usual. `delayMs` answers only after that long (a slow Twilio).
 */
export interface Fault {
  status: number | undefined;
  delayMs: number | undefined;
  remaining: number;
  code: number | undefined;
  message: string | undefined;
}

/** A new Twilio-style sid: two-letter prefix and 32 hex digits. */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** All simulator state, in memory. */
export class SimulatorStore {
  readonly accounts = new Map<string, Account>();
  readonly portIns = new Map<string, PortInRequest>();
  readonly faults = new Map<OperationName, Fault>();
  /**
   * Public URL prefix → local base URL: where the simulator really sends a request Twilio would send to a public URL
   * (the call router's https URL, say). Signatures are computed over the public URL. Wiring of the local stack, not
   * state: kept by `reset()` and not in the state file.
   */
  readonly urlRewrites = new Map<string, string>();
  private sequence = 0;

  /** The account with this sid, created empty on first use. */
  account(accountSid: string): Account {
    let account = this.accounts.get(accountSid);
    if (!account) {
      account = {
        sid: accountSid,
        createdAt: new Date(),
        authToken: undefined,
        webhookConfiguration: undefined,
        incomingNumbers: new Map(),
        documents: new Map(),
        calls: new Map(),
        unreachableNumbers: [],
      };
      this.accounts.set(accountSid, account);
    }
    return account;
  }

  /** The next creation order number. */
  nextSequence(): number {
    this.sequence += 1;
    return this.sequence;
  }

  /** The account's IncomingPhoneNumber for this E.164 number, if any. */
  findIncomingNumber(accountSid: string, phoneNumber: string): IncomingNumber | undefined {
    for (const number of this.account(accountSid).incomingNumbers.values()) {
      if (number.phoneNumber === phoneNumber) return number;
    }
    return undefined;
  }

  /**
   * The IncomingPhoneNumber a call to this number rings: the calling account's own first, else any account's (a
   * Twilio number is reachable from anywhere).
   */
  findCalledNumber(callerAccountSid: string, phoneNumber: string): IncomingNumber | undefined {
    const own = this.findIncomingNumber(callerAccountSid, phoneNumber);
    if (own) return own;
    for (const account of this.accounts.values()) {
      for (const number of account.incomingNumbers.values()) {
        if (number.phoneNumber === phoneNumber) return number;
      }
    }
    return undefined;
  }

  /** The URL the simulator really requests for a public one (see {@link urlRewrites}). */
  rewriteUrl(url: string): string {
    for (const [prefix, base] of this.urlRewrites) {
      if (url.startsWith(prefix)) return base + url.slice(prefix.length);
    }
    return url;
  }

  /** The open request (of any account) that still holds this number, if any. */
  findOpenRequestHolding(phoneNumber: string): PortInRequest | undefined {
    for (const request of this.portIns.values()) {
      if (CLOSED_REQUEST_STATUSES.includes(request.status)) continue;
      const held = request.numbers.some(
        (n) => n.phoneNumber === phoneNumber && !SETTLED_NUMBER_STATUSES.includes(n.status),
      );
      if (held) return request;
    }
    return undefined;
  }

  /** Counts one call of `operation` against its fault, answering the fault while it lasts. */
  takeFault(operation: OperationName): Fault | undefined {
    const fault = this.faults.get(operation);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.delete(operation);
    return fault;
  }

  /** Forgets everything: accounts, tokens, requests, faults. */
  reset(): void {
    this.accounts.clear();
    this.portIns.clear();
    this.faults.clear();
    this.sequence = 0;
  }
}
