/** Twilio takes utility bills of at most 5 MB (5,242,880 bytes): the most a presigned upload may declare. */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

/**
 * The most POST documents takes as base64 in its JSON body: API Gateway hands Lambda at most 6 MB, base64 (a third
 * larger) and the event included. Larger files go through the presigned upload routes.
 */
export const MAX_INLINE_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** The routes that take files above {@link MAX_INLINE_DOCUMENT_BYTES}, as every 413 names them. */
export const DOCUMENT_UPLOAD_ROUTES =
  'POST /v1/accounts/{accountId}/document-uploads, then PUT the file to the uploadUrl it answers, then POST /v1/accounts/{accountId}/document-uploads/{uploadId}/complete';
