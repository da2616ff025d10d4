import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DOCUMENT_UPLOADS_PREFIX } from '../lambdas/shared/table-layout';
import type { ServiceFunction } from './constructs/service-function';
import type { PortInStack } from './port-in-stack';

/**
 * cdk-nag names a finding on a tokenized resource after its CloudFormation form (`<Logical.Attr>`,
 * `<AWS::Region>`); this writes an ARN the same way so an acknowledgement names exactly that resource.
 */
function nagResource(scope: IConstruct, arn: string): string {
  const flatten = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return `<${v.Ref}>`;
    if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(delimiter);
    }
    throw new Error(`Cannot name ${JSON.stringify(value)} as cdk-nag does`);
  };
  return flatten(Stack.of(scope).resolve(arn));
}

/**
 * The cdk-nag AWS Solutions findings this stack accepts, each on the construct it concerns and with the reason.
 * Applied where the checks run (test/infra/cdk-nag.test.ts): everything else the pack reports fails the build.
 */
export function acknowledgeNagFindings(stack: PortInStack): void {
  const functions: ServiceFunction[] = [
    ...Object.values(stack.workflow.functions),
    stack.api.productApiFunction,
    stack.api.twilioWebhookFunction,
    stack.workflowStartSweeper.function,
    stack.emailConfirmations.function,
  ];
  const secretReaders = [
    stack.workflow.functions.submitPortIn,
    stack.workflow.functions.syncPortStatus,
    stack.workflow.functions.importNumbers,
    // Absent where verification is switched off.
    ...(stack.workflow.functions.verifyNumbers ? [stack.workflow.functions.verifyNumbers] : []),
    stack.api.productApiFunction,
    stack.api.twilioWebhookFunction,
  ];

  for (const fn of functions) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime the service is specified, built and tested for (docs/ARCHITECTURE.md).',
    });
    if (fn.role) {
      Validations.of(fn.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments and PutTelemetryRecords have no resource-level permissions.',
      });
    }
  }
  for (const fn of secretReaders) {
    if (!fn.role) continue;
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack, stack.secrets.secretArnPattern)}]`,
      reason:
        'Twilio auth tokens are created at run time, one secret per customer account, under this name prefix: ' +
        'the prefix is the narrowest scope there is.',
    });
  }

  const uploads = stack.documentUploads.bucket;
  Validations.of(uploads).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'The bucket only holds utility bills for the minutes between a presigned PUT and its completion (a day at most): ' +
      'every completion is in the API access logs and the function logs; CloudTrail data events can be turned on ' +
      'account-wide where object-level audit is wanted.',
  });
  const productApiRole = stack.api.productApiFunction.role;
  if (productApiRole) {
    Validations.of(productApiRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack, uploads.arnForObjects(`${DOCUMENT_UPLOADS_PREFIX}*`))}]`,
      reason:
        'Upload keys are made at run time, one per upload (document-uploads/{accountId}/{uploadId}): the prefix is ' +
        'the narrowest scope there is.',
    });
  }

  const stateMachineRole = stack.workflow.stateMachine.role;
  Validations.of(stateMachineRole).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'CloudWatch Logs delivery and X-Ray actions used by state machine logging and tracing take no resource.',
  });
  for (const fn of Object.values(stack.workflow.functions)) {
    Validations.of(stateMachineRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack, fn.functionArn)}:*]`,
      reason: 'Invoking a workflow function includes its versions and aliases (the ARN with a qualifier).',
    });
  }

  const api = stack.api.restApi;
  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-COG4',
      reason: 'Product routes use IAM (SigV4) authorization; the Twilio webhook is authenticated by its signature.',
    },
    {
      id: 'AwsSolutions-APIG4',
      reason: 'Only the Twilio webhook has no API Gateway authorization: its handler verifies X-Twilio-Signature.',
    },
    {
      id: 'AwsSolutions-APIG2',
      reason: "Requests are validated by the handlers' zod schemas, the single source of validation and of OpenAPI.",
    },
    {
      id: 'AwsSolutions-APIG3',
      reason: 'A regional API behind IAM auth and stage throttling; add a WAF web ACL if it is ever opened wider.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: "API Gateway's account-level logging role uses the AWS policy made for it.",
    },
  );
  Validations.of(stack.api.invokePolicy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResource(stack, api.arnForExecuteApi('*', '/v1/accounts/*', stack.api.stageName))}]`,
    reason: "The main product calls every /v1/accounts route, for any of its customers' accounts.",
  });
}
