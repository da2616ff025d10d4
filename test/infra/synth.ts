import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { PortInStack } from '../../lib/port-in-stack';
import type { IntrinsicResolver } from '../../local/cloudformation/resolve';
import { buildPortInApp } from '../../local/cloudformation/synthesize';
import { type StateMachineDefinition, stateMachineDefinition } from '../../local/cloudformation/template';

/** The stack as `cdk synth` builds it (cdk.json context), Lambda bundling skipped. */
export function synthesizeStack(context: Record<string, unknown> = {}): { stack: PortInStack; template: Template } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ringtonic-infra-test-'));
  try {
    const { stack } = buildPortInApp(context, outdir);
    // Template reads the synthesized JSON into memory, so the cloud assembly can go at once.
    return { stack, template: Template.fromStack(stack) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Resolves references to ARNs of the right shape, so asl-validator's ARN checks apply. */
export const fakeArnResolver: IntrinsicResolver = {
  ref: (logicalId) =>
    logicalId.includes('StateMachine') ? `arn:aws:states:us-east-1:123456789012:stateMachine:${logicalId}` : logicalId,
  getAtt: (logicalId, attribute) =>
    attribute === 'Arn' ? `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}` : `${logicalId}.${attribute}`,
};

/** The resolved state machine definition of a synthesized template. */
export function resolvedDefinition(template: Template): StateMachineDefinition {
  return stateMachineDefinition(template.toJSON() as never, fakeArnResolver, {
    region: 'us-east-1',
    accountId: '123456789012',
    partition: 'aws',
  });
}

/** A function's logical id in its stack. */
export function logicalIdOf(stack: PortInStack, fn: lambda.Function): string {
  return stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
}

/** One allowed action on one resource (intrinsics left as JSON text). */
export interface Permission {
  readonly action: string;
  readonly resource: string;
}

/**
 * Everything a function's role may do through inline policies (its default policy and any separate
 * AWS::IAM::Policy attached to it), one entry per action and resource; managed policies listed apart.
 */
export function permissionsOf(
  stack: PortInStack,
  template: Template,
  fn: lambda.Function,
): { permissions: Permission[]; managedPolicyArns: unknown[] } {
  const roleId = stack.getLogicalId((fn.role as iam.Role).node.defaultChild as iam.CfnRole);
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const permissions: Permission[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = resource.Properties.Roles as unknown[];
    if (!roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }))) continue;
    const document = resource.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
    for (const statement of document.Statement) {
      expect(statement.Effect).toBe('Allow');
      const actions = ([] as unknown[]).concat(statement.Action);
      const targets = ([] as unknown[]).concat(statement.Resource);
      for (const action of actions) {
        for (const target of targets) {
          permissions.push({
            action: String(action),
            resource: typeof target === 'string' ? target : JSON.stringify(target),
          });
        }
      }
    }
  }
  const role = resources[roleId];
  return { permissions, managedPolicyArns: (role?.Properties.ManagedPolicyArns as unknown[]) ?? [] };
}
