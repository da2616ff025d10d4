import { Logger } from '@aws-lambda-powertools/logger';
import { redactSecrets } from './redaction';

/**
 * One structured JSON logger for the service. Every handler's lines carry the port request id when the invocation
 * has one (see lambdas/adapters/observability/middleware.ts), and every line goes through the one redaction
 * (lambdas/shared/redaction.ts): PINs, account numbers, tokens and signatures never reach the logs.
 */
export const logger = new Logger({ serviceName: 'port-in', jsonReplacerFn: redactSecrets });
