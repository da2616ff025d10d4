import { z } from 'zod';

/** Reads the Lambda's configuration once, at cold start: a missing or bad variable fails with its name. */
export function loadConfig<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return result.data;
}

const seconds = z.coerce.number().int().min(1).max(2_147_483);

/** Environment variables shared by the handlers; each handler's schema picks what it needs. */
export const env = {
  TABLE_NAME: z.string().min(1),
  TWILIO_SECRET_PREFIX: z.string().min(1),
  /** Only set locally: where the Twilio simulator listens instead of *.twilio.com. */
  TWILIO_API_BASE_URL: z.string().url().optional(),
  /** How long a Twilio call may take before it fails as transient (ms); the gateway's default when absent. */
  TWILIO_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).optional(),
  PUBLIC_BASE_URL: z.string().url(),
  STATE_MACHINE_ARN: z.string().min(1),
  CALL_ROUTER_URL: z.string().url(),
  SENDER_EMAIL: z.string().email(),
  SES_CONFIGURATION_SET: z.string().optional(),
  POLL_INTERVAL_SECONDS: seconds,
  REMINDER_INTERVAL_SECONDS: seconds,
  /** A port open longer than this raises the operations alarm (set by the CDK app; 45 days when absent). */
  PORT_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(45),
};
