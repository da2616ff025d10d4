import { logger } from '../../lambdas/shared/logger';
import { isSecretKey, REDACTED, redactSecrets } from '../../lambdas/shared/redaction';

/** What the service logger prints for one call, read from stdout/stderr as Lambda would ship it. */
function logged(write: () => void): Record<string, unknown> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    write();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

const PIN = '604931';
const NUMBER_PIN = '728315';
const ACCOUNT_NUMBER = '5551234';
const AUTH_TOKEN = 'f3c1b2a4d5e6f708192a3b4c5d6e7f80';

describe('log redaction (one replacer on the service logger)', () => {
  it('hides PINs, account numbers, tokens and signatures at any depth, in any case and spelling', () => {
    const printed = logged(() =>
      logger.info('an order and its Twilio call', {
        request: {
          losingCarriers: [{ pin: PIN, accountNumber: ACCOUNT_NUMBER, accountTelephoneNumber: '+14155550100' }],
        },
        portRequest: { pins: { '+14155550141': NUMBER_PIN }, taskToken: 'AAAA-task-token' },
        twilio: {
          account_sid: 'AC0123456789abcdef0123456789abcdef',
          losing_carrier_information: { account_number: ACCOUNT_NUMBER },
          phone_numbers: [{ phone_number: '+14155550141', PIN: NUMBER_PIN }],
        },
        connection: { AuthToken: AUTH_TOKEN, auth_token: AUTH_TOKEN, Password: 'hunter2', clientSecret: 's3cret' },
        headers: {
          Authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261127/us-east-1/execute-api/aws4_request',
          'X-Twilio-Signature': 'bm90LWEtcmVhbC1zaWduYXR1cmU=',
          'X-Amz-Security-Token': 'session-token-value',
          Cookie: 'session=abc',
        },
        multiValueHeaders: { 'x-twilio-signature': ['bm90LWEtcmVhbC1zaWduYXR1cmU='] },
        token: 'wait-task-token',
      }),
    );
    const text = JSON.stringify(printed);
    for (const secret of [
      PIN,
      NUMBER_PIN,
      ACCOUNT_NUMBER,
      AUTH_TOKEN,
      'hunter2',
      's3cret',
      'AWS4-HMAC',
      'bm90LWEt',
      'session-token-value',
      'session=abc',
      'task-token',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(printed).toMatchObject({
      level: 'INFO',
      message: 'an order and its Twilio call',
      request: { losingCarriers: [{ pin: REDACTED, accountNumber: REDACTED, accountTelephoneNumber: '+14155550100' }] },
      portRequest: { pins: REDACTED, taskToken: REDACTED },
      twilio: {
        // The account SID identifies the customer's Twilio account; it is not a credential.
        account_sid: 'AC0123456789abcdef0123456789abcdef',
        losing_carrier_information: { account_number: REDACTED },
        phone_numbers: [{ phone_number: '+14155550141', PIN: REDACTED }],
      },
      connection: { AuthToken: REDACTED, auth_token: REDACTED, Password: REDACTED, clientSecret: REDACTED },
      headers: {
        Authorization: REDACTED,
        'X-Twilio-Signature': REDACTED,
        'X-Amz-Security-Token': REDACTED,
        Cookie: REDACTED,
      },
      multiValueHeaders: { 'x-twilio-signature': REDACTED },
      token: REDACTED,
    });
  });

  it('reads a JSON string body (API Gateway events) and redacts inside it; a body that is not JSON is not logged', () => {
    const body = JSON.stringify({ accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: AUTH_TOKEN });
    const printed = logged(() =>
      logger.info('event', { event: { body, resource: '/v1/accounts/{accountId}/twilio-connection' } }),
    );
    expect(printed.event).toEqual({
      body: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: REDACTED },
      resource: '/v1/accounts/{accountId}/twilio-connection',
    });
    const form = `PortInRequestSid=KW0&pin=${PIN}`;
    const notJson = logged(() => logger.info('event', { event: { body: form } }));
    expect(notJson.event).toEqual({ body: `[body not logged: ${form.length} characters]` });
    expect(JSON.stringify(notJson)).not.toContain(PIN);
  });

  it('keeps what is not secret, and the fields Powertools adds', () => {
    const printed = logged(() =>
      logger.warn('kept', {
        portRequestId: 'pr_0m3x1k2ab7f3c9d1e',
        accountSid: 'AC0123456789abcdef0123456789abcdef',
        twilioPortInRequestSid: 'KW0123456789abcdef0123456789abcdef',
        accountTelephoneNumber: '+14155550100',
        idempotencyKey: 'key-1',
        shipping: 'not a pin',
        empty: { pin: null },
      }),
    );
    expect(printed).toMatchObject({
      level: 'WARN',
      service: 'port-in',
      portRequestId: 'pr_0m3x1k2ab7f3c9d1e',
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      twilioPortInRequestSid: 'KW0123456789abcdef0123456789abcdef',
      accountTelephoneNumber: '+14155550100',
      idempotencyKey: 'key-1',
      shipping: 'not a pin',
      empty: { pin: null },
    });
    expect(typeof printed.timestamp).toBe('string');
  });

  it('names secrets by key, not by a substring of any key', () => {
    for (const key of ['pin', 'PINS', 'account_number', 'x-twilio-signature', 'db_password', 'SecretString']) {
      expect(isSecretKey(key)).toBe(true);
    }
    for (const key of ['account_sid', 'accountTelephoneNumber', 'spinning', 'tokenCount', 'secretArn', 'pinned']) {
      expect(isSecretKey(key)).toBe(false);
    }
    expect(redactSecrets('', { pin: '1' })).toEqual({ pin: '1' });
  });
});
