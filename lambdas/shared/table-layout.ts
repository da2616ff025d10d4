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

/** The partition key of every item of an account: all its records live under it (tenancy by key). */
export const accountPartitionKey = (accountId: string): string => `ACCOUNT#${accountId}`;

/**
 * A presigned document upload (POST document-uploads): one item per upload under the account, holding what was
 * declared, where the object goes in the uploads bucket and, once completed, the Twilio document sid. `expiresAt`
 * (the table's TTL attribute) removes it some time after the bucket's own lifecycle has removed the object.
 */
export const DocumentUploadItem = {
  sortKey: (uploadId: string): string => `DOCUMENT_UPLOAD#${uploadId}`,
  entity: 'DocumentUpload',
} as const;

/**
 * Where uploads go in the uploads bucket: `document-uploads/{accountId}/{uploadId}`. The product API's role may
 * write, read and delete under this prefix only (lib/constructs/uploads.ts grants exactly it).
 */
export const DOCUMENT_UPLOADS_PREFIX = 'document-uploads/';
export const documentUploadObjectKey = (accountId: string, uploadId: string): string =>
  `${DOCUMENT_UPLOADS_PREFIX}${accountId}/${uploadId}`;
