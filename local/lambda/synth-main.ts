import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PORT_IN_STACK_NAME } from '../../lib/port-in-stack';
import type { CloudFormationTemplate } from '../cloudformation/synthesize';
import { buildPortInApp } from '../cloudformation/synthesize';
import { lambdaFunctions } from '../cloudformation/template';
import { BUNDLES_MANIFEST, type BundlesManifest } from './bundles';

/**
 * `node --import tsx local/lambda/synth-main.ts <outdir> <context JSON>`: synthesizes the CDK app WITH bundling
 * (every NodejsFunction's esbuild bundle staged as `asset.<hash>/index.mjs` in `<outdir>`, as `cdk synth` stages
 * it) and writes `<outdir>/local-bundles.json`: the stack's template file and, per function, its asset directory
 * (read from the template's `aws:asset:path` metadata). Run as a child process by bundles.ts, so that the slow
 * synth (esbuild for every function) runs once per change of its inputs, outside the stack's process.
 */
function main(): void {
  const [outdir, contextJson = '{}'] = process.argv.slice(2);
  if (!outdir) throw new Error('usage: synth-main.ts <outdir> [context JSON]');
  const { app } = buildPortInApp(JSON.parse(contextJson) as Record<string, unknown>, outdir, { bundle: true });
  const artifact = app.synth().getStackByName(PORT_IN_STACK_NAME);
  const template = artifact.template as CloudFormationTemplate;
  const functions = lambdaFunctions(template).map((fn) => {
    if (!fn.assetPath) throw new Error(`${fn.logicalId} has no aws:asset:path metadata`);
    return { logicalId: fn.logicalId, entry: fn.entry, handler: fn.handler, assetPath: fn.assetPath };
  });
  const manifest: BundlesManifest = {
    templateFile: path.relative(outdir, artifact.templateFullPath),
    functions,
  };
  writeFileSync(path.join(outdir, BUNDLES_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

main();
