import { createHash } from 'node:crypto';
import { isTollFree, parseUsPhoneNumber } from '../domain/phone-numbers';
import { type LosingCarrier, type PortRequest, withEmail } from '../domain/port-request';
import { isTerminal } from '../domain/port-status';
import { type OrderCarrier, splitOrder } from '../domain/split-order';
import { type FieldError, HttpProblem } from '../shared/errors';
import { newTimeSortableId } from '../shared/ids';
import type { PortWorkflowInput } from '../shared/workflow-contract';
import { lookUpPortability } from './check-portability';
import type { Clock, PortInRepository, PortOrder, TwilioGateway, TwilioTokenStore, WorkflowClient } from './ports';
import { twilioForAccount } from './twilio-account';

/** The body of POST port-orders, as validated by the API schema. */
export interface PortOrderRequest {
  readonly losingCarriers: ReadonlyArray<
    LosingCarrier & {
      readonly pin?: string;
      readonly phoneNumbers: ReadonlyArray<string | { readonly phoneNumber: string; readonly pin?: string }>;
    }
  >;
  readonly targetPortInDate?: string;
  readonly notificationEmails: readonly string[];
  readonly attestations: {
    readonly currentServiceActiveAndPaid: boolean;
    readonly keepCurrentServiceUntilComplete: boolean;
  };
}

export interface CreatePortOrderDeps {
  readonly repository: PortInRepository;
  readonly tokens: TwilioTokenStore;
  readonly twilio: TwilioGateway;
  readonly workflow: WorkflowClient;
  readonly clock: Clock;
  readonly cadence: PortWorkflowInput['cadence'];
}

/** The answer of POST port-orders (202) and of GET port-orders/{orderId}. */
export interface PortOrderView {
  readonly orderId: string;
  readonly portRequests: ReadonlyArray<{
    readonly portRequestId: string;
    readonly status: string;
    readonly route: 'API' | 'MANUAL';
    readonly losingCarrier: string;
    readonly numberTypes: readonly string[];
    readonly phoneNumbers: readonly string[];
  }>;
  readonly notPortable: PortOrder['notPortable'];
  readonly warnings: readonly string[];
}

/**
 * A claimed key whose order never finished (the Lambda died) may be taken over after this long: the product API's
 * function times out at 29 s (lib/constructs/api.ts), so an older claim belongs to an invocation Lambda has ended.
 * The margin covers clock skew between instances.
 */
const STALE_IN_PROGRESS_MS = 40 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hash of a body independent of key order, for Idempotency-Key checks. */
export function hashBody(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** Parses every number to E.164 and refuses the order, naming each place at fault, when one is wrong or repeated. */
function parseOrderNumbers(request: PortOrderRequest): { carriers: OrderCarrier[]; paths: Map<string, string> } {
  const errors: FieldError[] = [];
  const seen = new Map<string, string>();
  const carriers = request.losingCarriers.map((carrier, c): OrderCarrier => {
    const numbers = carrier.phoneNumbers.flatMap((entry, n) => {
      const raw = typeof entry === 'string' ? entry : entry.phoneNumber;
      const path =
        typeof entry === 'string'
          ? `losingCarriers[${c}].phoneNumbers[${n}]`
          : `losingCarriers[${c}].phoneNumbers[${n}].phoneNumber`;
      const parsed = parseUsPhoneNumber(raw);
      if (!parsed.ok) {
        errors.push({ path, message: 'not a valid US phone number' });
        return [];
      }
      const first = seen.get(parsed.e164);
      if (first) {
        errors.push({ path, message: `${parsed.e164} is also at ${first}` });
        return [];
      }
      seen.set(parsed.e164, path);
      const pin = typeof entry === 'string' ? undefined : entry.pin;
      return [{ phoneNumber: parsed.e164, ...(pin ? { pin } : {}) }];
    });
    const { pin, phoneNumbers: _n, ...losingCarrier } = carrier;
    return { losingCarrier, numbers, ...(pin ? { pin } : {}) };
  });
  if (errors.length > 0) {
    throw new HttpProblem(400, 'Invalid phone numbers', 'Some phone numbers are invalid or repeated.', errors);
  }
  return { carriers, paths: seen };
}

/** Refuses numbers that are already in an open port request of the account (409 naming that request). */
async function checkOpenClaims(
  deps: CreatePortOrderDeps,
  accountId: string,
  orderId: string,
  paths: ReadonlyMap<string, string>,
): Promise<ReadonlyMap<string, string>> {
  const claims = await deps.repository.listNumberClaims(accountId);
  const errors: FieldError[] = [];
  const openByRequest = new Map<string, boolean>();
  for (const [phoneNumber, path] of paths) {
    const claimedBy = claims.get(phoneNumber);
    if (!claimedBy || claimedBy.startsWith(`pr_${orderId.slice(4)}`)) continue;
    if (!openByRequest.has(claimedBy)) {
      const other = await deps.repository.getPortRequest(accountId, claimedBy);
      openByRequest.set(claimedBy, Boolean(other && !isTerminal(other.status)));
    }
    if (openByRequest.get(claimedBy)) {
      errors.push({ path, message: `${phoneNumber} is already in open port request ${claimedBy}` });
    }
  }
  if (errors.length > 0) {
    throw new HttpProblem(
      409,
      'Numbers already being ported',
      'Some numbers are already in an open port request.',
      errors,
    );
  }
  return claims;
}

function checkDates(request: PortOrderRequest, now: Date): string[] {
  if (!request.targetPortInDate) return [];
  const target = Date.parse(`${request.targetPortInDate}T00:00:00Z`);
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  const days = Math.round((target - today) / DAY_MS);
  if (days < 7) {
    throw new HttpProblem(400, 'Target date too soon', 'targetPortInDate must be at least 7 days ahead.', [
      { path: 'targetPortInDate', message: 'must be at least 7 days ahead' },
    ]);
  }
  return days < 14
    ? [`targetPortInDate is ${days} days ahead: carriers often need 14 days, so the port may complete later.`]
    : [];
}

function utilityBillRequired(carrierIndexes: readonly number[]): HttpProblem {
  return new HttpProblem(
    400,
    'Utility bill required',
    'Twilio needs a recent utility bill (POST documents) for each losing carrier ported through the API.',
    [...new Set(carrierIndexes)].map((c) => ({
      path: `losingCarriers[${c}].utilityBillDocumentSid`,
      message: 'required',
    })),
  );
}

/** The 202 view of an order from its stored port requests. */
export function toOrderView(order: PortOrder, portRequests: readonly PortRequest[]): PortOrderView {
  return {
    orderId: order.orderId,
    portRequests: portRequests.map((pr) => ({
      portRequestId: pr.portRequestId,
      status: pr.status,
      route: pr.route,
      losingCarrier: pr.losingCarrier.name,
      numberTypes: [...new Set(pr.phoneNumbers.map((n) => n.numberType))],
      phoneNumbers: pr.phoneNumbers.map((n) => n.phoneNumber),
    })),
    notPortable: order.notPortable,
    warnings: order.warnings,
  };
}

async function loadOrderView(
  deps: CreatePortOrderDeps,
  accountId: string,
  orderId: string,
): Promise<PortOrderView | undefined> {
  const order = await deps.repository.getOrder(accountId, orderId);
  if (!order) return undefined;
  const portRequests = await Promise.all(
    order.portRequestIds.map((id) => deps.repository.getPortRequest(accountId, id)),
  );
  return toOrderView(
    order,
    portRequests.filter((pr): pr is PortRequest => Boolean(pr)),
  );
}

/**
 * POST port-orders: checks the order, asks Twilio which numbers can be ported, splits the order into port requests
 * and starts one workflow per port request. The Idempotency-Key makes a retried call answer the same order.
 */
export async function createPortOrder(
  input: { accountId: string; idempotencyKey: string; request: PortOrderRequest },
  deps: CreatePortOrderDeps,
): Promise<{ replayed: boolean; view: PortOrderView }> {
  const { accountId, request } = input;
  const now = deps.clock.now();
  const { carriers, paths } = parseOrderNumbers(request);
  const warnings = checkDates(request, now);
  // Bad input is a 400 before any conflict or Twilio call: a carrier with numbers for the API needs its bill.
  const billMissing = carriers.flatMap((c, index) =>
    !c.losingCarrier.utilityBillDocumentSid && c.numbers.some((n) => !isTollFree(n.phoneNumber)) ? [index] : [],
  );
  if (billMissing.length > 0) throw utilityBillRequired(billMissing);

  const bodyHash = hashBody(request);
  const claim = await deps.repository.claimIdempotencyKey({
    accountId,
    key: input.idempotencyKey,
    bodyHash,
    orderId: newTimeSortableId('ord', now),
    status: 'IN_PROGRESS',
    createdAt: now.toISOString(),
  });
  if (!claim.claimed) {
    if (claim.record.bodyHash !== bodyHash) {
      throw new HttpProblem(409, 'Idempotency-Key reused', 'This Idempotency-Key was used with another body.', [
        { path: 'Idempotency-Key', message: 'already used with a different body' },
      ]);
    }
    if (claim.record.status === 'COMPLETED') {
      const view =
        (claim.record.response as PortOrderView | undefined) ??
        (await loadOrderView(deps, accountId, claim.record.orderId));
      if (view) return { replayed: true, view };
    } else if (now.getTime() - Date.parse(claim.record.createdAt) < STALE_IN_PROGRESS_MS) {
      throw new HttpProblem(409, 'Order in progress', 'An order with this Idempotency-Key is still being placed.');
    }
  }
  const orderId = claim.record.orderId;

  let written = false;
  try {
    const claims = await checkOpenClaims(deps, accountId, orderId, paths);
    const { gateway, accountSid } = await twilioForAccount(accountId, deps);
    const portability = await lookUpPortability(
      gateway,
      carriers.flatMap((c) => c.numbers.map((n) => n.phoneNumber)),
    );
    const split = splitOrder(carriers, portability);
    const missingBill = split.drafts.flatMap((d) =>
      d.route === 'API' && !d.losingCarrier.utilityBillDocumentSid ? [d.carrierIndex] : [],
    );
    if (missingBill.length > 0) throw utilityBillRequired(missingBill);

    const at = now.toISOString();
    const portRequests = split.drafts.map((draft, index): PortRequest => {
      const base: PortRequest = {
        accountId,
        portRequestId: `pr_${orderId.slice(4)}${String(index + 1).padStart(2, '0')}`,
        orderId,
        status: draft.route === 'MANUAL' ? 'MANUAL' : 'SUBMITTING',
        route: draft.route,
        losingCarrier: draft.losingCarrier,
        ...(Object.keys(draft.pins).length > 0 ? { pins: draft.pins } : {}),
        phoneNumbers: draft.numbers.map((n) => ({ ...n, status: 'PENDING', imported: false })),
        ...(request.targetPortInDate ? { targetPortInDate: request.targetPortInDate } : {}),
        notificationEmails: request.notificationEmails,
        twilioAccountSid: accountSid,
        events: [{ at, type: 'ORDER_ACCEPTED', status: draft.route === 'MANUAL' ? 'MANUAL' : 'SUBMITTING' }],
        outbox: [],
        lastReminderAt: at,
        createdAt: at,
        updatedAt: at,
        version: 1,
      };
      return draft.route === 'MANUAL' ? withEmail(base, 'MANUAL_PORT_INSTRUCTIONS', at) : base;
    });
    const order: PortOrder = {
      accountId,
      orderId,
      portRequestIds: portRequests.map((pr) => pr.portRequestId),
      notPortable: split.notPortable,
      warnings,
      createdAt: at,
    };
    for (const pr of portRequests) {
      for (const n of pr.phoneNumbers) {
        const claimed = await deps.repository.claimNumber(
          accountId,
          n.phoneNumber,
          pr.portRequestId,
          claims.get(n.phoneNumber),
        );
        if (!claimed) {
          throw new HttpProblem(409, 'Numbers already being ported', 'Another order claimed some numbers first.', [
            {
              path: paths.get(n.phoneNumber) ?? 'phoneNumbers',
              message: `${n.phoneNumber} is already in an open port request`,
            },
          ]);
        }
      }
    }
    written = true;
    await deps.repository.putOrder(order);
    for (const pr of portRequests) await deps.repository.putPortRequest(pr);
    for (const pr of portRequests) {
      await deps.workflow.startPortWorkflow({
        accountId,
        portRequestId: pr.portRequestId,
        route: pr.route,
        cadence: deps.cadence,
      });
    }
    const view = (await loadOrderView(deps, accountId, orderId)) ?? toOrderView(order, portRequests);
    await deps.repository.completeIdempotencyKey(accountId, input.idempotencyKey, view);
    return { replayed: false, view };
  } catch (error) {
    // Until something is written, the key is free again; after, a retry with the key finishes this same order.
    if (!written) await deps.repository.releaseIdempotencyKey(accountId, input.idempotencyKey);
    throw error;
  }
}
