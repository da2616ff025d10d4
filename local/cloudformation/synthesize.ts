import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { PORT_IN_STACK_NAME, PortInStack } from '../../lib/port-in-stack';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** One resource of a synthesized template. */
export interface CloudFormationResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | readonly string[];
  readonly Condition?: string;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** A synthesized CloudFormation template: plain JSON, intrinsics (`Ref`, `Fn::*`) still in place. */
export interface CloudFormationTemplate {
  readonly Resources: Record<string, CloudFormationResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
  readonly Parameters?: Record<string, unknown>;
  readonly Conditions?: Record<string, unknown>;
  readonly [section: string]: unknown;
}

/**
 * The context in `cdk.json` (service defaults and feature flags), so an in-process synth builds the template
 * `cdk synth` builds.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: unknown };
  return { ...(cdkJson.context as Record<string, unknown> | undefined) };
}

/**
 * Builds the CDK app in process, as `bin/port-in.ts` does but environment-agnostic (region and account stay
 * `AWS::Region`/`AWS::AccountId`). By default without bundling the Lambda code, which the template tests do not
 * need; with `{ bundle: true }` each function's asset is the esbuild bundle `cdk synth` makes (what the local
 * stack runs, see local/lambda/bundles.ts), and each CfnFunction names its asset directory in its
 * `aws:asset:path` metadata.
 * @param context overrides of `cdk.json`'s context, e.g. `{ pollIntervalSeconds: 30 }`
 */
export function buildPortInApp(
  context: Record<string, unknown> = {},
  outdir?: string,
  options: { readonly bundle?: boolean } = {},
): { app: App; stack: PortInStack } {
  const bundling = options.bundle
    ? // What the CLI sets: the asset metadata that ties a resource to its staged directory.
      { 'aws:cdk:enable-asset-metadata': true }
    : { 'aws:cdk:bundling-stacks': [] };
  const app = new App({
    context: { ...cdkJsonContext(), ...context, ...bundling },
    ...(outdir ? { outdir } : {}),
    // No AWS::CDK::Metadata resource: it carries region conditions the local stack would have to evaluate.
    analyticsReporting: false,
  });
  const stack = new PortInStack(app, PORT_IN_STACK_NAME);
  return { app, stack };
}

/** Synthesizes the port-in stack in process and returns its CloudFormation template. */
export function synthesizePortInTemplate(context?: Record<string, unknown>): CloudFormationTemplate {
  // A throwaway cloud assembly: without it every call would leave one behind in the temp directory.
  const outdir = mkdtempSync(path.join(tmpdir(), 'ringtonic-port-in-synth-'));
  try {
    const { app } = buildPortInApp(context, outdir);
    return app.synth().getStackByName(PORT_IN_STACK_NAME).template as CloudFormationTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
