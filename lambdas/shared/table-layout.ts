/**
 * The sparse index of port requests whose execution is not known to have started: only items carrying
 * `workflowStartPendingSince` are in it, so it holds the few moments between an order's write and its
 * StartExecution, and what a crash or a throttled start left behind. Shared by the repository that writes and
 * queries it and by lib/constructs/data.ts that declares it.
 */
export const WorkflowStartsPendingIndex = {
  indexName: 'WorkflowStartsPending',
  /** One value, {@link WORKFLOW_START_QUEUE}: the index is read oldest first across every account. */
  partitionKey: 'workflowStartQueue',
  sortKey: 'workflowStartPendingSince',
  /** What starting an execution needs, besides the keys. */
  projectedAttributes: ['accountId', 'portRequestId', 'route'],
} as const;

/**
 * The partition key value of every item in {@link WorkflowStartsPendingIndex}. One partition takes about 1,000
 * writes a second, far above what the API's stage throttling (50 requests a second) can send it.
 */
export const WORKFLOW_START_QUEUE = 'PENDING';
