/** Product status of a port request (CONTRACT "Status values"). */
export const PortRequestStatuses = [
  'SUBMITTING',
  'IN_REVIEW',
  'WAITING_FOR_SIGNATURE',
  'SUBMITTED',
  'FOC_RECEIVED',
  'ACTION_REQUIRED',
  'COMPLETED',
  'CANCELED',
  'EXPIRED',
  'FAILED',
  'MANUAL',
] as const;
export type PortRequestStatus = (typeof PortRequestStatuses)[number];

/** Product status of one number of a port request. */
export const PhoneNumberStatuses = [
  'PENDING',
  'SUBMITTED',
  'FOC_RECEIVED',
  'COMPLETED',
  'REJECTED',
  'CANCELED',
] as const;
export type PhoneNumberStatus = (typeof PhoneNumberStatuses)[number];

export const TERMINAL_STATUSES: ReadonlySet<PortRequestStatus> = new Set([
  'COMPLETED',
  'CANCELED',
  'EXPIRED',
  'FAILED',
]);

/** True once nothing can change the port request any more. */
export function isTerminal(status: PortRequestStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Twilio writes statuses as "In Review", "in_review", "IN-REVIEW"…: compare them in one form. */
export function normaliseTwilioStatus(raw: string | null | undefined): string {
  return (raw ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');
}

const NUMBER_STATUS_BY_TWILIO: Record<string, PhoneNumberStatus> = {
  in_review: 'PENDING',
  waiting_for_signature: 'PENDING',
  pending: 'PENDING',
  port_submitted: 'SUBMITTED',
  submitted: 'SUBMITTED',
  port_pending: 'FOC_RECEIVED',
  port_rejected: 'REJECTED',
  rejected: 'REJECTED',
  canceling: 'CANCELED',
  canceled: 'CANCELED',
  cancelled: 'CANCELED',
  completed: 'COMPLETED',
};

/** Maps Twilio's per-number status to ours; unknown values keep the number PENDING rather than guess. */
export function mapTwilioNumberStatus(raw: string | null | undefined): PhoneNumberStatus {
  return NUMBER_STATUS_BY_TWILIO[normaliseTwilioStatus(raw)] ?? 'PENDING';
}

/**
 * Maps Twilio's request status (plus what its numbers say) to ours. "In Progress" is SUBMITTED until the
 * losing carrier has given a FOC date for a number, then FOC_RECEIVED. Unknown values answer undefined: the
 * caller keeps the status it had.
 */
export function mapTwilioRequestStatus(
  raw: string | null | undefined,
  numberStatuses: readonly PhoneNumberStatus[],
): PortRequestStatus | undefined {
  switch (normaliseTwilioStatus(raw)) {
    case 'in_review':
      return 'IN_REVIEW';
    case 'waiting_for_signature':
      return 'WAITING_FOR_SIGNATURE';
    case 'in_progress':
      if (numberStatuses.includes('REJECTED')) return 'ACTION_REQUIRED';
      return numberStatuses.includes('FOC_RECEIVED') ? 'FOC_RECEIVED' : 'SUBMITTED';
    case 'action_required':
      return 'ACTION_REQUIRED';
    case 'completed':
      return 'COMPLETED';
    case 'expired':
      return 'EXPIRED';
    case 'canceled':
    case 'cancelled':
      return 'CANCELED';
    default:
      return undefined;
  }
}

/** How far along the happy path a status is; ACTION_REQUIRED and MANUAL stand beside it. */
const PROGRESS_RANK: Partial<Record<PortRequestStatus, number>> = {
  SUBMITTING: 0,
  IN_REVIEW: 1,
  WAITING_FOR_SIGNATURE: 2,
  SUBMITTED: 3,
  FOC_RECEIVED: 4,
};

/**
 * Whether a port request may move from `from` to `to`. A request only moves forward: a terminal status is final,
 * and a late or out-of-order update never takes it back along the happy path. ACTION_REQUIRED can be entered
 * from any open status and left for any open status (Twilio re-reviews a corrected request).
 */
export function canTransition(from: PortRequestStatus, to: PortRequestStatus): boolean {
  if (from === to || isTerminal(from)) return false;
  if (isTerminal(to) || to === 'ACTION_REQUIRED' || from === 'ACTION_REQUIRED') return true;
  if (from === 'MANUAL') return false;
  const fromRank = PROGRESS_RANK[from];
  const toRank = PROGRESS_RANK[to];
  return fromRank !== undefined && toRank !== undefined && toRank > fromRank;
}
