import { HttpProblem } from '../shared/errors';
import type { Clock, PortInRepository, TwilioConnection, TwilioGateway, TwilioTokenStore } from './ports';

export interface ConnectTwilioDeps {
  readonly repository: PortInRepository;
  readonly tokens: TwilioTokenStore;
  readonly twilio: TwilioGateway;
  readonly clock: Clock;
  readonly publicBaseUrl: string;
}

/** The URL Twilio posts an account's porting events to. */
export function portingWebhookUrl(publicBaseUrl: string, accountId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/v1/webhooks/twilio/${encodeURIComponent(accountId)}/port-in`;
}

/**
 * Connects a Ring Tonic account to its Twilio account: checks the credentials with Twilio, keeps the token as a
 * secret and points the account's porting webhook at us. Connecting again rotates the token.
 */
export async function connectTwilio(
  input: { accountId: string; accountSid: string; authToken: string; verificationCallerNumber?: string },
  deps: ConnectTwilioDeps,
): Promise<TwilioConnection> {
  const gateway = deps.twilio.forAccount({ accountSid: input.accountSid, authToken: input.authToken });
  if (!(await gateway.verifyCredentials())) {
    throw new HttpProblem(
      400,
      'Twilio refused the credentials',
      'Twilio did not accept this Account SID and auth token.',
      [{ path: 'authToken', message: 'Twilio refused this Account SID and auth token' }],
    );
  }
  const caller = input.verificationCallerNumber;
  if (caller) {
    const numbers = await gateway.listIncomingPhoneNumbers();
    if (!numbers.some((n) => n.phoneNumber === caller && n.voiceCapable)) {
      throw new HttpProblem(
        400,
        'Not a number of this Twilio account',
        'verificationCallerNumber must be a voice-capable number of this Twilio account.',
        [{ path: 'verificationCallerNumber', message: 'not a voice-capable number of this Twilio account' }],
      );
    }
  }
  const webhookUrl = portingWebhookUrl(deps.publicBaseUrl, input.accountId);
  // Twilio first: if it fails, the stored token and connection still agree with each other (the old account).
  await gateway.configurePortingWebhook(webhookUrl);
  await deps.tokens.putAuthToken(input.accountId, input.authToken);
  const connection: TwilioConnection = {
    accountId: input.accountId,
    accountSid: input.accountSid,
    webhookUrl,
    connectedAt: deps.clock.now().toISOString(),
    ...(caller ? { verificationCallerNumber: caller } : {}),
  };
  await deps.repository.putConnection(connection);
  return connection;
}
