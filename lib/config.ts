import type { Node } from 'constructs';

/** The knobs an operator sets through CDK context (`cdk.json` or `-c key=value`). */
export interface PortInConfig {
  /** The address every customer email is sent from; an SES email identity is created for it. */
  readonly senderEmail: string;
  /** Name of the SES configuration set; empty lets CloudFormation generate one. */
  readonly sesConfigurationSetName: string;
  /** Public URL the webhook route lives under, without trailing slash; empty means the API's own URL. */
  readonly publicBaseUrl: string;
  /** The product's call router that imported numbers' Twilio voice webhooks point at. */
  readonly callRouterUrl: string;
  /** How long the workflow waits for a Twilio webhook before it reads the port-in itself. */
  readonly pollIntervalSeconds: number;
  /** How often a "do not cancel yet" reminder goes out while a port is open. */
  readonly reminderIntervalSeconds: number;
  /**
   * The settle window of a burst of Twilio webhooks: the first wakes the workflow at once, and a sync woken by a
   * webhook starts at least this long after the one before, so the rest of the burst is read by one sync. 0 turns
   * it off.
   */
  readonly webhookSettleSeconds: number;
  /** Secrets Manager name prefix of the per-account Twilio auth tokens. */
  readonly twilioSecretPrefix: string;
  /**
   * Longest a port's workflow execution may run (the state machine's TimeoutSeconds). The local stack uses a
   * shorter one: its engine cannot arm a timer beyond 24.8 days.
   */
  readonly workflowTimeoutSeconds: number;
  /**
   * Age in whole days past which a port request counts as overdue: SyncPortStatus logs it at each sync and an
   * operations alarm goes off. Keep it below `workflowTimeoutSeconds`, whose own alarm would otherwise come first.
   */
  readonly portMaxAgeDays: number;
  /** Address subscribed to the operations alarms' SNS topic; empty subscribes no one. */
  readonly alarmEmail: string;
  /**
   * Whether the workflow verifies every ported number (number checks and one test call each, Twilio's per-minute
   * charges) before "safe to cancel". Off: the numbers are SKIPPED and the emails say they were not test-called.
   */
  readonly verifyPortedNumbers: boolean;
}

/** The defaults; `cdk.json` repeats them so operators see every knob (a test keeps the two equal). */
export const DEFAULT_PORT_IN_CONFIG: PortInConfig = {
  senderEmail: 'ports@ringtonic.example',
  sesConfigurationSetName: '',
  publicBaseUrl: '',
  callRouterUrl: 'https://calls.ringtonic.example/twilio/voice',
  pollIntervalSeconds: 21_600,
  reminderIntervalSeconds: 259_200,
  webhookSettleSeconds: 15,
  twilioSecretPrefix: 'ringtonic/port-in/twilio/',
  workflowTimeoutSeconds: 10_368_000,
  portMaxAgeDays: 45,
  alarmEmail: '',
  verifyPortedNumbers: true,
};

/** The context keys read by {@link portInConfigFromContext}. */
export const PORT_IN_CONTEXT_KEYS = Object.keys(DEFAULT_PORT_IN_CONFIG) as readonly (keyof PortInConfig)[];

/**
 * Reads the configuration from CDK context, falling back to {@link DEFAULT_PORT_IN_CONFIG}, and rejects bad
 * values at synth time: a typo in a context value must not reach a deployed Lambda.
 */
export function portInConfigFromContext(node: Node): PortInConfig {
  const text = (key: keyof PortInConfig): string => {
    const value: unknown = node.tryGetContext(key) ?? DEFAULT_PORT_IN_CONFIG[key];
    if (typeof value !== 'string') throw new Error(`Context "${key}" must be a string, got ${JSON.stringify(value)}`);
    return value.trim();
  };
  const wholeNumber = (
    key: 'pollIntervalSeconds' | 'reminderIntervalSeconds' | 'workflowTimeoutSeconds' | 'portMaxAgeDays',
    unit: 'seconds' | 'days',
  ): number => {
    const raw: unknown = node.tryGetContext(key) ?? DEFAULT_PORT_IN_CONFIG[key];
    // `cdk synth -c key=value` passes strings.
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new Error(`Context "${key}" must be a positive whole number of ${unit}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const flag = (key: 'verifyPortedNumbers'): boolean => {
    const raw: unknown = node.tryGetContext(key) ?? DEFAULT_PORT_IN_CONFIG[key];
    // `cdk synth -c key=value` passes strings.
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    throw new Error(`Context "${key}" must be true or false, got ${JSON.stringify(raw)}`);
  };
  const seconds = (key: 'pollIntervalSeconds' | 'reminderIntervalSeconds' | 'workflowTimeoutSeconds'): number =>
    wholeNumber(key, 'seconds');

  const settleSeconds = (): number => {
    const raw: unknown = node.tryGetContext('webhookSettleSeconds') ?? DEFAULT_PORT_IN_CONFIG.webhookSettleSeconds;
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3600) {
      throw new Error(
        `Context "webhookSettleSeconds" must be a whole number of seconds from 0 to 3600, got ${JSON.stringify(raw)}`,
      );
    }
    return value;
  };

  const config: PortInConfig = {
    senderEmail: text('senderEmail'),
    sesConfigurationSetName: text('sesConfigurationSetName'),
    publicBaseUrl: text('publicBaseUrl').replace(/\/+$/, ''),
    callRouterUrl: text('callRouterUrl'),
    pollIntervalSeconds: seconds('pollIntervalSeconds'),
    reminderIntervalSeconds: seconds('reminderIntervalSeconds'),
    webhookSettleSeconds: settleSeconds(),
    twilioSecretPrefix: text('twilioSecretPrefix'),
    workflowTimeoutSeconds: seconds('workflowTimeoutSeconds'),
    portMaxAgeDays: wholeNumber('portMaxAgeDays', 'days'),
    alarmEmail: text('alarmEmail'),
    verifyPortedNumbers: flag('verifyPortedNumbers'),
  };

  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(config.senderEmail)) {
    throw new Error(`Context "senderEmail" must be an email address, got "${config.senderEmail}"`);
  }
  if (config.alarmEmail !== '' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(config.alarmEmail)) {
    throw new Error(`Context "alarmEmail" must be empty or an email address, got "${config.alarmEmail}"`);
  }
  if (config.publicBaseUrl !== '' && !/^https:\/\/[^\s/]+(\/\S*)?$/.test(config.publicBaseUrl)) {
    throw new Error(`Context "publicBaseUrl" must be empty or an https URL, got "${config.publicBaseUrl}"`);
  }
  if (!/^https:\/\/\S+$/.test(config.callRouterUrl)) {
    throw new Error(`Context "callRouterUrl" must be an https URL, got "${config.callRouterUrl}"`);
  }
  // The IAM grants are `secret:<prefix>*`: an empty prefix would grant every secret in the account.
  if (!/^[A-Za-z0-9/_+=.@-]+\/$/.test(config.twilioSecretPrefix)) {
    throw new Error(
      `Context "twilioSecretPrefix" must be a non-empty secret name path ending in "/", got "${config.twilioSecretPrefix}"`,
    );
  }
  // A Standard execution lasts at most a year.
  if (config.workflowTimeoutSeconds > 31_536_000) {
    throw new Error(
      `Context "workflowTimeoutSeconds" must be at most 31536000 (one year), got ${config.workflowTimeoutSeconds}`,
    );
  }
  // Past a year no Standard execution is still running to log it.
  if (config.portMaxAgeDays > 365) {
    throw new Error(`Context "portMaxAgeDays" must be at most 365, got ${config.portMaxAgeDays}`);
  }
  if (config.sesConfigurationSetName !== '' && !/^[A-Za-z0-9_-]{1,64}$/.test(config.sesConfigurationSetName)) {
    throw new Error(
      `Context "sesConfigurationSetName" must be 1-64 of A-Za-z0-9_-, got "${config.sesConfigurationSetName}"`,
    );
  }
  return config;
}
