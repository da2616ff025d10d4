import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { rfc2822 } from './http';
import { callDurationSeconds } from './resources';
import {
  type CallStatus,
  FINAL_CALL_STATUSES,
  type IncomingNumber,
  newSid,
  type SimulatedCall,
  type SimulatorStore,
  type VoiceRequestRecord,
} from './state';

/** Options of the {@link CallExchange}. */
export interface CallExchangeOptions {
  /** How long a voice URL (or a call's Url) may take to answer before Twilio gives up on it. Default 15 s. */
  readonly voiceUrlTimeoutMs?: number;
  readonly logger: (line: string) => void;
  /** A call changed: to be written to the state file soon. */
  readonly persist: () => void;
}

/** What a TwiML URL's answer comes to. */
type TwimlAnswer = { kind: 'twiml'; twiml: string } | { kind: 'error'; code: number } | { kind: 'ring-timeout' };

/** One outbound call on its way, so that a hang-up (`POST Calls/{sid}` Status) can end it early. */
interface CallRun {
  hangUp: 'completed' | 'canceled' | undefined;
  /** Forgotten by a reset: the run stops without touching the store again. */
  dropped: boolean;
  wake: () => void;
  readonly abort: AbortController;
}

const TWILIO_WEBHOOK_TIMEOUT_MS = 15_000;
const TWIML_RESPONSE = /<Response[\s>/]/;

/**
 * How long the TwiML keeps the call up, in seconds: `<Pause length>` its length (default 1), `<Say>` and `<Play>` a
 * second each, up to `<Hangup/>` or `<Reject/>`; other verbs take no time here. The simulator carries out no verb.
 */
export function twimlSeconds(twiml: string): number {
  let seconds = 0;
  for (const match of twiml.matchAll(/<(Pause|Say|Play|Hangup|Reject)\b([^>]*)>/g)) {
    const [, verb, attributes = ''] = match;
    if (verb === 'Hangup' || verb === 'Reject') break;
    if (verb === 'Pause') {
      const length = /\blength\s*=\s*["'](\d+)["']/.exec(attributes)?.[1];
      seconds += length === undefined ? 1 : Number(length);
    } else {
      seconds += 1;
    }
  }
  return seconds;
}

/** True when the TwiML rejects the call (`<Reject/>` before anything else answers it). */
function rejects(twiml: string): boolean {
  const first = /<(Say|Play|Pause|Dial|Gather|Record|Hangup|Reject|Redirect|Connect|Enqueue)\b/.exec(twiml);
  return first?.[1] === 'Reject';
}

/** "US" for a NANP number, as Twilio's geographic lookup would at least say. */
function countryOf(phoneNumber: string): string {
  return phoneNumber.startsWith('+1') ? 'US' : '';
}

/**
 * The simulator's telephone exchange. A call created through the API rings its `To`: a number of an account on the
 * simulator (and reachable, see `/_sim/.../routing`) gets an inbound leg in that account's Calls, and Twilio's request
 * to the number's voice URL (signed form POST, or GET); the legs' statuses follow the answer. Any other number rings
 * unanswered until the call's `Timeout`.
 */
export class CallExchange {
  private readonly runs = new Map<string, CallRun>();
  private readonly running = new Set<Promise<void>>();
  private readonly voiceUrlTimeoutMs: number;
  private readonly closing = new AbortController();
  private closed = false;

  constructor(
    private readonly store: SimulatorStore,
    private readonly options: CallExchangeOptions,
  ) {
    this.voiceUrlTimeoutMs = options.voiceUrlTimeoutMs ?? TWILIO_WEBHOOK_TIMEOUT_MS;
  }

  /** Starts an outbound call stored as `queued`; answers at once, the call goes on by itself. */
  place(call: SimulatedCall): void {
    const run: CallRun = { hangUp: undefined, dropped: false, wake: () => {}, abort: new AbortController() };
    this.runs.set(call.sid, run);
    const running = this.carry(call, run)
      .catch((error: unknown) => {
        this.options.logger(`call ${call.sid} broke: ${error instanceof Error ? error.stack : String(error)}`);
        if (!run.dropped && !FINAL_CALL_STATUSES.includes(call.status)) this.end(call, 'failed');
      })
      .finally(() => {
        this.runs.delete(call.sid);
        this.running.delete(running);
      });
    this.running.add(running);
  }

  /**
   * Ends a call as `POST Calls/{sid}` with Status does: `canceled` only before it is answered, `completed` at any
   * point (a ringing call then ends canceled, as Twilio's does). Answers false when the call cannot be changed so.
   */
  hangUp(call: SimulatedCall, status: 'completed' | 'canceled'): boolean {
    if (FINAL_CALL_STATUSES.includes(call.status)) return true;
    if (status === 'canceled' && call.status === 'in-progress') return false;
    const outbound = call.direction === 'outbound-api' ? call : this.otherLeg(call);
    const run = outbound ? this.runs.get(outbound.sid) : undefined;
    if (!outbound || !run) {
      this.end(call, call.status === 'in-progress' ? 'completed' : 'canceled');
      return true;
    }
    run.hangUp = outbound.status === 'in-progress' ? 'completed' : 'canceled';
    // Over at once, as the update's answer says; the run stops at its next step.
    const inbound = this.otherLeg(outbound);
    if (inbound) this.end(inbound, run.hangUp);
    this.end(outbound, run.hangUp);
    run.abort.abort();
    run.wake();
    return true;
  }

  /**
   * Ends the calls a stopped simulator left going (read back from the state file): an answered one completed, the
   * others failed. Answers how many.
   */
  settleInterrupted(): number {
    let settled = 0;
    for (const account of this.store.accounts.values()) {
      for (const call of account.calls.values()) {
        if (FINAL_CALL_STATUSES.includes(call.status)) continue;
        this.end(call, call.status === 'in-progress' ? 'completed' : 'failed', { callbacks: false });
        settled += 1;
      }
    }
    return settled;
  }

  /** Resolves once every call placed so far is over (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Drops every call going (`/_sim/reset`): they stop at once and change nothing more. */
  dropAll(): void {
    for (const run of this.runs.values()) {
      run.dropped = true;
      run.abort.abort();
      run.wake();
    }
  }

  /** Stops every call where it is (its requests aborted); the calls keep their last status. */
  close(): void {
    this.closed = true;
    this.closing.abort();
    for (const run of this.runs.values()) {
      run.abort.abort();
      run.wake();
    }
  }

  private async carry(outbound: SimulatedCall, run: CallRun): Promise<void> {
    const request = outbound.request;
    if (!request) throw new Error(`${outbound.sid} is not an outbound call`);
    // The create is answered (queued) before the call is dialled.
    await this.sleep(run, 0);
    if (this.stopped(outbound, run)) return;
    const ringDeadline = Date.now() + request.timeoutSeconds * 1000;
    this.change(outbound, { status: 'ringing', startTime: new Date() });
    this.statusCallback(outbound, 'initiated');
    this.statusCallback(outbound, 'ringing');

    const called = this.store.findCalledNumber(outbound.accountSid, outbound.to);
    const calledAccount = called ? this.store.account(called.accountSid) : undefined;
    if (!called || calledAccount?.unreachableNumbers.includes(called.phoneNumber)) {
      // Not a number this Twilio routes (or its carrier still routes it elsewhere): it rings out.
      this.options.logger(`call ${outbound.sid} to ${outbound.to}: not routed to an account, rings unanswered`);
      await this.sleep(run, ringDeadline - Date.now());
      if (this.stopped(outbound, run)) return;
      this.end(outbound, 'no-answer');
      return;
    }

    const inbound = this.inboundLeg(outbound, called);
    const answer = await this.requestVoiceUrl(inbound, called, run, ringDeadline);
    if (this.stopped(outbound, run, inbound)) return;
    if (answer.kind === 'ring-timeout') {
      this.endBoth(outbound, inbound, 'no-answer');
      return;
    }
    if (answer.kind === 'error') {
      inbound.errorCode = answer.code;
      outbound.errorCode = answer.code;
      this.endBoth(outbound, inbound, 'failed');
      return;
    }
    if (rejects(answer.twiml)) {
      this.endBoth(outbound, inbound, 'busy');
      return;
    }

    const answeredAt = new Date();
    this.change(inbound, { status: 'in-progress', answerTime: answeredAt });
    this.change(outbound, { status: 'in-progress', answerTime: answeredAt });
    this.statusCallback(outbound, 'answered');
    const outboundTwiml = await this.outboundTwiml(outbound, run);
    if (this.stopped(outbound, run, inbound)) return;
    // Either side hanging up ends the call, and TimeLimit ends it at the latest.
    const seconds = Math.min(twimlSeconds(answer.twiml), twimlSeconds(outboundTwiml), request.timeLimitSeconds);
    await this.sleep(run, seconds * 1000);
    if (this.stopped(outbound, run, inbound)) return;
    this.endBoth(outbound, inbound, 'completed');
  }

  /** The inbound leg in the called number's account, ringing. */
  private inboundLeg(outbound: SimulatedCall, called: IncomingNumber): SimulatedCall {
    const now = new Date();
    const inbound: SimulatedCall = {
      sid: newSid('CA'),
      accountSid: called.accountSid,
      sequence: this.store.nextSequence(),
      direction: 'inbound',
      from: outbound.from,
      to: called.phoneNumber,
      phoneNumberSid: called.sid,
      createdAt: now,
      request: undefined,
      otherLegSid: outbound.sid,
      status: 'ringing',
      startTime: now,
      answerTime: null,
      endTime: null,
      updatedAt: now,
      errorCode: null,
      voiceRequests: [],
    };
    this.store.account(called.accountSid).calls.set(inbound.sid, inbound);
    outbound.otherLegSid = inbound.sid;
    this.options.persist();
    return inbound;
  }

  /** Twilio's request to the number's voice URL, then its fallback URL; within the ring time and 15 s each. */
  private async requestVoiceUrl(
    inbound: SimulatedCall,
    called: IncomingNumber,
    run: CallRun,
    ringDeadline: number,
  ): Promise<TwimlAnswer> {
    const settings = called.settings;
    const targets = [
      { url: settings.voice_url, method: settings.voice_method },
      { url: settings.voice_fallback_url, method: settings.voice_fallback_method },
    ].filter((target): target is { url: string; method: string | boolean | null | undefined } => {
      return typeof target.url === 'string' && target.url !== '';
    });
    if (targets.length === 0) {
      this.options.logger(`call ${inbound.sid} to ${inbound.to}: the number has no voice URL`);
      return { kind: 'error', code: 11200 };
    }
    const params = this.voiceParameters(inbound, 'ringing');
    let answer: TwimlAnswer = { kind: 'error', code: 11200 };
    for (const target of targets) {
      const method = target.method === 'GET' ? 'GET' : 'POST';
      answer = await this.fetchTwiml(inbound, target.url, method, params, run, ringDeadline);
      if (answer.kind !== 'error') return answer;
    }
    return answer;
  }

  /** The outbound leg's own TwiML once answered: its Twiml, or what its Url answers (nothing on an error). */
  private async outboundTwiml(outbound: SimulatedCall, run: CallRun): Promise<string> {
    const request = outbound.request;
    if (request?.twiml) return request.twiml;
    if (!request?.url) return '';
    const params = this.voiceParameters(outbound, 'in-progress');
    const answer = await this.fetchTwiml(outbound, request.url, request.method, params, run, Number.POSITIVE_INFINITY);
    // An error plays Twilio's "application error" message and hangs up.
    return answer.kind === 'twiml'
      ? answer.twiml
      : '<Response><Say>An application error has occurred.</Say></Response>';
  }

  /** What Twilio sends to a voice URL about a call (form parameters of a TwiML request). */
  private voiceParameters(call: SimulatedCall, callStatus: CallStatus): Record<string, string> {
    const geography = (prefix: string, phoneNumber: string) => ({
      [`${prefix}City`]: '',
      [`${prefix}Country`]: countryOf(phoneNumber),
      [`${prefix}State`]: '',
      [`${prefix}Zip`]: '',
    });
    return {
      AccountSid: call.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: call.sid,
      CallStatus: callStatus,
      Called: call.to,
      ...geography('Called', call.to),
      Caller: call.from,
      ...geography('Caller', call.from),
      Direction: call.direction,
      From: call.from,
      ...geography('From', call.from),
      To: call.to,
      ...geography('To', call.to),
    };
  }

  private async fetchTwiml(
    call: SimulatedCall,
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    run: CallRun,
    ringDeadline: number,
  ): Promise<TwimlAnswer> {
    const record: VoiceRequestRecord = { at: new Date(), url, method, responseStatus: null, error: null };
    call.voiceRequests.push(record);
    const ringLeftMs = ringDeadline - Date.now();
    const ringsOut = ringLeftMs < this.voiceUrlTimeoutMs;
    const result = await this.signedRequest(call.accountSid, url, method, params, {
      timeoutMs: Math.max(0, Math.min(ringLeftMs, this.voiceUrlTimeoutMs)),
      signal: run.abort.signal,
    });
    record.responseStatus = result.status;
    record.error = result.error;
    this.options.persist();
    this.options.logger(`call ${call.sid}: ${method} ${url} -> ${result.status ?? result.error}`);
    if (result.status === null) {
      if (result.timedOut && ringsOut) return { kind: 'ring-timeout' };
      // 11205: HTTP connection failure (refused, unreachable, or no answer in time).
      return { kind: 'error', code: 11205 };
    }
    if (result.status < 200 || result.status > 299) return { kind: 'error', code: 11200 };
    // 12100: Document parse failure, for an answer that is not TwiML.
    if (!TWIML_RESPONSE.test(result.body)) return { kind: 'error', code: 12100 };
    return { kind: 'twiml', twiml: result.body };
  }

  /**
   * A request as Twilio makes it to an application: form-encoded (POST body, or GET query), `X-Twilio-Signature`
   * over the public URL with the account's auth token; sent to the URL's local rewrite.
   */
  private async signedRequest(
    accountSid: string,
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    limits: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ status: number | null; body: string; error: string | null; timedOut: boolean }> {
    const authToken = this.store.account(accountSid).authToken ?? '';
    const query = new URLSearchParams(params).toString();
    const signedUrl = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
    const headers: Record<string, string> = {
      'User-Agent': 'TwilioProxy/1.1',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(authToken, signedUrl, method === 'GET' ? {} : params),
      'I-Twilio-Idempotency-Token': randomUUID(),
    };
    if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const timeout = AbortSignal.timeout(Math.max(1, limits.timeoutMs));
    const signal = AbortSignal.any([timeout, this.closing.signal, ...(limits.signal ? [limits.signal] : [])]);
    try {
      const response = await fetch(this.store.rewriteUrl(signedUrl), {
        method,
        headers,
        ...(method === 'POST' ? { body: query } : {}),
        signal,
      });
      const body = await response.text();
      return { status: response.status, body, error: null, timedOut: false };
    } catch (error) {
      const timedOut = timeout.aborted;
      const message = timedOut ? 'timed out' : error instanceof Error ? error.message : String(error);
      return { status: null, body: '', error: message, timedOut };
    }
  }

  /** Posts one call progress event to the outbound call's StatusCallback, when it asked for that event. */
  private statusCallback(call: SimulatedCall, event: 'initiated' | 'ringing' | 'answered' | 'completed'): void {
    const request = call.request;
    if (!request?.statusCallback || !request.statusCallbackEvents.includes(event) || this.closed) return;
    const duration = callDurationSeconds(call);
    const params: Record<string, string> = {
      ...this.voiceParameters(call, call.status),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(['initiated', 'ringing', 'answered', 'completed'].indexOf(event)),
      Timestamp: rfc2822(new Date()),
      ...(event === 'completed' ? { CallDuration: String(duration ?? 0), Duration: String(duration ?? 0) } : {}),
    };
    const url = request.statusCallback;
    void this.signedRequest(call.accountSid, url, request.statusCallbackMethod, params, {
      timeoutMs: this.voiceUrlTimeoutMs,
    }).then((result) =>
      this.options.logger(`status callback ${event} of ${call.sid} -> ${result.status ?? result.error}`),
    );
  }

  private change(call: SimulatedCall, fields: Partial<Pick<SimulatedCall, 'status' | 'startTime' | 'answerTime'>>) {
    Object.assign(call, fields, { updatedAt: new Date() });
    this.options.persist();
  }

  private end(call: SimulatedCall, status: CallStatus, options: { callbacks: boolean } = { callbacks: true }): void {
    if (FINAL_CALL_STATUSES.includes(call.status)) return;
    const now = new Date();
    call.status = status;
    call.endTime = now;
    call.updatedAt = now;
    this.options.persist();
    this.options.logger(`call ${call.sid} (${call.direction} to ${call.to}) ${status}`);
    if (options.callbacks) this.statusCallback(call, 'completed');
  }

  private endBoth(outbound: SimulatedCall, inbound: SimulatedCall, status: CallStatus): void {
    this.end(inbound, status);
    this.end(outbound, status);
  }

  /** True when the call was hung up (then ended here, both legs) or the exchange closed. */
  private stopped(outbound: SimulatedCall, run: CallRun, inbound?: SimulatedCall): boolean {
    if (this.closed || run.dropped) return true;
    if (!run.hangUp) return false;
    if (inbound) this.end(inbound, run.hangUp);
    this.end(outbound, run.hangUp);
    return true;
  }

  private otherLeg(call: SimulatedCall): SimulatedCall | undefined {
    if (!call.otherLegSid) return undefined;
    for (const account of this.store.accounts.values()) {
      const other = account.calls.get(call.otherLegSid);
      if (other) return other;
    }
    return undefined;
  }

  /** Waits `ms`, or less when the call is hung up or the exchange closes. */
  private sleep(run: CallRun, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      run.wake = done;
    });
  }
}
