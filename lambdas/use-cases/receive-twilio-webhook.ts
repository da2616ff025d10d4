import { validateRequest, validateRequestWithBody } from 'twilio/lib/webhooks/webhooks';
import { portWake } from '../domain/port-request';
import { isTerminal } from '../domain/port-status';
import { HttpProblem } from '../shared/errors';
import { newTimeSortableId } from '../shared/ids';
import type { Clock, Metrics, PortInRepository, TwilioTokenStore, WorkflowClient } from './ports';

export interface TwilioWebhookInput {
  readonly accountId: string;
  /** The public URL Twilio posted to, rebuilt from the configured base URL (never from the Host header). */
  readonly url: string;
  readonly signature: string | undefined;
  readonly contentType: string;
  readonly rawBody: string;
}

const FORBIDDEN = () => new HttpProblem(403, 'Forbidden', 'The Twilio signature is missing or does not match.');

function isSignedByTwilio(input: TwilioWebhookInput, authToken: string): boolean {
  if (!input.signature) return false;
  if (input.contentType.includes('application/x-www-form-urlencoded')) {
    const params = Object.fromEntries(new URLSearchParams(input.rawBody));
    return validateRequest(authToken, input.signature, input.url, params);
  }
  // JSON bodies: Twilio signs the URL carrying ?bodySHA256=<hex of the body>, and the hash must match the body.
  if (!new URL(input.url).searchParams.has('bodySHA256')) return false;
  return validateRequestWithBody(authToken, input.signature, input.url, input.rawBody);
}

function readPortInSid(input: TwilioWebhookInput): string | undefined {
  try {
    const fields: Record<string, unknown> = input.contentType.includes('application/x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(input.rawBody))
      : (JSON.parse(input.rawBody) as Record<string, unknown>);
    const sid = fields.port_in_request_sid ?? fields.PortInRequestSid;
    return typeof sid === 'string' && /^KW[0-9a-fA-F]{32}$/.test(sid) ? sid : undefined;
  } catch {
    return undefined;
  }
}

/** How much of a webhook's body a dead letter keeps (DynamoDB items stay far below their 400 KB limit). */
const DEAD_LETTER_BODY_CHARS = 8192;

/** Twilio sids of Port In requests a warm function remembers at most (the oldest is forgotten first). */
const MAX_REMEMBERED_SIDS = 10_000;

/**
 * Which port request each Twilio Port In sid belongs to, as far as this warm function has read it: the lookup item
 * never changes once written, so a sid found once needs no read again. Sids not found are not kept (their lookup
 * item may be written later).
 */
export class PortRequestIdCache {
  private readonly ids = new Map<string, string>();

  get(accountId: string, sid: string): string | undefined {
    return this.ids.get(`${accountId}#${sid}`);
  }

  set(accountId: string, sid: string, portRequestId: string): void {
    if (this.ids.size >= MAX_REMEMBERED_SIDS) this.ids.delete(this.ids.keys().next().value as string);
    this.ids.set(`${accountId}#${sid}`, portRequestId);
  }
}

/** Task tokens a warm function remembers at most (the oldest is forgotten first). */
const MAX_SPENT_TOKENS = 10_000;

/** The task tokens this warm function has sent SendTaskSuccess for: a token wakes its task once, at most. */
export class SpentTaskTokens {
  private readonly tokens = new Set<string>();

  has(token: string): boolean {
    return this.tokens.has(token);
  }

  add(token: string): void {
    if (this.tokens.size >= MAX_SPENT_TOKENS) this.tokens.delete(this.tokens.values().next().value as string);
    this.tokens.add(token);
  }
}

/** Checks the signature with the account's token; a kept token that fails is read again once (it may have rotated). */
async function isSignedByAccount(input: TwilioWebhookInput, tokens: TwilioTokenStore): Promise<boolean> {
  if (!input.signature) return false;
  const authToken = await tokens.getAuthToken(input.accountId);
  if (authToken && isSignedByTwilio(input, authToken)) return true;
  const fresh = await tokens.getAuthToken(input.accountId, { forceFetch: true });
  return fresh !== undefined && fresh !== authToken && isSignedByTwilio(input, fresh);
}

async function findPortRequestId(
  accountId: string,
  sid: string,
  repository: PortInRepository,
  cache: PortRequestIdCache | undefined,
): Promise<string | undefined> {
  const cached = cache?.get(accountId, sid);
  if (cached) return cached;
  const found = await repository.findPortRequestIdByTwilioSid(accountId, sid);
  if (found) cache?.set(accountId, sid, found);
  return found;
}

/**
 * Twilio's porting webhook: a hint that something changed. It is checked, recorded on the port request (so a
 * waiting step that has not stored its token yet still sees it), and wakes the waiting workflow.
 */
export async function receiveTwilioWebhook(
  input: TwilioWebhookInput,
  deps: {
    repository: PortInRepository;
    tokens: TwilioTokenStore;
    workflow: WorkflowClient;
    clock: Clock;
    metrics: Metrics;
    /** Sid → port request id, kept across invocations of a warm function. */
    portRequestIds?: PortRequestIdCache;
    /** Task tokens this warm function has already sent (the task is woken or gone): not sent again. */
    spentTaskTokens?: SpentTaskTokens;
  },
): Promise<{ accepted: boolean; portRequestId?: string; deadLetterId?: string }> {
  if (!(await isSignedByAccount(input, deps.tokens))) throw FORBIDDEN();

  const sid = readPortInSid(input);
  const portRequestId = sid
    ? await findPortRequestId(input.accountId, sid, deps.repository, deps.portRequestIds)
    : undefined;
  // One atomic write records the wake (no read first: webhooks about one port never race each other into a retry).
  // A finished port request has nothing left to wake: it is left untouched.
  const pr = portRequestId
    ? await deps.repository.recordWebhookWake(input.accountId, portRequestId, deps.clock.now().toISOString())
    : undefined;
  if (!portRequestId || !pr) {
    // Signed by the account's Twilio, yet about no port request we know: kept for operations, never dropped.
    const deadLetterId = newTimeSortableId('dl', deps.clock.now());
    await deps.repository.putDeadLetter({
      accountId: input.accountId,
      deadLetterId,
      kind: sid ? 'UNKNOWN_PORT_IN_REQUEST' : 'UNREADABLE_PORT_IN_WEBHOOK',
      reason: sid
        ? `No port request has Twilio Port In ${sid}${portRequestId ? ` (its lookup names ${portRequestId})` : ''}`
        : 'The webhook names no Port In request',
      receivedAt: deps.clock.now().toISOString(),
      payload: {
        ...(sid ? { portInRequestSid: sid } : {}),
        contentType: input.contentType,
        body: input.rawBody.slice(0, DEAD_LETTER_BODY_CHARS),
        truncated: input.rawBody.length > DEAD_LETTER_BODY_CHARS,
      },
    });
    deps.metrics.count('DeadLetters');
    return { accepted: false, deadLetterId };
  }

  if (pr.taskToken && !isTerminal(pr.status) && !deps.spentTaskTokens?.has(pr.taskToken)) {
    await deps.workflow.completeTask(pr.taskToken, portWake(pr, 'webhook', deps.clock.now()));
    // Accepted or refused as stale, the token wakes nothing any more: later webhooks of a burst need not send it.
    deps.spentTaskTokens?.add(pr.taskToken);
  }
  return { accepted: true, portRequestId };
}
