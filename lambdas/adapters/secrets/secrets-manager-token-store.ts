import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../../shared/aws-clients';
import type { TwilioTokenStore } from '../../use-cases/ports';
import { traced } from '../observability/tracer';

/** Keeps each account's Twilio auth token as the secret `<prefix><accountId>`. Values are never logged. */
export class SecretsManagerTokenStore implements TwilioTokenStore {
  constructor(
    private readonly prefix: string,
    private readonly client: SecretsManagerClient = traced(new SecretsManagerClient(awsClientConfig)),
  ) {}

  private name(accountId: string): string {
    return `${this.prefix}${accountId}`;
  }

  async getAuthToken(accountId: string): Promise<string | undefined> {
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.name(accountId) }));
      return result.SecretString;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async putAuthToken(accountId: string, authToken: string): Promise<void> {
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: this.name(accountId), SecretString: authToken }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      await this.client.send(
        new CreateSecretCommand({
          Name: this.name(accountId),
          SecretString: authToken,
          Description: `Twilio auth token of Ring Tonic account ${accountId}`,
        }),
      );
    }
  }
}
