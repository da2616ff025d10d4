import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig, awsClientOnFirstUse } from '../../shared/aws-clients';
import { lazy } from '../../shared/lazy';
import type { TwilioTokenStore } from '../../use-cases/ports';
import { traced } from '../observability/tracer';

const secretsManager = lazy(() => import('@aws-sdk/client-secrets-manager'));

/** Keeps each account's Twilio auth token as the secret `<prefix><accountId>`. Values are never logged. */
export class SecretsManagerTokenStore implements TwilioTokenStore {
  constructor(
    private readonly prefix: string,
    client?: SecretsManagerClient,
  ) {
    this.client = awsClientOnFirstUse(
      secretsManager,
      (sdk) => traced(new sdk.SecretsManagerClient(awsClientConfig)),
      client,
    );
  }

  private readonly client: () => Promise<SecretsManagerClient>;

  private name(accountId: string): string {
    return `${this.prefix}${accountId}`;
  }

  async getAuthToken(accountId: string): Promise<string | undefined> {
    const { GetSecretValueCommand } = await secretsManager();
    const client = await this.client();
    try {
      const result = await client.send(new GetSecretValueCommand({ SecretId: this.name(accountId) }));
      return result.SecretString;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async putAuthToken(accountId: string, authToken: string): Promise<void> {
    const { CreateSecretCommand, PutSecretValueCommand } = await secretsManager();
    const client = await this.client();
    try {
      await client.send(new PutSecretValueCommand({ SecretId: this.name(accountId), SecretString: authToken }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      await client.send(
        new CreateSecretCommand({
          Name: this.name(accountId),
          SecretString: authToken,
          Description: `Twilio auth token of Ring Tonic account ${accountId}`,
        }),
      );
    }
  }
}
