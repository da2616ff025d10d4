import {
  estimatedMonthlyCostUsd,
  expectedCompletion,
  isSafeToCancelOldService,
  type PortRequest,
} from '../domain/port-request';
import { HttpProblem } from '../shared/errors';
import { type PortOrderView, toOrderView } from './create-port-order';
import type { Page, PortInRepository } from './ports';

/** GET port-requests/{id}: everything about the port but the PINs and the workflow's internals. */
export function toPortRequestView(pr: PortRequest) {
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
    })),
    ...(pr.targetPortInDate ? { targetPortInDate: pr.targetPortInDate } : {}),
    ...(pr.focDate ? { focDate: pr.focDate } : {}),
    expectedCompletion: expectedCompletion(pr),
    estimatedMonthlyCostUsd: estimatedMonthlyCostUsd(pr.phoneNumbers),
    safeToCancelOldService: isSafeToCancelOldService(pr),
    createdAt: pr.createdAt,
    updatedAt: pr.updatedAt,
  };
}

const notFound = (what: string) => new HttpProblem(404, 'Not found', `No such ${what} in this account.`);

export async function getPortRequest(accountId: string, portRequestId: string, repository: PortInRepository) {
  const pr = await repository.getPortRequest(accountId, portRequestId);
  if (!pr) throw notFound('port request');
  return toPortRequestView(pr);
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
  return { items: page.items.map(toPortRequestView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
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
