import type { IncomingMessage, ServerResponse } from 'node:http';
import { twilioErrorBody } from './http';

/**
 * What makes the simulator behave like Twilio under load rather than like an in-memory map (benchmarks): a delay
 * before each Twilio API answer, and Twilio's per-account REST concurrency limit. Control routes (`/_sim/...`)
 * are never delayed nor limited. Kept apart from the fault code (`/_sim/faults`): faults are one-off answers a
 * test asks for, this is how every request behaves.
 */
export interface SimulatorRealismOptions {
  /** Added before each Twilio API request is handled (ms). Default 0. */
  readonly latencyMs?: number;
  /** Plus a uniformly random 0..latencyJitterMs (ms). Default 0. */
  readonly latencyJitterMs?: number;
  /**
   * Twilio's REST API concurrency limit: requests of one Account SID in flight at once (including their latency).
   * One more is answered 429 with error 20429 "Too Many Requests" (https://www.twilio.com/docs/api/errors/20429:
   * "your account exceeds allowed concurrency to Twilio's REST API"; not processed, safe to retry). Twilio does
   * not publish the number; 100 per account is the commonly quoted default. Default: no limit.
   */
  readonly maxConcurrentRequestsPerAccount?: number;
}

/** What the realism layer did, for benchmarks to check (`GET /_sim/...` is not needed: read it in process). */
export interface RealismCounters {
  /** Requests answered 429 by the concurrency limit. */
  tooManyRequests: number;
  /** The most requests of one account in flight at once. */
  maxInFlight: number;
}

const ACCOUNT_SID_OF_BASIC = /^Basic\s+(\S+)$/i;

function accountSidOf(req: IncomingMessage): string | undefined {
  const match = ACCOUNT_SID_OF_BASIC.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? decoded : decoded.slice(0, colon);
}

export class SimulatorRealism {
  readonly counters: RealismCounters = { tooManyRequests: 0, maxInFlight: 0 };
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly options: SimulatorRealismOptions) {}

  get enabled(): boolean {
    return (
      (this.options.latencyMs ?? 0) > 0 ||
      (this.options.latencyJitterMs ?? 0) > 0 ||
      this.options.maxConcurrentRequestsPerAccount !== undefined
    );
  }

  /** Runs `handle` for the request after the latency, or answers 429 when the account is over its limit. */
  async around(req: IncomingMessage, res: ServerResponse, handle: () => Promise<void>): Promise<void> {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (!this.enabled || pathname.startsWith('/_sim/')) return handle();
    const account = accountSidOf(req) ?? '';
    const limit = this.options.maxConcurrentRequestsPerAccount;
    const now = this.inFlight.get(account) ?? 0;
    if (limit !== undefined && now >= limit) {
      this.counters.tooManyRequests += 1;
      req.resume();
      res
        .writeHead(429, { 'Content-Type': 'application/json; charset=utf-8' })
        .end(JSON.stringify(twilioErrorBody(429, 20429, 'Too Many Requests')));
      return;
    }
    this.inFlight.set(account, now + 1);
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, now + 1);
    // The slot is held until the answer is written (or the client goes away), as Twilio counts a request.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(account) ?? 1) - 1;
      if (left > 0) this.inFlight.set(account, left);
      else this.inFlight.delete(account);
    };
    res.once('close', release);
    res.once('finish', release);
    const delay = (this.options.latencyMs ?? 0) + Math.random() * (this.options.latencyJitterMs ?? 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return handle();
  }
}
