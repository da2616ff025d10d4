import type { PortRequest } from '../domain/port-request';
import type { PortInRepository } from './ports';

/** Every port request of `pr`'s order, read from the order item (empty when the order is gone). */
export async function orderPortRequests(repository: PortInRepository, pr: PortRequest): Promise<PortRequest[]> {
  const order = await repository.getOrder(pr.accountId, pr.orderId);
  if (!order) return [];
  const all = await Promise.all(
    order.portRequestIds.map((id) => (id === pr.portRequestId ? pr : repository.getPortRequest(pr.accountId, id))),
  );
  return all.filter((p): p is PortRequest => Boolean(p));
}
