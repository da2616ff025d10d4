import type { NumberType, PortRequest, TwilioPortInSnapshot } from '../domain/port-request';
import type { Portability } from '../domain/split-order';
import type { CountMetricName, LatencyMetricName } from '../shared/metric-names';
import type { PortWorkflowInput } from '../shared/workflow-contract';

/** The Twilio account a Ring Tonic account connected; its auth token lives in Secrets Manager. */
export interface TwilioConnection {
  readonly accountId: string;
  readonly accountSid: string;
  readonly webhookUrl: string;
  readonly connectedAt: string;
  /** The caller ID of the test calls that verify ported numbers; another number of the account when absent. */
  readonly verificationCallerNumber?: string;
}

/** A port order as stored: the 202 answer minus current statuses, which are read from the port requests. */
export interface PortOrder {
  readonly accountId: string;
  readonly orderId: string;
  readonly portRequestIds: readonly string[];
  readonly notPortable: ReadonlyArray<{ phoneNumber: string; reasonCode: string; reason: string }>;
  readonly warnings: readonly string[];
  readonly createdAt: string;
}

/** What an Idempotency-Key has seen: the body's hash, and the answer once there is one. */
export interface IdempotencyRecord {
  readonly accountId: string;
  readonly key: string;
  readonly bodyHash: string;
  readonly orderId: string;
  /**
   * IN_PROGRESS while a call places the order; INTERRUPTED when that call answered an error after writing part of
   * it (a retry with the key takes it over at once); COMPLETED once answered.
   */
  readonly status: 'IN_PROGRESS' | 'INTERRUPTED' | 'COMPLETED';
  readonly createdAt: string;
  /** The answer given the first time, replayed as it was. */
  readonly response?: unknown;
}

/** A number in the Ring Tonic inventory of an account. */
export interface InventoryNumber {
  readonly accountId: string;
  readonly phoneNumber: string;
  readonly twilioSid: string;
  readonly source: 'PORTED' | 'IMPORTED';
  readonly portRequestId?: string;
  readonly importedAt: string;
}

/** A port request whose execution is not known to have started (see `PortRequest.workflowStartPendingSince`). */
export interface PendingWorkflowStart {
  readonly accountId: string;
  readonly portRequestId: string;
  readonly route: 'API' | 'MANUAL';
  readonly pendingSince: string;
}

/**
 * A document upload through a presigned S3 URL (POST document-uploads), keyed by account: what the caller declared,
 * where the object goes, and how far its completion got.
 */
export interface DocumentUpload {
  readonly accountId: string;
  readonly uploadId: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  /** The object's key in the uploads bucket (`document-uploads/{accountId}/{uploadId}`). */
  readonly objectKey: string;
  readonly createdAt: string;
  /** When the presigned PUT URL stops working. */
  readonly urlExpiresAt: string;
  /**
   * PENDING until completed; COMPLETING while one completion holds it (since `completingSince`: a holder that died
   * is taken over once that is stale); COMPLETED with the document's Twilio sid.
   */
  readonly status: 'PENDING' | 'COMPLETING' | 'COMPLETED';
  readonly completingSince?: string;
  readonly documentSid?: string;
  readonly completedAt?: string;
}

/** Where callers put documents too large for a JSON body: S3, through presigned PUT URLs. */
export interface DocumentUploadStorage {
  /**
   * A URL to PUT exactly `sizeBytes` bytes of `contentType` to, with the headers answered (they are signed), valid
   * for `expiresInSeconds`.
   */
  presignPut(object: {
    key: string;
    contentType: string;
    sizeBytes: number;
    expiresInSeconds: number;
  }): Promise<{ url: string; headers: Record<string, string> }>;
  /**
   * The object's size and, when it is at most `maxBytes`, its bytes (a larger object is not read); undefined when
   * there is none.
   */
  get(key: string, options: { maxBytes: number }): Promise<{ sizeBytes: number; content?: Buffer } | undefined>;
  /** Deletes the object; one already gone counts as deleted. */
  delete(key: string): Promise<void>;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/** Everything the service keeps, keyed by account. */
export interface PortInRepository {
  getConnection(accountId: string): Promise<TwilioConnection | undefined>;
  putConnection(connection: TwilioConnection): Promise<void>;
  /** Writes the record unless the key exists; answers the record that is there afterwards. */
  claimIdempotencyKey(record: IdempotencyRecord): Promise<{ claimed: boolean; record: IdempotencyRecord }>;
  completeIdempotencyKey(accountId: string, key: string, response: unknown): Promise<void>;
  releaseIdempotencyKey(accountId: string, key: string): Promise<void>;
  /** Marks an IN_PROGRESS key INTERRUPTED: its call answered an error after writing part of the order. */
  interruptIdempotencyKey(accountId: string, key: string): Promise<void>;
  /** Idempotent: writing the same order twice keeps the first. */
  putOrder(order: PortOrder): Promise<void>;
  getOrder(accountId: string, orderId: string): Promise<PortOrder | undefined>;
  /** Idempotent: writing a port request that exists keeps the stored one. */
  putPortRequest(portRequest: PortRequest): Promise<void>;
  getPortRequest(accountId: string, portRequestId: string): Promise<PortRequest | undefined>;
  /**
   * Reads, applies `change`, and writes back on the version read; runs again when another writer came first.
   * `change` answers undefined to write nothing.
   */
  updatePortRequest(
    accountId: string,
    portRequestId: string,
    change: (current: PortRequest) => PortRequest | undefined,
  ): Promise<PortRequest>;
  /**
   * Records a Twilio webhook's wake in one atomic write, as withWebhookWake would (and bumps `version`), unless the
   * port request is finished. Answers the port request afterwards (unchanged when finished), undefined when missing.
   */
  recordWebhookWake(accountId: string, portRequestId: string, at: string): Promise<PortRequest | undefined>;
  listPortRequests(
    accountId: string,
    options: { status?: string; limit: number; cursor?: string },
  ): Promise<Page<PortRequest>>;
  putTwilioPortInLookup(accountId: string, twilioSid: string, portRequestId: string): Promise<void>;
  findPortRequestIdByTwilioSid(accountId: string, twilioSid: string): Promise<string | undefined>;
  /** Which port request last claimed each number of the account (the claim may be stale: check its status). */
  listNumberClaims(accountId: string): Promise<ReadonlyMap<string, string>>;
  /**
   * Claims a number for a port request, unless another claim than `replacing` (a stale one) holds it.
   * Answers false when another order got there first.
   */
  claimNumber(accountId: string, phoneNumber: string, portRequestId: string, replacing?: string): Promise<boolean>;
  /** Answers false when the number is in the inventory already. */
  putInventoryNumberIfAbsent(number: InventoryNumber): Promise<boolean>;
  listInventory(accountId: string): Promise<readonly InventoryNumber[]>;
  /** Keeps a dead letter (expires after a retention period). */
  putDeadLetter(deadLetter: DeadLetter): Promise<void>;
  /** Port requests of every account whose execution is not known to have started since `pendingBefore`, oldest first. */
  listPendingWorkflowStarts(options: {
    pendingBefore: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<PendingWorkflowStart>>;
  /**
   * Forgets that the port request's execution was pending, once it is started (bumps `version`, as every write of
   * the item does). Answers false when there was nothing to clear.
   */
  clearWorkflowStartPending(accountId: string, portRequestId: string): Promise<boolean>;
  /** Writes a new document upload (its id is new: an existing one is kept). */
  putDocumentUpload(upload: DocumentUpload): Promise<void>;
  getDocumentUpload(accountId: string, uploadId: string): Promise<DocumentUpload | undefined>;
  /**
   * Marks the upload COMPLETING at `at`, if it is PENDING or its last holder's claim is older than `staleBefore`.
   * Answers whether it did and the upload as stored afterwards (undefined when there is none).
   */
  claimDocumentUploadCompletion(
    accountId: string,
    uploadId: string,
    options: { at: string; staleBefore: string },
  ): Promise<{ claimed: boolean; upload: DocumentUpload | undefined }>;
  /** Puts a claimed upload back to PENDING (the object was missing or not as declared), if `claimedAt` still holds it. */
  releaseDocumentUploadCompletion(accountId: string, uploadId: string, claimedAt: string): Promise<void>;
  /** Records the Twilio document of a claimed upload: COMPLETED from now on, whatever completes it again. */
  completeDocumentUpload(
    accountId: string,
    uploadId: string,
    completion: { claimedAt: string; documentSid: string; completedAt: string },
  ): Promise<DocumentUpload>;
}

/** The snake_case body of Twilio's Port In create call, typed by us (twilio-node's camelCase types are wrong). */
export interface TwilioPortInCreateBody {
  readonly account_sid: string;
  readonly documents: readonly string[];
  readonly losing_carrier_information: {
    readonly customer_type?: 'Business' | 'Individual';
    readonly customer_name: string;
    readonly account_number?: string;
    readonly account_telephone_number?: string;
    readonly authorized_representative: string;
    readonly authorized_representative_email: string;
    readonly address: {
      readonly street: string;
      readonly street_2?: string;
      readonly city: string;
      readonly state: string;
      readonly zip: string;
      readonly country: string;
    };
  };
  readonly phone_numbers: ReadonlyArray<{ readonly phone_number: string; readonly pin?: string }>;
  readonly notification_emails?: readonly string[];
  readonly target_port_in_date?: string;
}

export interface IncomingPhoneNumber {
  readonly sid: string;
  readonly phoneNumber: string;
  readonly friendlyName: string;
  readonly voiceUrl?: string;
  /** Twilio's `capabilities.voice`: the number can take (and make) calls. */
  readonly voiceCapable: boolean;
}

/** A call of the account's Calls list, as far as the number checks read it. */
export interface TwilioCall {
  readonly sid: string;
  readonly direction: string;
  readonly from: string;
  readonly to: string;
  /** queued, ringing, in-progress, completed, busy, failed, no-answer, canceled. */
  readonly status: string;
  readonly startTime?: string;
}

/** The test call of a number check: hangs up at once, rings at most `timeoutSeconds`, lasts at most `timeLimitSeconds`. */
export interface TestCallRequest {
  readonly from: string;
  readonly to: string;
  readonly twiml: string;
  readonly timeoutSeconds: number;
  readonly timeLimitSeconds: number;
}

/** Twilio, as seen from one customer's Twilio account. */
export interface TwilioAccountGateway {
  /** False when Twilio refuses the credentials. */
  verifyCredentials(): Promise<boolean>;
  configurePortingWebhook(url: string): Promise<void>;
  checkPortability(phoneNumber: string): Promise<Portability>;
  createPortIn(body: TwilioPortInCreateBody): Promise<{ sid: string; snapshot: TwilioPortInSnapshot }>;
  fetchPortIn(sid: string): Promise<TwilioPortInSnapshot>;
  /** The open (not canceled or expired) Port In request created since `createdSince` with exactly these numbers. */
  findOpenPortIn(
    phoneNumbers: readonly string[],
    createdSince: string,
  ): Promise<{ sid: string; snapshot: TwilioPortInSnapshot } | undefined>;
  /** Cancels a Port In request; one Twilio no longer has counts as canceled. */
  cancelPortIn(sid: string): Promise<void>;
  listIncomingPhoneNumbers(): Promise<readonly IncomingPhoneNumber[]>;
  setVoiceUrl(incomingPhoneNumberSid: string, voiceUrl: string): Promise<void>;
  /** Places a call through the Calls API; answers its CA sid. */
  createCall(call: TestCallRequest): Promise<string>;
  /** The account's calls to `to` (and from `from`, when given) that started at or after `startedSince`. */
  listCalls(filter: { to: string; from?: string; startedSince: string }): Promise<readonly TwilioCall[]>;
  /** Uploads a utility bill (multipart, numbers-upload.twilio.com); answers its RD sid. */
  uploadUtilityBill(document: { fileName: string; contentType: string; content: Buffer }): Promise<string>;
}

export interface TwilioGateway {
  forAccount(credentials: { accountSid: string; authToken: string }): TwilioAccountGateway;
}

/** Where each account's Twilio auth token is kept (Secrets Manager). */
export interface TwilioTokenStore {
  /** `forceFetch`: read the stored token even when a recently read one is kept (a cache's caller saw it fail). */
  getAuthToken(accountId: string, options?: { readonly forceFetch?: boolean }): Promise<string | undefined>;
  putAuthToken(accountId: string, authToken: string): Promise<void>;
}

export interface Mailer {
  send(email: {
    to: readonly string[];
    subject: string;
    html: string;
    text: string;
    tags?: Record<string, string>;
  }): Promise<{
    messageId: string;
  }>;
}

export interface WorkflowClient {
  /** Starts the execution of one port request; starting it again with the same input is harmless. */
  startPortWorkflow(input: PortWorkflowInput): Promise<void>;
  /** Completes a waiting task. Answers false when the token is no longer waiting. */
  completeTask(token: string, output: unknown): Promise<boolean>;
}

export interface Clock {
  now(): Date;
}

/** The service's business metrics (names in lambdas/shared/metric-names.ts); flushed once per invocation. */
export interface Metrics {
  /** Counts occurrences (1 unless told). */
  count(name: CountMetricName, value?: number): void;
  /** Records a duration in milliseconds. */
  milliseconds(name: LatencyMetricName, value: number): void;
  /** Writes what was recorded so far now rather than at the end of the invocation (which a crash never reaches). */
  publishNow(): void;
}

/** Something the service accepted but could not act on, kept for operations to look at (with a TTL). */
export interface DeadLetter {
  readonly accountId: string;
  readonly deadLetterId: string;
  /** What it was, e.g. `UNKNOWN_PORT_IN_WEBHOOK`. */
  readonly kind: string;
  readonly reason: string;
  readonly receivedAt: string;
  /** What arrived, as far as it is safe to keep (no secrets). */
  readonly payload: Readonly<Record<string, unknown>>;
}

export type { NumberType };
