/**
 * AWS list prices, us-east-1, as the AWS pricing pages named beside each listed them in 2025 (not re-read from this offline machine). The only place
 * the bench keeps prices: change them here when AWS does. USD.
 */
export const PRICES = {
  /** Step Functions Standard: $0.025 per 1,000 state transitions (retries count as transitions). */
  stepFunctionsStandardPerTransition: 0.025 / 1000,
  /** Lambda: $0.20 per 1M requests. */
  lambdaPerRequest: 0.2 / 1_000_000,
  /** Lambda arm64: $0.0000133334 per GB-second (first 7.5 billion GB-s a month). Duration is billed per ms. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** DynamoDB on-demand: $0.625 per million write request units (1 KB each), since the November 2024 price cut. */
  dynamoDbPerWriteRequestUnit: 0.625 / 1_000_000,
  /** DynamoDB on-demand: $0.125 per million read request units (4 KB strongly consistent read each). */
  dynamoDbPerReadRequestUnit: 0.125 / 1_000_000,
  /** SES outbound email: $0.10 per 1,000 emails (no attachments over the free data allowance here). */
  sesPerEmail: 0.1 / 1000,
  /** API Gateway REST API: $3.50 per million requests (first 333 million a month). */
  apiGatewayRestPerRequest: 3.5 / 1_000_000,
  /** Secrets Manager: $0.05 per 10,000 API calls (the $0.40 a month per secret is per account, not per port). */
  secretsManagerPerApiCall: 0.05 / 10_000,
} as const;

export const PRICE_SOURCES: Record<keyof typeof PRICES, string> = {
  stepFunctionsStandardPerTransition: 'https://aws.amazon.com/step-functions/pricing/',
  lambdaPerRequest: 'https://aws.amazon.com/lambda/pricing/',
  lambdaArmPerGbSecond: 'https://aws.amazon.com/lambda/pricing/ (Arm price)',
  dynamoDbPerWriteRequestUnit: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  dynamoDbPerReadRequestUnit: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  sesPerEmail: 'https://aws.amazon.com/ses/pricing/',
  apiGatewayRestPerRequest: 'https://aws.amazon.com/api-gateway/pricing/ (REST APIs)',
  secretsManagerPerApiCall: 'https://aws.amazon.com/secrets-manager/pricing/',
};

/**
 * Twilio's US voice list prices, as twilio.com/en-us/voice/pricing/us listed them in 2026 (not re-read from this
 * offline machine): billed to the customer's own Twilio account per started minute of a connected call. Kept apart
 * from the AWS prices: the verification test calls are Twilio charges, not ours.
 */
export const TWILIO_VOICE_PRICES = {
  /** An outbound call (the test call from the account's number): $0.0140 list, $0.013 at the first volume tier. */
  outboundPerMinute: 0.013,
  /** The inbound leg to a local number. */
  inboundLocalPerMinute: 0.0085,
  /** The inbound leg to a toll-free number. */
  inboundTollFreePerMinute: 0.022,
} as const;

export const TWILIO_VOICE_PRICE_SOURCE = 'https://www.twilio.com/en-us/voice/pricing/us (US list prices)';

/**
 * Not counted, and why: CloudWatch Logs ingestion ($0.50/GB; a port logs a few KB at the default WARN/INFO level),
 * X-Ray traces and CloudWatch custom metrics (added by the Powertools tracer and metrics; the free tiers cover a
 * port's few dozen traces), the monthly $0.40 per Twilio secret (per account), data transfer to Twilio (a few KB).
 */
export const NOT_COUNTED =
  'CloudWatch Logs ingestion, X-Ray traces and custom metrics, the monthly $0.40 per Twilio secret (per account), data transfer';
