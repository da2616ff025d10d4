import * as z from 'zod/mini';
import './zod-locale';

/** Reads the Lambda's configuration once, at cold start: a missing or bad variable fails with its name. */
export function loadConfig<T extends z.ZodMiniType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return result.data;
}

const seconds = z.coerce.number().check(z.int(), z.gte(1), z.lte(2_147_483));
const nonEmpty = () => z.string().check(z.minLength(1));

/** Environment variables shared by the handlers; each handler's schema picks what it needs. */
export const env = {
  TABLE_NAME: nonEmpty(),
  TWILIO_SECRET_PREFIX: nonEmpty(),
  /** Only set locally: where the Twilio simulator listens instead of *.twilio.com. */
  TWILIO_API_BASE_URL: z.optional(z.url()),
  /** How long a Twilio call may take before it fails as transient (ms); the gateway's default when absent. */
  TWILIO_TIMEOUT_MS: z.optional(z.coerce.number().check(z.int(), z.gte(50), z.lte(60_000))),
  PUBLIC_BASE_URL: z.url(),
  STATE_MACHINE_ARN: nonEmpty(),
  CALL_ROUTER_URL: z.url(),
  SENDER_EMAIL: z.email(),
  SES_CONFIGURATION_SET: z.optional(z.string()),
  POLL_INTERVAL_SECONDS: seconds,
  REMINDER_INTERVAL_SECONDS: seconds,
  /** The sweeper starts an execution whose start has been pending at least this long (set by the CDK app). */
  WORKFLOW_START_GRACE_SECONDS: seconds,
  /** A port open longer than this raises the operations alarm (set by the CDK app; 45 days when absent). */
  /**
   * A workflow step retrying for longer than this counts PortsDelayed at each retry (the PortsDelayed alarm's signal;
   * set by the CDK app, one hour when absent).
   */
  DELAY_ALERT_AFTER_SECONDS: z._default(seconds, 3600),
  /**
   * How long after handing an email to SES its Send event may still come (set by the CDK app, ten minutes when
   * absent); an email whose sender died before SES answered is sent again only past it.
   */
  EMAIL_CONFIRMATION_WINDOW_SECONDS: z._default(seconds, 600),
  /**
   * The settle window after a sync: a sync woken by a Twilio webhook starts at least this long after the one before,
   * so a burst of webhooks is read by one sync (set by the CDK app; 15 s when absent; 0 turns it off).
   */
  WEBHOOK_SETTLE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(3600)), 15),
  /** The bucket presigned document uploads go to (set by the CDK app with its grants). */
  UPLOADS_BUCKET_NAME: nonEmpty(),
  /** How long a presigned upload URL works: 900 (CONTRACT's 15 minutes), set by the CDK app; tests shorten it. */
  DOCUMENT_UPLOAD_URL_SECONDS: z.coerce.number().check(z.int(), z.gte(1), z.lte(604_800)),
  /**
   * Whether ImportNumbers leaves the numbers to VerifyNumbers ("true") or marks them SKIPPED and owes the "safe to
   * cancel" email itself ("false"): the CDK context `verifyPortedNumbers`. Required: no silent default.
   */
  VERIFY_PORTED_NUMBERS: z.enum(['true', 'false']),
  /** VerifyNumbers: how long after a test call its inbound leg must be answered (set by the CDK app). */
  VERIFY_ANSWER_WINDOW_SECONDS: seconds,
  /** VerifyNumbers: how long after a failed check the next one runs (set by the CDK app). */
  VERIFY_RECHECK_SECONDS: seconds,
  /** VerifyNumbers: how long failing numbers are re-checked before giving up (set by the CDK app). */
  VERIFY_GIVE_UP_AFTER_SECONDS: seconds,
  PORT_MAX_AGE_DAYS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(365)), 45),
};
