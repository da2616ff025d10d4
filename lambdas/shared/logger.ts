import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger for the service; handlers append the port request id to every line they log. */
export const logger = new Logger({ serviceName: 'port-in' });
