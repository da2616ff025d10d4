import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { type RunningSecretsManager, startSecretsManager } from '../../local/secrets-manager';

const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';

let secretsManager: RunningSecretsManager;
let client: SecretsManagerClient;
let counter = 0;

function clientFor(url: string): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: 'LOCALACCESSKEY', secretAccessKey: 'localsecretkey' },
    maxAttempts: 1,
    // Without throwOnRequestTimeout a stuck call only logs a warning and the test hangs.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  });
}

/** A fresh secret name per test, so tests do not depend on each other. */
function uniqueName(): string {
  counter += 1;
  return `ringtonic/twilio/acc_${counter}`;
}

beforeAll(async () => {
  secretsManager = await startSecretsManager({ region: REGION, accountId: ACCOUNT_ID });
  client = clientFor(secretsManager.url);
});

afterAll(async () => {
  client?.destroy();
  await secretsManager?.close();
});

describe('local Secrets Manager', () => {
  it('creates a secret with an ARN of name and random suffix, and reads it back by name and by ARN', async () => {
    const Name = uniqueName();
    const created = await client.send(new CreateSecretCommand({ Name, SecretString: 'token-1' }));
    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:ringtonic/twilio/acc_\\d+-[A-Za-z0-9]{6}$`),
    );
    expect(created.Name).toBe(Name);
    expect(created.VersionId).toEqual(expect.any(String));

    const byName = await client.send(new GetSecretValueCommand({ SecretId: Name }));
    expect(byName).toMatchObject({ ARN: created.ARN, Name, SecretString: 'token-1', VersionStages: ['AWSCURRENT'] });
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(byArn.SecretString).toBe('token-1');
    const partialArn = created.ARN?.slice(0, -7);
    const byPartialArn = await client.send(new GetSecretValueCommand({ SecretId: partialArn }));
    expect(byPartialArn.SecretString).toBe('token-1');
  });

  it('gives each PutSecretValue a new version, moving AWSCURRENT and AWSPREVIOUS', async () => {
    const Name = uniqueName();
    const first = await client.send(new CreateSecretCommand({ Name, SecretString: 'v1' }));
    const second = await client.send(new PutSecretValueCommand({ SecretId: Name, SecretString: 'v2' }));
    const third = await client.send(new PutSecretValueCommand({ SecretId: Name, SecretString: 'v3' }));
    expect(new Set([first.VersionId, second.VersionId, third.VersionId]).size).toBe(3);
    expect(third.VersionStages).toEqual(['AWSCURRENT']);

    expect((await client.send(new GetSecretValueCommand({ SecretId: Name }))).SecretString).toBe('v3');
    const previous = await client.send(new GetSecretValueCommand({ SecretId: Name, VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('v2');
    const oldest = await client.send(new GetSecretValueCommand({ SecretId: Name, VersionId: first.VersionId }));
    expect(oldest).toMatchObject({ SecretString: 'v1', VersionStages: [] });

    const described = await client.send(new DescribeSecretCommand({ SecretId: Name }));
    expect(described.VersionIdsToStages).toEqual({
      [third.VersionId as string]: ['AWSCURRENT'],
      [second.VersionId as string]: ['AWSPREVIOUS'],
    });
  });

  it('treats a repeated ClientRequestToken with the same value as a retry, and refuses it with another value', async () => {
    const Name = uniqueName();
    await client.send(new CreateSecretCommand({ Name, SecretString: 'v1' }));
    const token = 'a6f2c1d4-0000-4000-8000-000000000001';
    const put = () =>
      client.send(new PutSecretValueCommand({ SecretId: Name, SecretString: 'v2', ClientRequestToken: token }));
    const first = await put();
    const retry = await put();
    expect(retry.VersionId).toBe(token);
    expect(first.VersionId).toBe(token);
    const previous = await client.send(new GetSecretValueCommand({ SecretId: Name, VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('v1');
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: Name, SecretString: 'other', ClientRequestToken: token })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('answers ResourceExistsException to a second CreateSecret with the same name', async () => {
    const Name = uniqueName();
    await client.send(new CreateSecretCommand({ Name, SecretString: 'v1' }));
    const error = await client.send(new CreateSecretCommand({ Name, SecretString: 'v2' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceExistsException);
    expect((error as Error).message).toMatch(/already exists/);
    expect((error as ResourceExistsException).$metadata.httpStatusCode).toBe(400);
  });

  it('answers ResourceNotFoundException for an unknown secret, with no value leaked in any error', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: 'nope/never' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    const both = await client
      .send(
        new CreateSecretCommand({ Name: uniqueName(), SecretString: 's3cr3t-value', SecretBinary: Buffer.from('x') }),
      )
      .catch((e: unknown) => e);
    expect(both).toBeInstanceOf(InvalidParameterException);
    expect((both as Error).message).not.toContain('s3cr3t-value');
  });

  it('answers ResourceNotFoundException when a secret has no value yet', async () => {
    const Name = uniqueName();
    const created = await client.send(new CreateSecretCommand({ Name, Description: 'no value yet' }));
    expect(created.VersionId).toBeUndefined();
    await expect(client.send(new GetSecretValueCommand({ SecretId: Name }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('keeps binary secrets as bytes', async () => {
    const Name = uniqueName();
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    await client.send(new CreateSecretCommand({ Name, SecretBinary: bytes }));
    const read = await client.send(new GetSecretValueCommand({ SecretId: Name }));
    expect(Buffer.from(read.SecretBinary as Uint8Array)).toEqual(Buffer.from(bytes));
    expect(read.SecretString).toBeUndefined();
  });

  it('updates description, KMS key and value with UpdateSecret', async () => {
    const Name = uniqueName();
    await client.send(new CreateSecretCommand({ Name, SecretString: 'v1', Tags: [{ Key: 'tenant', Value: 'acc' }] }));
    const descriptionOnly = await client.send(new UpdateSecretCommand({ SecretId: Name, Description: 'Twilio token' }));
    expect(descriptionOnly.VersionId).toBeUndefined();
    const withValue = await client.send(
      new UpdateSecretCommand({ SecretId: Name, SecretString: 'v2', KmsKeyId: 'alias/k' }),
    );
    expect(withValue.VersionId).toEqual(expect.any(String));
    expect((await client.send(new GetSecretValueCommand({ SecretId: Name }))).SecretString).toBe('v2');
    const described = await client.send(new DescribeSecretCommand({ SecretId: Name }));
    expect(described).toMatchObject({
      Name,
      Description: 'Twilio token',
      KmsKeyId: 'alias/k',
      Tags: [{ Key: 'tenant', Value: 'acc' }],
      RotationEnabled: false,
    });
    expect(described.LastChangedDate).toBeInstanceOf(Date);
    expect(described.CreatedDate).toBeInstanceOf(Date);
  });

  it('schedules a deletion: the value is unreadable, the name is taken, DescribeSecret shows DeletedDate', async () => {
    const Name = uniqueName();
    await client.send(new CreateSecretCommand({ Name, SecretString: 'v1' }));
    const deleted = await client.send(new DeleteSecretCommand({ SecretId: Name, RecoveryWindowInDays: 7 }));
    const inSevenDays = Date.now() + 7 * 24 * 3600 * 1000;
    expect(Math.abs((deleted.DeletionDate?.getTime() ?? 0) - inSevenDays)).toBeLessThan(60_000);
    await expect(client.send(new GetSecretValueCommand({ SecretId: Name }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    await expect(client.send(new CreateSecretCommand({ Name, SecretString: 'v2' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    expect((await client.send(new DescribeSecretCommand({ SecretId: Name }))).DeletedDate).toBeInstanceOf(Date);
  });

  it('removes a secret at once with ForceDeleteWithoutRecovery, freeing the name for a new ARN', async () => {
    const Name = uniqueName();
    const first = await client.send(new CreateSecretCommand({ Name, SecretString: 'v1' }));
    await client.send(new DeleteSecretCommand({ SecretId: Name, ForceDeleteWithoutRecovery: true }));
    await expect(client.send(new DescribeSecretCommand({ SecretId: Name }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    const second = await client.send(new CreateSecretCommand({ Name, SecretString: 'v2' }));
    expect(second.ARN).not.toBe(first.ARN);
    await expect(client.send(new GetSecretValueCommand({ SecretId: first.ARN }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('refuses ForceDeleteWithoutRecovery together with RecoveryWindowInDays', async () => {
    const Name = uniqueName();
    await client.send(new CreateSecretCommand({ Name, SecretString: 'v1' }));
    await expect(
      client.send(
        new DeleteSecretCommand({ SecretId: Name, ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('answers an unknown operation with UnknownOperationException in the JSON protocol', async () => {
    const response = await fetch(secretsManager.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.RotateEverything' },
      body: '{}',
      signal: AbortSignal.timeout(3000),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ __type: 'UnknownOperationException', message: expect.any(String) });
  });
});

describe('local Secrets Manager with a data file', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'secrets-manager-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('keeps secrets across a restart, in a file only its owner can read', async () => {
    const dataFile = path.join(directory, 'secrets.json');
    const first = await startSecretsManager({ dataFile });
    const firstClient = clientFor(first.url);
    try {
      await firstClient.send(new CreateSecretCommand({ Name: 'persisted', SecretString: 'kept' }));
    } finally {
      firstClient.destroy();
      await first.close();
    }
    expect(statSync(dataFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(dataFile, 'utf8')).secrets).toHaveLength(1);

    const second = await startSecretsManager({ dataFile });
    const secondClient = clientFor(second.url);
    try {
      const read = await secondClient.send(new GetSecretValueCommand({ SecretId: 'persisted' }));
      expect(read.SecretString).toBe('kept');
    } finally {
      secondClient.destroy();
      await second.close();
    }
  });
});
