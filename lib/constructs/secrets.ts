import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { ServiceFunction } from './service-function';

/** Properties of {@link TwilioSecrets}. */
export interface TwilioSecretsProps {
  /** Secret name prefix, ending in `/`; an account's token is the secret `<prefix><accountId>`. */
  readonly namePrefix: string;
  /**
   * Customer managed key the secrets are encrypted with. The writer must pass it as `KmsKeyId` when it creates
   * a secret; its ARN is given to writers as `TWILIO_SECRET_KMS_KEY_ARN`.
   * @default - the AWS managed key `aws/secretsmanager`
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Where the per-account Twilio auth tokens live. The secrets are created at run time, when a customer connects
 * their Twilio account, so this construct owns no secret: it owns the name prefix and the grants on it.
 */
export class TwilioSecrets extends Construct {
  /** The secret name prefix. */
  readonly namePrefix: string;
  /** ARN pattern matching every token secret (Secrets Manager appends `-XXXXXX` to secret ARNs). */
  readonly secretArnPattern: string;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: TwilioSecretsProps) {
    super(scope, id);
    if (!props.namePrefix.endsWith('/')) {
      // Without the trailing slash, `prefix*` would also match secrets of other services sharing the prefix.
      throw new Error(`Twilio secret prefix must end in "/", got "${props.namePrefix}"`);
    }
    this.namePrefix = props.namePrefix;
    this.encryptionKey = props.encryptionKey;
    this.secretArnPattern = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${props.namePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Lets the function read tokens and tells it the prefix (`TWILIO_SECRET_PREFIX`). */
  grantRead(fn: ServiceFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTwilioAuthTokens',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [this.secretArnPattern],
      }),
    );
    this.encryptionKey?.grantDecrypt(fn);
    fn.addEnvironment('TWILIO_SECRET_PREFIX', this.namePrefix);
  }

  /** Lets the function create, update and read tokens (the Twilio connection route), and sets the prefix. */
  grantWrite(fn: ServiceFunction): void {
    this.grantRead(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteTwilioAuthTokens',
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'],
        resources: [this.secretArnPattern],
      }),
    );
    if (this.encryptionKey) {
      this.encryptionKey.grantEncrypt(fn);
      fn.addEnvironment('TWILIO_SECRET_KMS_KEY_ARN', this.encryptionKey.keyArn);
    }
  }
}
