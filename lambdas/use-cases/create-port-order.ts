import { createHash } from 'node:crypto';
import { isTollFree, parseUsPhoneNumber } from '../domain/phone-numbers';
import { type LosingCarrier, type PortRequest, withEmail } from '../domain/port-request';
import { isTerminal } from '../domain/port-status';
import { type OrderCarrier, splitOrder } from '../domain/split-order';
import { CrashPoints, crashPoint } from '../shared/crash-points';
import { type FieldError, HttpProblem } from '../shared/errors';
import { newTimeSortableId } from '../shared/ids';
import { logger } from '../shared/logger';
import type { PortWorkflowInput } from '../shared/workflow-contract';
import { lookUpPortability } from './check-portability';
import type {
  Clock,
  Metrics,
  PortInRepository,
  PortOrder,
  TwilioGateway,
  TwilioTokenStore,
  WorkflowClient,
} from './ports';
import { startPendingWorkflow } from './start-port-workflow';
import { DYNAMODB_WRITE_CONCURRENCY, mapWithConcurrency, twilioForAccount } from './twilio-account';

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
  readonly metrics: Metrics;
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

async function loadOrder(
  deps: CreatePortOrderDeps,
  accountId: string,
  orderId: string,
): Promise<{ order: PortOrder; portRequests: PortRequest[] } | undefined> {
  const order = await deps.repository.getOrder(accountId, orderId);
  if (!order) return undefined;
  const portRequests = await Promise.all(
    order.portRequestIds.map((id) => deps.repository.getPortRequest(accountId, id)),
  );
  return { order, portRequests: portRequests.filter((pr): pr is PortRequest => Boolean(pr)) };
}

async function loadOrderView(
  deps: CreatePortOrderDeps,
  accountId: string,
  orderId: string,
): Promise<PortOrderView | undefined> {
  const loaded = await loadOrder(deps, accountId, orderId);
  return loaded && toOrderView(loaded.order, loaded.portRequests);
}

/**
 * Starts the executions of an accepted order's port requests that are still marked pending, one after the other.
 * The order is durable already, so a failure here never fails the call: the first start that fails (Step Functions
 * throttled, say) leaves it and the rest marked, and the sweeper starts them within a minute or two.
 */
async function startAcceptedWorkflows(portRequests: readonly PortRequest[], deps: CreatePortOrderDeps): Promise<void> {
  const pending = portRequests.filter((pr) => pr.workflowStartPendingSince);
  for (const [index, pr] of pending.entries()) {
    try {
      await startPendingWorkflow(pr, deps);
    } catch (error) {
      const deferred = pending.length - index;
      deps.metrics.count('WorkflowStartsDeferred', deferred);
      logger.warn('could not start the workflow; the sweeper will', {
        orderId: pr.orderId,
        portRequestId: pr.portRequestId,
        deferred,
        errorName: (error as Error | undefined)?.name,
      });
      return;
    }
  }
}

/** The parts of an accepted order's answer that may fail (reads and the key's record) only cost a fresher answer. */
async function answerAccepted(
  deps: CreatePortOrderDeps,
  input: { accountId: string; idempotencyKey: string },
  order: PortOrder,
  portRequests: readonly PortRequest[],
): Promise<PortOrderView> {
  const view =
    (await loadOrderView(deps, input.accountId, order.orderId).catch(() => undefined)) ??
    toOrderView(order, portRequests);
  try {
    await deps.repository.completeIdempotencyKey(input.accountId, input.idempotencyKey, view);
  } catch (error) {
    // A retry with the key finds the order written and answers it all the same.
    logger.warn('order accepted; its Idempotency-Key record is not completed', {
      orderId: order.orderId,
      errorName: (error as Error | undefined)?.name,
    });
  }
  return view;
}

/**
 * POST port-orders: checks the order, asks Twilio which numbers can be ported, splits the order into port requests
 * and starts one workflow per port request. The Idempotency-Key makes a retried call answer the same order.
 *
 * Once written, an order is never lost: each port request is written marked "workflow start pending", then the
 * order item (from then on the key answers this order), then the executions are started and the marks cleared. A
 * start that fails, or a function that dies after the write, leaves marks, and the sweeper starts those executions.
 * A failure before the order is written answers an error (503 when transient) and the key may be used again.
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
    } else {
      // The order item is written last: once it is there the order was accepted, whatever became of that call
      // (its function may have died before answering). Answer it, starting what is still pending.
      const accepted = await loadOrder(deps, accountId, claim.record.orderId);
      if (accepted) {
        await startAcceptedWorkflows(accepted.portRequests, deps);
        const view = await answerAccepted(deps, input, accepted.order, accepted.portRequests);
        return { replayed: true, view };
      }
      const stale = now.getTime() - Date.parse(claim.record.createdAt) >= STALE_IN_PROGRESS_MS;
      if (claim.record.status === 'IN_PROGRESS' && !stale) {
        throw new HttpProblem(409, 'Order in progress', 'An order with this Idempotency-Key is still being placed.');
      }
    }
  }
  const orderId = claim.record.orderId;

  let written = false;
  let accepted: { order: PortOrder; portRequests: PortRequest[] };
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
        workflowStartPendingSince: at,
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
    // Each claim is its own conditional write, so they go in parallel; one refused refuses the order, naming every
    // number another order took first. A claim of a port request that is never written binds nothing: the next
    // order finds no open port request behind it (checkOpenClaims).
    const wanted = portRequests.flatMap((pr) => pr.phoneNumbers.map((n) => ({ pr, phoneNumber: n.phoneNumber })));
    const taken = await mapWithConcurrency(wanted, DYNAMODB_WRITE_CONCURRENCY, async ({ pr, phoneNumber }) =>
      (await deps.repository.claimNumber(accountId, phoneNumber, pr.portRequestId, claims.get(phoneNumber)))
        ? undefined
        : phoneNumber,
    );
    const refused = taken.filter((phoneNumber): phoneNumber is string => phoneNumber !== undefined);
    if (refused.length > 0) {
      throw new HttpProblem(
        409,
        'Numbers already being ported',
        'Another order claimed some numbers first.',
        refused.map((phoneNumber) => ({
          path: paths.get(phoneNumber) ?? 'phoneNumbers',
          message: `${phoneNumber} is already in an open port request`,
        })),
      );
    }
    written = true;
    for (const pr of portRequests) await deps.repository.putPortRequest(pr);
    // The commit: from here on a retry with the key answers this order.
    await deps.repository.putOrder(order);
    accepted = { order, portRequests };
  } catch (error) {
    // Until something is written, the key is free again; after, a retry with the key finishes this same order (at
    // once: this call is over). A port request already written carries its mark and is started by the sweeper.
    // Either write failing (DynamoDB still throttled) leaves the key in progress: it is taken over when stale.
    const key = input.idempotencyKey;
    await (written
      ? deps.repository.interruptIdempotencyKey(accountId, key)
      : deps.repository.releaseIdempotencyKey(accountId, key)
    ).catch((keyError: unknown) =>
      logger.warn('Idempotency-Key left in progress', { errorName: (keyError as Error | undefined)?.name }),
    );
    throw error;
  }
  await crashPoint(CrashPoints.OrderWritten);
  await startAcceptedWorkflows(accepted.portRequests, deps);
  return { replayed: false, view: await answerAccepted(deps, input, accepted.order, accepted.portRequests) };
}
