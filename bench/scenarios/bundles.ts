import path from 'node:path';
import type { TemplateLambdaFunction } from '../../local/cloudformation/template';
import { type BundlesResult, measureBundles } from '../bundles';
import { scenarioMain } from '../lib/child';

/** Item 1 in its own process: build every Lambda as `cdk synth` does, then time its cold load (bench/bundles.ts). */
export interface BundlesConfig {
  readonly functions: readonly TemplateLambdaFunction[];
  readonly outDir: string;
  readonly initRuns: number;
}

async function main(config: BundlesConfig): Promise<BundlesResult> {
  return measureBundles(config.functions, path.resolve(config.outDir), config.initRuns, (line) => console.log(line));
}

if (require.main === module) scenarioMain(main);
