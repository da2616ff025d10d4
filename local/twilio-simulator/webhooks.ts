import { createHash, randomUUID } from 'node:crypto';
import twilio from 'twilio';
import type { SimulatorStore } from './state';

/** One porting event, as the simulator posts it (Twilio does not publish the payload schema). */
export interface PortingEvent {
  event_type: string;
  account_sid: string;
  port_in_request_sid: string;
  port_in_phone_number_sid?: string;
  phone_number?: string;
  status: string;
  rejection_reason?: string;
  port_date?: string;
  last_date_updated: string;
}

/** deliver: once; duplicate: the same delivery twice; drop: recorded but never sent. */
export type WebhookMode = 'deliver' | 'drop' | 'duplicate';

/** One POST of a delivery; responseStatus null when the connection failed. */
export interface DeliveryAttempt {
  at: string;
  responseStatus: number | null;
  error?: string;
}

/** One entry of `GET /_sim/webhooks`. */
export interface WebhookDelivery {
  id: number;
  accountSid: string;
  eventType: string;
  mode: WebhookMode;
  /** 1, or 2 for the second copy of a duplicated delivery. */
  copy: number;
  /** The signed URL, with `bodySHA256`. */
  url: string;
  headers: Record<string, string>;
  body: string;
  outcome: 'pending' | 'delivered' | 'failed' | 'dropped';
  responseStatus: number | null;
  attempts: DeliveryAttempt[];
}

/** A delivery still to make, as the state file keeps it across a restart. */
export type OutstandingDelivery = Pick<
  WebhookDelivery,
  'accountSid' | 'eventType' | 'mode' | 'copy' | 'url' | 'headers' | 'body'
>;

/**
 * Where the dispatcher's deliveries are kept across a restart (the state file). Write-ahead: a webhook leaves only
 * once the change that made it is on disk, so that a restart neither repeats the change nor loses the webhook.
 */
export interface WebhookPersistence {
  /** Resolves once the state as it is now (with the deliveries just queued) is on disk. */
  saved(): Promise<void>;
  /** A delivery is done with (delivered or failed): to be forgotten by the next save. */
  settled(): void;
}

const NOT_PERSISTED: WebhookPersistence = { saved: () => Promise.resolve(), settled: () => {} };

/** The URL Twilio signs for a JSON body: the target URL with `bodySHA256` appended. */
export function urlWithBodyHash(url: string, body: string): string {
  const hash = createHash('sha256').update(body).digest('hex');
  return `${url}${url.includes('?') ? '&' : '?'}bodySHA256=${hash}`;
}

/** Posts porting events to each account's port_in_target_url, signed, in order per account, with retries. */
export class WebhookDispatcher {
  readonly log: WebhookDelivery[] = [];
  private nextId = 1;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly pendingTimers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly store: SimulatorStore,
    private readonly retryDelaysMs: readonly number[],
    private readonly logger: (line: string) => void,
    private readonly persistence: WebhookPersistence = NOT_PERSISTED,
  ) {}

  /** Queues events behind the account's earlier ones; answers at once. */
  send(accountSid: string, events: readonly PortingEvent[], mode: WebhookMode): void {
    for (const event of events) {
      for (const delivery of this.prepare(accountSid, event, mode)) this.enqueue(delivery);
    }
  }

  /** The deliveries not yet made (first attempt or retries to come), oldest first: what a state file keeps. */
  outstanding(): OutstandingDelivery[] {
    return this.log
      .filter((delivery) => delivery.outcome === 'pending')
      .map(({ accountSid, eventType, mode, copy, url, headers, body }) => ({
        accountSid,
        eventType,
        mode,
        copy,
        url,
        headers,
        body,
      }));
  }

  /**
   * Makes, in order and before anything sent later, the deliveries an earlier run left outstanding: the same body,
   * signature and idempotency token, with the retries afresh.
   */
  resend(deliveries: readonly OutstandingDelivery[]): void {
    for (const saved of deliveries) {
      const delivery: WebhookDelivery = {
        ...saved,
        id: this.nextId++,
        outcome: 'pending',
        responseStatus: null,
        attempts: [],
      };
      this.log.push(delivery);
      this.enqueue(delivery);
    }
  }

  /** Resolves once every queued delivery has finished (tests, demos). */
  async idle(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  /** Stops retries and in-flight posts; later sends are ignored. */
  close(): void {
    this.closed = true;
    for (const pending of this.pendingTimers) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.pendingTimers.clear();
    for (const controller of this.inFlight) controller.abort();
  }

  /** Clears the delivery log. */
  reset(): void {
    this.log.length = 0;
    this.nextId = 1;
  }

  private prepare(accountSid: string, event: PortingEvent, mode: WebhookMode): WebhookDelivery[] {
    const account = this.store.account(accountSid);
    const configuration = account.webhookConfiguration;
    const targetUrl = configuration?.portInTargetUrl;
    if (!targetUrl || !account.authToken) {
      this.logger(`webhook ${event.event_type} for ${accountSid} not sent: no port_in_target_url configured`);
      return [];
    }
    if (configuration.notificationsOf.length > 0 && !configuration.notificationsOf.includes(event.event_type)) {
      return [];
    }
    const body = JSON.stringify(event);
    const url = urlWithBodyHash(targetUrl, body);
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'TwilioProxy/1.1',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(account.authToken, url, {}),
      // Real Twilio webhooks carry this; the copies of a duplicated delivery share it.
      'I-Twilio-Idempotency-Token': randomUUID(),
    };
    const copies = mode === 'duplicate' ? 2 : 1;
    const deliveries: WebhookDelivery[] = [];
    for (let copy = 1; copy <= copies; copy += 1) {
      const delivery: WebhookDelivery = {
        id: this.nextId++,
        accountSid,
        eventType: event.event_type,
        mode,
        copy,
        url,
        headers,
        body,
        outcome: mode === 'drop' ? 'dropped' : 'pending',
        responseStatus: null,
        attempts: [],
      };
      this.log.push(delivery);
      if (mode !== 'drop') deliveries.push(delivery);
    }
    return deliveries;
  }

  private enqueue(delivery: WebhookDelivery): void {
    // Asked now, while the change that made this webhook is the latest: the deliveries of one turn share one save.
    const saved = this.persistence.saved();
    const previous = this.queues.get(delivery.accountSid) ?? Promise.resolve();
    this.queues.set(
      delivery.accountSid,
      Promise.all([previous, saved]).then(() => this.deliver(delivery)),
    );
  }

  private async deliver(delivery: WebhookDelivery): Promise<void> {
    for (let attempt = 0; attempt <= this.retryDelaysMs.length; attempt += 1) {
      if (this.closed) return;
      if (attempt > 0) await this.sleep(this.retryDelaysMs[attempt - 1] ?? 0);
      if (this.closed) return;
      const result = await this.post(delivery);
      delivery.attempts.push(result);
      delivery.responseStatus = result.responseStatus;
      if (result.responseStatus !== null && result.responseStatus >= 200 && result.responseStatus < 300) {
        delivery.outcome = 'delivered';
        this.logger(`webhook ${delivery.eventType} -> ${delivery.url} ${result.responseStatus}`);
        this.persistence.settled();
        return;
      }
      this.logger(
        `webhook ${delivery.eventType} -> ${delivery.url} attempt ${attempt + 1} failed: ${result.error ?? result.responseStatus}`,
      );
    }
    delivery.outcome = 'failed';
    this.persistence.settled();
  }

  private async post(delivery: WebhookDelivery): Promise<DeliveryAttempt> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), 10_000);
    const at = new Date().toISOString();
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        signal: controller.signal,
      });
      // Drain the answer so the connection is released.
      await response.arrayBuffer().catch(() => undefined);
      return { at, responseStatus: response.status };
    } catch (error) {
      return { at, responseStatus: null, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const pending = {
        timer: setTimeout(() => {
          this.pendingTimers.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.pendingTimers.add(pending);
    });
  }
}
