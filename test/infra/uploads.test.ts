import type { Template } from 'aws-cdk-lib/assertions';
import { DOCUMENT_UPLOADS_PREFIX } from '../../lambdas/shared/table-layout';
import type { PortInStack } from '../../lib/port-in-stack';
import { permissionsOf, synthesizeStack } from './synth';

// Issue 13 item 1: the bucket of presigned document uploads and what the product API may do with it.

let stack: PortInStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
let bucketId: string;

beforeAll(() => {
  ({ stack, template } = synthesizeStack());
  resources = template.toJSON().Resources;
  bucketId = stack.getLogicalId(stack.documentUploads.bucket.node.defaultChild as never);
});

const bucket = () => resources[bucketId]?.Properties as Record<string, unknown>;
const bucketArn = () => ({ 'Fn::GetAtt': [bucketId, 'Arn'] });

describe('the uploads bucket', () => {
  it('is the stack’s only bucket', () => {
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::S3::Bucket')).toHaveLength(1);
  });

  it('encrypts every object at rest (SSE-S3)', () => {
    expect(bucket().BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('blocks every kind of public access and takes no ACLs', () => {
    expect(bucket().PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket().OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  it('deletes what was never completed after a day', () => {
    expect(bucket().LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'ExpireUncompletedUploads',
          Prefix: DOCUMENT_UPLOADS_PREFIX,
          ExpirationInDays: 1,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        },
      ],
    });
  });

  it('has no CORS (the main product’s back end uploads, not a browser), no versioning and no website', () => {
    expect(bucket().CorsConfiguration).toBeUndefined();
    expect(bucket().VersioningConfiguration).toBeUndefined();
    expect(bucket().WebsiteConfiguration).toBeUndefined();
  });

  it('refuses every request without TLS, and TLS below 1.2', () => {
    const policies = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(policies).toHaveLength(1);
    const statements = (
      (policies[0] as (typeof policies)[number]).Properties.PolicyDocument as {
        Statement: Array<Record<string, unknown>>;
      }
    ).Statement;
    const denies = statements.filter((s) => s.Effect === 'Deny');
    expect(statements).toHaveLength(denies.length);
    const resourcesOf = { Resource: [bucketArn(), { 'Fn::Join': ['', [bucketArn(), '/*']] }] };
    expect(denies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          ...resourcesOf,
        }),
        expect.objectContaining({
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          ...resourcesOf,
        }),
      ]),
    );
  });
});

describe('what the product API may do with it', () => {
  const objectsUnderPrefix = () => JSON.stringify({ 'Fn::Join': ['', [bucketArn(), `/${DOCUMENT_UPLOADS_PREFIX}*`]] });

  it('presigns PUTs for, reads and deletes objects under the uploads prefix only', () => {
    const { permissions } = permissionsOf(stack, template, stack.api.productApiFunction);
    const s3 = permissions.filter((p) => p.action.startsWith('s3:'));
    expect(s3.filter((p) => p.action !== 's3:ListBucket').sort((a, b) => a.action.localeCompare(b.action))).toEqual([
      { action: 's3:DeleteObject', resource: objectsUnderPrefix() },
      { action: 's3:GetObject', resource: objectsUnderPrefix() },
      { action: 's3:PutObject', resource: objectsUnderPrefix() },
    ]);
    // So that a key not uploaded yet answers 404 (NoSuchKey), not 403: listing names, never contents.
    expect(s3.filter((p) => p.action === 's3:ListBucket')).toEqual([
      { action: 's3:ListBucket', resource: JSON.stringify(bucketArn()) },
    ]);
  });

  it('gives no other function any access to the bucket', () => {
    const others = [
      ...Object.values(stack.workflow.functions),
      stack.api.twilioWebhookFunction,
      stack.workflowStartSweeper.function,
      stack.emailConfirmations.function,
    ];
    for (const fn of others) {
      const { permissions } = permissionsOf(stack, template, fn);
      expect({ fn: fn.node.id, s3: permissions.filter((p) => p.action.startsWith('s3:')) }).toEqual({
        fn: fn.node.id,
        s3: [],
      });
    }
  });

  it('tells the function the bucket and the 15-minute URL lifetime', () => {
    const variables = (
      (
        resources[stack.getLogicalId(stack.api.productApiFunction.node.defaultChild as never)] as {
          Properties: Record<string, unknown>;
        }
      ).Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables.UPLOADS_BUCKET_NAME).toEqual({ Ref: bucketId });
    expect(variables.DOCUMENT_UPLOAD_URL_SECONDS).toBe('900');
  });
});
