/**
 * What a function does not need at init is loaded on first use (lambdas/shared/lazy.ts): building the adapters,
 * as every handler does at cold start, loads no AWS SDK module and not twilio-node; the first call does.
 */
const SDK_MODULES = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/client-sfn',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sesv2',
  '@aws-sdk/client-s3',
  '@aws-sdk/s3-request-presigner',
] as const;

function watchLoads(): string[] {
  const loaded: string[] = [];
  for (const name of SDK_MODULES) {
    jest.doMock(name, () => {
      loaded.push(name);
      return jest.requireActual(name);
    });
  }
  jest.doMock('../../lambdas/adapters/twilio/twilio-client', () => {
    loaded.push('twilio-client');
    return jest.requireActual('../../lambdas/adapters/twilio/twilio-client');
  });
  return loaded;
}

afterEach(() => {
  for (const name of [...SDK_MODULES, '../../lambdas/adapters/twilio/twilio-client']) {
    jest.dontMock(name);
  }
});

describe('adapters at cold start', () => {
  it('load no SDK module and not twilio-node when they are built', async () => {
    await jest.isolateModulesAsync(async () => {
      const loaded = watchLoads();
      const { DynamoPortInRepository } = require('../../lambdas/adapters/dynamodb/port-in-repository');
      const { StepFunctionsWorkflowClient } = require('../../lambdas/adapters/sfn/step-functions-workflow-client');
      const { SecretsManagerTokenStore } = require('../../lambdas/adapters/secrets/secrets-manager-token-store');
      const { SesMailer } = require('../../lambdas/adapters/ses/ses-mailer');
      const { TwilioNodeGateway } = require('../../lambdas/adapters/twilio/twilio-gateway');
      const { S3DocumentUploadStorage } = require('../../lambdas/adapters/s3/s3-document-upload-storage');
      new DynamoPortInRepository('PortInTable');
      new StepFunctionsWorkflowClient(undefined);
      new SecretsManagerTokenStore('ringtonic/twilio/');
      new SesMailer('ports@ringtonic.example', undefined);
      new TwilioNodeGateway({ apiBaseUrl: 'http://127.0.0.1:1' });
      new S3DocumentUploadStorage('uploads-bucket');
      // An import() started at construction would land after a turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(loaded).toEqual([]);
    });
  });

  it('loads twilio-node with the first Twilio client', () => {
    jest.isolateModules(() => {
      const loaded = watchLoads();
      const { TwilioNodeGateway } = require('../../lambdas/adapters/twilio/twilio-gateway');
      const gateway = new TwilioNodeGateway({ apiBaseUrl: 'http://127.0.0.1:1' });
      gateway.forAccount({ accountSid: `AC${'0'.repeat(32)}`, authToken: 'token' });
      expect(loaded).toEqual(['twilio-client']);
    });
  });

  it('makes the SES client with the first email, still with one attempt per send', async () => {
    const configs: unknown[] = [];
    const sent: unknown[] = [];
    let mailer: { send(email: object): Promise<{ messageId: string }> } | undefined;
    jest.isolateModules(() => {
      jest.doMock('@aws-sdk/client-sesv2', () => {
        const actual = jest.requireActual('@aws-sdk/client-sesv2');
        return {
          ...actual,
          SESv2Client: class {
            constructor(config: unknown) {
              configs.push(config);
            }
            async send(command: { input: unknown }) {
              sent.push(command.input);
              return { MessageId: 'm-1' };
            }
          },
        };
      });
      const { SesMailer } = require('../../lambdas/adapters/ses/ses-mailer');
      mailer = new SesMailer('ports@ringtonic.example', undefined);
    });
    expect(configs).toEqual([]);
    const email = { to: ['a@acme.example'], subject: 's', html: '<p>h</p>', text: 'h' };
    await expect(mailer?.send(email)).resolves.toEqual({ messageId: 'm-1' });
    await mailer?.send(email);
    expect(configs).toHaveLength(1);
    expect(configs[0]).toMatchObject({ maxAttempts: 1, requestHandler: { throwOnRequestTimeout: true } });
    expect(sent).toHaveLength(2);
  });
});
