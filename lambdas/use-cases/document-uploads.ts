import { MAX_DOCUMENT_BYTES } from '../shared/documents';
import { HttpProblem } from '../shared/errors';
import { newTimeSortableId } from '../shared/ids';
import { logger } from '../shared/logger';
import { documentUploadObjectKey } from '../shared/table-layout';
import type { Clock, DocumentUpload, DocumentUploadStorage } from './ports';
import { TwilioNotConnectedError } from './twilio-account';
import { sendUtilityBillToTwilio, startsLikeContentType, type UtilityBillDeps } from './upload-utility-bill';

/** How long a presigned upload URL works (CONTRACT: 15 minutes). */
export const UPLOAD_URL_LIFETIME_SECONDS = 15 * 60;

/**
 * A completion that has held an upload this long died on the way (ProductApiFunction times out after 29 s): the
 * next completion takes it over.
 */
const STALE_COMPLETION_MS = 60_000;

export interface DocumentUploadDeps extends UtilityBillDeps {
  readonly storage: DocumentUploadStorage;
  readonly clock: Clock;
  /** How long a presigned URL works; {@link UPLOAD_URL_LIFETIME_SECONDS} but in tests of its expiry. */
  readonly uploadUrlLifetimeSeconds: number;
}

/** 201 of POST document-uploads. */
export interface DocumentUploadTicket {
  readonly uploadId: string;
  readonly uploadUrl: string;
  readonly method: 'PUT';
  readonly headers: Record<string, string>;
  readonly expiresAt: string;
}

const notFound = () => new HttpProblem(404, 'Not found', 'No such document upload in this account.');

/**
 * POST document-uploads: a presigned PUT URL for a utility bill of up to 5 MB, whose bytes then go straight to S3.
 * The upload is recorded before its URL is answered, so whatever is PUT to the URL can be completed.
 */
export async function createDocumentUpload(
  input: { accountId: string; fileName: string; contentType: string; sizeBytes: number },
  deps: Pick<DocumentUploadDeps, 'repository' | 'storage' | 'clock' | 'uploadUrlLifetimeSeconds'>,
): Promise<DocumentUploadTicket> {
  // The bill can only go to Twilio once the account is connected: say so before the caller sends 5 MB.
  if (!(await deps.repository.getConnection(input.accountId))) {
    throw new TwilioNotConnectedError(`Account ${input.accountId} has no Twilio connection`);
  }
  const now = deps.clock.now();
  const uploadId = newTimeSortableId('upl', now);
  const objectKey = documentUploadObjectKey(input.accountId, uploadId);
  // S3 counts the lifetime from the signature's X-Amz-Date, whole seconds no earlier than this.
  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + deps.uploadUrlLifetimeSeconds * 1000);
  const upload: DocumentUpload = {
    accountId: input.accountId,
    uploadId,
    fileName: input.fileName,
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
    objectKey,
    createdAt: now.toISOString(),
    urlExpiresAt: expiresAt.toISOString(),
    status: 'PENDING',
  };
  await deps.repository.putDocumentUpload(upload);
  const { url, headers } = await deps.storage.presignPut({
    key: objectKey,
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
    expiresInSeconds: deps.uploadUrlLifetimeSeconds,
  });
  return { uploadId, uploadUrl: url, method: 'PUT', headers, expiresAt: upload.urlExpiresAt };
}

/**
 * POST document-uploads/{uploadId}/complete: checks the uploaded object against what was declared, forwards it to
 * Twilio as POST documents does, and deletes it. Idempotent: a completed upload answers its documentSid again
 * without a second Twilio upload. One completion at a time holds the upload (a conditional write), so two at once
 * never upload twice either.
 */
export async function completeDocumentUpload(
  input: { accountId: string; uploadId: string },
  deps: DocumentUploadDeps,
): Promise<{ documentSid: string }> {
  const now = deps.clock.now();
  const claimedAt = now.toISOString();
  const claim = await deps.repository.claimDocumentUploadCompletion(input.accountId, input.uploadId, {
    at: claimedAt,
    staleBefore: new Date(now.getTime() - STALE_COMPLETION_MS).toISOString(),
  });
  const upload = claim.upload;
  if (!upload) throw notFound();
  if (!claim.claimed) {
    if (upload.status === 'COMPLETED' && upload.documentSid) {
      await deleteObject(upload, deps.storage);
      return { documentSid: upload.documentSid };
    }
    throw new HttpProblem(409, 'Conflict', 'Another request is completing this upload; retry in a few seconds.');
  }

  try {
    const content = await checkedObject(upload, now, deps.storage);
    const documentSid = await sendUtilityBillToTwilio(
      { accountId: upload.accountId, fileName: upload.fileName, contentType: upload.contentType, content },
      deps,
    );
    const completed = await deps.repository.completeDocumentUpload(input.accountId, input.uploadId, {
      claimedAt,
      documentSid,
      completedAt: deps.clock.now().toISOString(),
    });
    await deleteObject(upload, deps.storage);
    return { documentSid: completed.documentSid ?? documentSid };
  } catch (error) {
    // Nothing reached Twilio (or Twilio refused it): the upload can be completed again, after a new PUT if need be.
    await deps.repository.releaseDocumentUploadCompletion(input.accountId, input.uploadId, claimedAt);
    throw error;
  }
}

/** The uploaded object's bytes, if it is there and is what was declared. */
async function checkedObject(upload: DocumentUpload, now: Date, storage: DocumentUploadStorage): Promise<Buffer> {
  const object = await storage.get(upload.objectKey, { maxBytes: MAX_DOCUMENT_BYTES });
  if (!object) {
    if (now.getTime() >= Date.parse(upload.urlExpiresAt)) {
      throw new HttpProblem(
        409,
        'Conflict',
        `Nothing was uploaded before the upload URL expired at ${upload.urlExpiresAt}; create a new upload (POST document-uploads).`,
        [{ path: 'uploadId', message: 'its upload URL expired with nothing uploaded' }],
      );
    }
    throw new HttpProblem(
      409,
      'Conflict',
      'Nothing has been uploaded yet: PUT the file to the uploadUrl, with its headers, then complete the upload.',
      [{ path: 'uploadId', message: 'nothing uploaded yet' }],
    );
  }
  if (object.sizeBytes !== upload.sizeBytes || !object.content) {
    throw new HttpProblem(400, 'Bad Request', 'The uploaded file is not the size declared.', [
      { path: 'sizeBytes', message: `declared ${upload.sizeBytes} bytes, but ${object.sizeBytes} were uploaded` },
    ]);
  }
  if (!startsLikeContentType(object.content, upload.contentType)) {
    throw new HttpProblem(400, 'Bad Request', `The uploaded file is not a ${upload.contentType} file.`, [
      { path: 'contentType', message: `the uploaded file does not start like a ${upload.contentType} file` },
    ]);
  }
  return object.content;
}

/** Deletes a completed upload's object; one left behind (S3 unavailable) is removed by the bucket's lifecycle. */
async function deleteObject(upload: DocumentUpload, storage: DocumentUploadStorage): Promise<void> {
  try {
    await storage.delete(upload.objectKey);
  } catch (error) {
    logger.warn('uploaded document not deleted; the bucket lifecycle will', {
      uploadId: upload.uploadId,
      errorName: (error as Error).name,
    });
  }
}
