import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** An error as Secrets Manager's JSON protocol reports it: `__type` is the SDK's exception name. */
export class SecretsManagerError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** One version of a secret's value. */
interface SecretVersion {
  readonly versionId: string;
  readonly secretString?: string;
  /** Base64, as the JSON protocol carries blobs. */
  readonly secretBinary?: string;
  readonly createdDate: number;
  stages: string[];
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  readonly createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  /** Set while the secret is scheduled for deletion. */
  deletedDate?: number;
  deletionDate?: number;
  versions: SecretVersion[];
}

interface SecretValue {
  readonly secretString?: string;
  readonly secretBinary?: string;
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const MAX_SECRET_BYTES = 65_536;
const MAX_UNLABELED_VERSIONS = 100;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const DAY_MS = 24 * 60 * 60 * 1000;

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

/**
 * The secrets and their versions, with Secrets Manager's rules for staging labels, idempotency tokens and
 * scheduled deletion. With a data file, every change is written through so a restart keeps the secrets.
 */
export class SecretStore {
  private secrets: Secret[] = [];

  constructor(
    private readonly region: string,
    private readonly accountId: string,
    private readonly dataFile?: string,
    private readonly now: () => number = Date.now,
  ) {
    if (dataFile && existsSync(dataFile)) {
      const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { secrets?: Secret[] };
      this.secrets = data.secrets ?? [];
    }
  }

  /** Runs one operation by its X-Amz-Target name; unknown names are UnknownOperationException. */
  execute(operation: string, input: Input): Output {
    const handler = this.operations[operation];
    if (!handler) throw new SecretsManagerError('UnknownOperationException', `Unknown operation ${operation}`);
    return handler(input);
  }

  private readonly operations: Record<string, (input: Input) => Output> = {
    CreateSecret: (input) => this.createSecret(input),
    PutSecretValue: (input) => this.putSecretValue(input),
    GetSecretValue: (input) => this.getSecretValue(input),
    DescribeSecret: (input) => this.describeSecret(input),
    UpdateSecret: (input) => this.updateSecret(input),
    DeleteSecret: (input) => this.deleteSecret(input),
  };

  private createSecret(input: Input): Output {
    const name = requiredString(input, 'Name');
    if (!NAME_PATTERN.test(name)) {
      throw new SecretsManagerError(
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const value = optionalValue(input);
    const token = optionalToken(input);
    const existing = this.secrets.find((s) => s.name === name);
    if (existing?.deletedDate !== undefined) {
      throw new SecretsManagerError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing) {
      // A retried CreateSecret (same token, same value) succeeds again, as the SDK's automatic retry expects.
      const retried = token && value && existing.versions.find((v) => v.versionId === token);
      if (retried && sameValue(retried, value)) {
        return { ARN: existing.arn, Name: existing.name, VersionId: retried.versionId };
      }
      throw new SecretsManagerError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = this.now();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomSuffix()}`,
      name,
      ...(optionalString(input, 'Description') !== undefined
        ? { description: optionalString(input, 'Description') }
        : {}),
      ...(optionalString(input, 'KmsKeyId') !== undefined ? { kmsKeyId: optionalString(input, 'KmsKeyId') } : {}),
      tags: optionalTags(input),
      createdDate: now,
      lastChangedDate: now,
      versions: [],
    };
    this.secrets.push(secret);
    const version = value ? this.addVersion(secret, value, token, [CURRENT]) : undefined;
    this.save();
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
  }

  private putSecretValue(input: Input): Output {
    const secret = this.liveSecret(input);
    const value = optionalValue(input);
    if (!value) {
      throw new SecretsManagerError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    }
    const stages = optionalStringList(input, 'VersionStages') ?? [CURRENT];
    const version = this.addVersion(secret, value, optionalToken(input), stages);
    this.save();
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  }

  private getSecretValue(input: Input): Output {
    const secret = this.liveSecret(input);
    const versionId = optionalString(input, 'VersionId');
    const stage = optionalString(input, 'VersionStage') ?? (versionId === undefined ? CURRENT : undefined);
    const version = secret.versions.find(
      (v) =>
        (versionId === undefined || v.versionId === versionId) && (stage === undefined || v.stages.includes(stage)),
    );
    if (!version) {
      const which = versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${stage}`;
      throw new SecretsManagerError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${which}`,
      );
    }
    // Secrets Manager records access by day only.
    const today = Math.floor(this.now() / DAY_MS) * DAY_MS;
    if (secret.lastAccessedDate !== today) {
      secret.lastAccessedDate = today;
      this.save();
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
      ...(version.secretBinary !== undefined ? { SecretBinary: version.secretBinary } : {}),
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.createdDate),
    };
  }

  private describeSecret(input: Input): Output {
    const secret = this.findSecret(input);
    const versionIdsToStages: Record<string, string[]> = {};
    for (const version of secret.versions) {
      if (version.stages.length > 0) versionIdsToStages[version.versionId] = [...version.stages];
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
      RotationEnabled: false,
      LastChangedDate: seconds(secret.lastChangedDate),
      ...(secret.lastAccessedDate !== undefined ? { LastAccessedDate: seconds(secret.lastAccessedDate) } : {}),
      ...(secret.deletedDate !== undefined ? { DeletedDate: seconds(secret.deletedDate) } : {}),
      Tags: secret.tags.map((tag) => ({ ...tag })),
      VersionIdsToStages: versionIdsToStages,
      CreatedDate: seconds(secret.createdDate),
    };
  }

  private updateSecret(input: Input): Output {
    const secret = this.liveSecret(input);
    const value = optionalValue(input);
    const description = optionalString(input, 'Description');
    const kmsKeyId = optionalString(input, 'KmsKeyId');
    if (description !== undefined) secret.description = description;
    if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId;
    const version = value ? this.addVersion(secret, value, optionalToken(input), [CURRENT]) : undefined;
    secret.lastChangedDate = this.now();
    this.save();
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
  }

  private deleteSecret(input: Input): Output {
    const secret = this.findSecret(input);
    const force = input.ForceDeleteWithoutRecovery === true;
    const window = input.RecoveryWindowInDays;
    if (force && window !== undefined) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (window !== undefined && (!Number.isInteger(window) || (window as number) < 7 || (window as number) > 30)) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const now = this.now();
    if (force) {
      this.secrets = this.secrets.filter((s) => s !== secret);
      this.save();
      return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(now) };
    }
    if (secret.deletedDate !== undefined) {
      throw new SecretsManagerError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was already scheduled for deletion.",
      );
    }
    secret.deletedDate = now;
    secret.deletionDate = now + ((window as number | undefined) ?? 30) * DAY_MS;
    this.save();
    return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletionDate) };
  }

  /** Adds a version, or finds the one a retried request already made; moves the staging labels to it. */
  private addVersion(
    secret: Secret,
    value: SecretValue,
    token: string | undefined,
    stages: readonly string[],
  ): SecretVersion {
    const versionId = token ?? randomUUID();
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) {
      if (sameValue(existing, value)) return existing;
      throw new SecretsManagerError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    const version: SecretVersion = { versionId, ...value, createdDate: this.now(), stages: [] };
    if (stages.includes(CURRENT)) {
      // The outgoing AWSCURRENT becomes AWSPREVIOUS, taking that label from whoever had it.
      const current = secret.versions.find((v) => v.stages.includes(CURRENT));
      if (current) {
        for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== PREVIOUS);
        current.stages.push(PREVIOUS);
      }
    }
    for (const v of secret.versions) v.stages = v.stages.filter((s) => !stages.includes(s));
    version.stages = [...new Set(stages)];
    secret.versions.push(version);
    const unlabeled = secret.versions.filter((v) => v.stages.length === 0);
    if (unlabeled.length > MAX_UNLABELED_VERSIONS) {
      const dropped = new Set(unlabeled.slice(0, unlabeled.length - MAX_UNLABELED_VERSIONS));
      secret.versions = secret.versions.filter((v) => !dropped.has(v));
    }
    secret.lastChangedDate = this.now();
    return version;
  }

  /** A secret that is not scheduled for deletion. */
  private liveSecret(input: Input): Secret {
    const secret = this.findSecret(input);
    if (secret.deletedDate !== undefined) {
      throw new SecretsManagerError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  /** Looks a secret up by name, full ARN, or partial ARN (without the random suffix). */
  private findSecret(input: Input): Secret {
    this.purgeExpiredDeletions();
    const id = requiredString(input, 'SecretId');
    const secret = id.startsWith('arn:')
      ? this.secrets.find((s) => s.arn === id || s.arn.slice(0, -'-XXXXXX'.length) === id)
      : this.secrets.find((s) => s.name === id);
    if (!secret)
      throw new SecretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  private purgeExpiredDeletions(): void {
    const now = this.now();
    const kept = this.secrets.filter((s) => s.deletionDate === undefined || s.deletionDate > now);
    if (kept.length !== this.secrets.length) {
      this.secrets = kept;
      this.save();
    }
  }

  private save(): void {
    if (!this.dataFile) return;
    // Write then rename, so a crash mid-write never leaves half a file; 0600 because it holds secret values.
    const temporary = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ secrets: this.secrets }, null, 2), { mode: 0o600 });
    renameSync(temporary, this.dataFile);
  }
}

function requiredString(input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SecretsManagerError(
      'ValidationException',
      `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new SecretsManagerError('ValidationException', `Value at '${lowerFirst(field)}' must be a string`);
  }
  return value;
}

function optionalStringList(input: Input, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    throw new SecretsManagerError('ValidationException', `Value at '${lowerFirst(field)}' must be a list of strings`);
  }
  return value as string[];
}

function optionalToken(input: Input): string | undefined {
  const token = optionalString(input, 'ClientRequestToken');
  if (token !== undefined && (token.length < 32 || token.length > 64)) {
    throw new SecretsManagerError(
      'ValidationException',
      "Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 64",
    );
  }
  return token;
}

function optionalTags(input: Input): Array<{ Key: string; Value: string }> {
  const tags = input.Tags;
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags)) throw new SecretsManagerError('ValidationException', "Value at 'tags' must be a list");
  return tags.map((tag: unknown) => {
    const { Key, Value } = (tag ?? {}) as Record<string, unknown>;
    if (typeof Key !== 'string' || (Value !== undefined && typeof Value !== 'string')) {
      throw new SecretsManagerError('ValidationException', 'Each tag needs a string Key and Value');
    }
    return { Key, Value: Value ?? '' };
  });
}

/** The value of a request; error messages never echo it. */
function optionalValue(input: Input): SecretValue | undefined {
  const secretString = optionalString(input, 'SecretString');
  const secretBinary = optionalString(input, 'SecretBinary');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw new SecretsManagerError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (secretString !== undefined) {
    if (Buffer.byteLength(secretString, 'utf8') > MAX_SECRET_BYTES) throw tooLarge();
    return { secretString };
  }
  if (secretBinary !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(secretBinary)) {
      throw new SecretsManagerError('SerializationException', 'SecretBinary is not valid base64');
    }
    if (Buffer.from(secretBinary, 'base64').length > MAX_SECRET_BYTES) throw tooLarge();
    return { secretBinary };
  }
  return undefined;
}

function tooLarge(): SecretsManagerError {
  return new SecretsManagerError(
    'ValidationException',
    "Value at 'secretString' or 'secretBinary' failed to satisfy constraint: Member must have length less than or equal to 65536",
  );
}

function sameValue(version: SecretValue, value: SecretValue): boolean {
  return version.secretString === value.secretString && version.secretBinary === value.secretBinary;
}

function randomSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return suffix;
}

/** The JSON protocol's timestamps are epoch seconds. */
function seconds(epochMs: number): number {
  return epochMs / 1000;
}

function lowerFirst(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}
