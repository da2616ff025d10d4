import { WorkflowErrorNames } from './error-names';

/** One invalid field of a request, as problem+json's `errors` lists it. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** An error that maps to an HTTP answer; `expose` decides whether its detail may reach the caller. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: readonly FieldError[],
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/** Twilio answered 429, 5xx, or did not answer in time: retry with backoff. */
export class TwilioTransientError extends Error {
  override readonly name = WorkflowErrorNames.TwilioTransient;
}

/** Twilio refused a request for good (4xx); `code` is Twilio's error code when it gave one. */
export class TwilioRequestError extends Error {
  override readonly name = 'TwilioRequestError';
  constructor(
    message: string,
    readonly status: number,
    readonly code?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Twilio refused the port-in itself: the workflow ends FAILED rather than retrying. */
export class PortInRejectedError extends Error {
  override readonly name = WorkflowErrorNames.PortInRejected;
}

/** A conditional write lost to another writer too many times in a row. */
export class ConcurrentUpdateError extends Error {
  override readonly name = WorkflowErrorNames.ConcurrentUpdate;
}

/**
 * SES did not take the email, or did not answer; the outbox keeps it and Step Functions retries. `maybeTaken`: no
 * answer came (a timeout, a connection cut mid-request), so SES may have taken it all the same.
 */
export class EmailDeliveryFailedError extends Error {
  override readonly name = WorkflowErrorNames.EmailDeliveryFailed;
  constructor(
    message: string,
    readonly maybeTaken: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An email an earlier invocation handed to SES without living to hear the answer: neither SES's Send event nor the
 * confirmation window's end has settled whether it went out. Step Functions retries; nothing is sent meanwhile.
 */
export class EmailSendUnconfirmedError extends Error {
  override readonly name = WorkflowErrorNames.EmailSendUnconfirmed;
}

/**
 * SES refused this email for good (the message or an address is wrong): sending it again cannot work. DeliverEmails
 * dead-letters it and goes on with the rest of the outbox; the state machine never sees this error.
 */
export class EmailRejectedError extends Error {
  override readonly name = 'EmailRejectedError';
}
