/**
 * Log lines the operations alarms count (CloudWatch metric filters in lib/constructs/operations.ts).
 * Shared by the Lambda that logs and the construct that filters, so the two cannot drift.
 */
export const PORT_PAST_MAX_AGE_MESSAGE = 'port request past its maximum age';
