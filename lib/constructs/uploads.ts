import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DOCUMENT_UPLOADS_PREFIX } from '../../lambdas/shared/table-layout';
import type { ServiceFunction } from './service-function';

/** Properties of {@link DocumentUploads}. */
export interface DocumentUploadsProps {
  /**
   * How long a presigned upload URL works.
   * @default Duration.minutes(15) (CONTRACT: POST document-uploads)
   */
  readonly urlLifetime?: Duration;
  /**
   * After how many days S3 deletes an object nobody completed (completion deletes it at once).
   * @default 1
   */
  readonly expireAfterDays?: number;
}

/**
 * The S3 bucket that takes utility bills of up to 5 MB through presigned PUT URLs, so that their bytes never pass
 * through API Gateway or a Lambda payload. The objects are transient: completion forwards each to Twilio and deletes
 * it, and the lifecycle removes what was never completed after a day. Encrypted (SSE-S3), never public, TLS only,
 * no ACLs. No CORS: the main product's back end uploads, not a browser.
 */
export class DocumentUploads extends Construct {
  /** The uploads bucket. */
  readonly bucket: s3.Bucket;
  /** How long a presigned URL works. */
  readonly urlLifetime: Duration;

  constructor(scope: Construct, id: string, props: DocumentUploadsProps = {}) {
    super(scope, id);
    this.urlLifetime = props.urlLifetime ?? Duration.minutes(15);
    const expireAfterDays = props.expireAfterDays ?? 1;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Transient objects, deleted on completion: versioning would only keep copies of customers' bills around.
      versioned: false,
      lifecycleRules: [
        {
          id: 'ExpireUncompletedUploads',
          prefix: DOCUMENT_UPLOADS_PREFIX,
          expiration: Duration.days(expireAfterDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Holds nothing worth keeping once the stack goes, but a bucket with objects cannot be deleted: it is kept,
      // and empties itself within a day.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets the function create presigned PUTs for the uploads prefix, read and delete what it completes there, and tells
   * it the bucket (`UPLOADS_BUCKET_NAME`) and the URL lifetime (`DOCUMENT_UPLOAD_URL_SECONDS`).
   */
  grantDocumentUploads(fn: ServiceFunction): void {
    const objects = this.bucket.arnForObjects(`${DOCUMENT_UPLOADS_PREFIX}*`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DocumentUploadObjects',
        // PutObject is what a presigned PUT, signed with the function's credentials, may do; Get and Delete are the
        // completion's.
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: [objects],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DocumentUploadMissingObjects',
        // Without ListBucket, S3 answers a GetObject of a key not uploaded yet with 403 instead of 404 (NoSuchKey).
        // Not narrowed by s3:prefix: a GetObject carries no prefix, and the bucket holds nothing but these uploads.
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    fn.addEnvironment('UPLOADS_BUCKET_NAME', this.bucket.bucketName);
    fn.addEnvironment('DOCUMENT_UPLOAD_URL_SECONDS', String(this.urlLifetime.toSeconds()));
  }
}
