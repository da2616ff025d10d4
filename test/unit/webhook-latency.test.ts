import { coveredWebhookSince, type PortRequest, withWake, withWebhookWake } from '../../lambdas/domain/port-request';

const base = { wakeCount: 0, wakesHandled: 0 } as unknown as PortRequest;
const synced = (pr: PortRequest, wakesSeen: number): PortRequest => ({ ...pr, wakesHandled: wakesSeen });

describe('which webhook a sync times its status change from (WebhookToTransitionLatency)', () => {
  it('the earliest webhook the sync covers', () => {
    const one = withWebhookWake(base, '2026-11-27T10:00:00.000Z');
    const two = withWebhookWake(one, '2026-11-27T10:00:05.000Z');
    expect(two).toMatchObject({ wakeCount: 2, webhookPendingWake: 1, webhookPendingSince: '2026-11-27T10:00:00.000Z' });
    expect(coveredWebhookSince(two, 2)).toBe('2026-11-27T10:00:00.000Z');
  });

  it('none when the sync read the port request before the webhook came', () => {
    const woken = withWebhookWake(base, '2026-11-27T10:00:00.000Z');
    expect(coveredWebhookSince(woken, 0)).toBeUndefined();
  });

  it('none once a sync has covered it, and the next webhook starts a new timing', () => {
    const first = withWebhookWake(base, '2026-11-27T10:00:00.000Z');
    const handled = synced(first, 1);
    expect(coveredWebhookSince(handled, 1)).toBeUndefined();
    const next = withWebhookWake(handled, '2026-11-27T11:00:00.000Z');
    expect(coveredWebhookSince(next, 2)).toBe('2026-11-27T11:00:00.000Z');
  });

  it('a correction or a cancel wakes the workflow but is not a webhook', () => {
    const corrected = withWake(base, '2026-11-27T10:00:00.000Z');
    expect(coveredWebhookSince(corrected, 1)).toBeUndefined();
  });
});
