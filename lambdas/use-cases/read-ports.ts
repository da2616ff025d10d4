import {
  estimatedMonthlyCostUsd,
  expectedCompletion,
  isSafeToCancelCarrier,
  isSafeToCancelOldService,
  type PortRequest,
  verificationOf,
} from '../domain/port-request';
import { HttpProblem } from '../shared/errors';
import { type PortOrderView, toOrderView } from './create-port-order';
import { orderPortRequests } from './order-port-requests';
import type { Page, PortInRepository } from './ports';

/**
 * GET port-requests/{id}: everything about the port but the PINs and the workflow's internals. `orderPortRequests`
 * are the port requests of its order: the carrier is safe to cancel only once all of its requests are done.
 */
export function toPortRequestView(pr: PortRequest, orderPortRequests: readonly PortRequest[] = []) {
  return {
    portRequestId: pr.portRequestId,
    orderId: pr.orderId,
    status: pr.status,
    route: pr.route,
    twilioPortInRequestSid: pr.twilioPortInRequestSid ?? null,
    losingCarrier: pr.losingCarrier,
    phoneNumbers: pr.phoneNumbers.map((n) => ({
      phoneNumber: n.phoneNumber,
      status: n.status,
      ...(n.focDate ? { focDate: n.focDate } : {}),
      ...(n.rejectionReason ? { rejectionReason: n.rejectionReason } : {}),
      imported: n.imported,
      verification: verificationView(n),
    })),
    ...(pr.targetPortInDate ? { targetPortInDate: pr.targetPortInDate } : {}),
    ...(pr.focDate ? { focDate: pr.focDate } : {}),
    expectedCompletion: expectedCompletion(pr),
    estimatedMonthlyCostUsd: estimatedMonthlyCostUsd(pr.phoneNumbers),
    safeToCancelOldService: isSafeToCancelCarrier(pr, orderPortRequests),
    createdAt: pr.createdAt,
    updatedAt: pr.updatedAt,
  };
}

/** A number's verification without the workflow's internals (the failure code, the test call). */
function verificationView(n: PortRequest['phoneNumbers'][number]) {
  const v = verificationOf(n);
  return {
    status: v.status,
    ...(v.checkedAt ? { checkedAt: v.checkedAt } : {}),
    ...(v.detail ? { detail: v.detail } : {}),
  };
}

const notFound = (what: string) => new HttpProblem(404, 'Not found', `No such ${what} in this account.`);

export async function getPortRequest(accountId: string, portRequestId: string, repository: PortInRepository) {
  const pr = await repository.getPortRequest(accountId, portRequestId);
  if (!pr) throw notFound('port request');
  return toPortRequestView(pr, isSafeToCancelOldService(pr) ? await orderPortRequests(repository, pr) : []);
}

export async function getPortRequestEvents(accountId: string, portRequestId: string, repository: PortInRepository) {
  const pr = await repository.getPortRequest(accountId, portRequestId);
  if (!pr) throw notFound('port request');
  return { items: pr.events };
}

export async function listPortRequests(
  accountId: string,
  options: { status?: string; limit: number; cursor?: string },
  repository: PortInRepository,
): Promise<Page<ReturnType<typeof toPortRequestView>>> {
  const page = await repository.listPortRequests(accountId, options);
  // Only a done request needs its order's other requests read: anything else is not safe to cancel anyway.
  const items = await Promise.all(
    page.items.map(async (pr) =>
      toPortRequestView(pr, isSafeToCancelOldService(pr) ? await orderPortRequests(repository, pr) : []),
    ),
  );
  return { items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

export async function getPortOrder(
  accountId: string,
  orderId: string,
  repository: PortInRepository,
): Promise<PortOrderView> {
  const order = await repository.getOrder(accountId, orderId);
  if (!order) throw notFound('port order');
  const prs = await Promise.all(order.portRequestIds.map((id) => repository.getPortRequest(accountId, id)));
  return toOrderView(
    order,
    prs.filter((pr): pr is PortRequest => Boolean(pr)),
  );
}
