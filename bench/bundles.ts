import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { TemplateLambdaFunction } from '../local/cloudformation/template';
import { median, round } from './lib/stats';

/**
 * Item 1: each Lambda's bundle as `cdk synth` builds it, and the time a fresh Node process takes to import it.
 *
 * The esbuild options are NodejsFunction's command line for ServiceFunction's `bundling` (aws-cdk-lib's
 * aws-lambda-nodejs/lib/bundling.js): --bundle --target=node22 --platform=node --format=esm --minify --sourcemap
 * --sources-content=false --external:@aws-sdk/* --banner:js=<the banner>. The banner is a private constant of
 * lib/constructs/service-function.ts, so it is read from that file, and the other options are checked there:
 * if the construct changes, the bench says so instead of measuring something else.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const SERVICE_FUNCTION = path.join(REPO_ROOT, 'lib/constructs/service-function.ts');

/** What ServiceFunction's `bundling` must still say for this bench to mirror it. */
const EXPECTED_BUNDLING = [
  'format: OutputFormat.ESM',
  'banner: ESM_REQUIRE_BANNER',
  'minify: true',
  'sourceMap: true',
  'sourcesContent: false',
  "target: 'node22'",
  "externalModules: ['@aws-sdk/*']",
  "NODE_OPTIONS: '--enable-source-maps'",
];

function serviceFunctionBundling(): { banner: string; drift: string[] } {
  const source = readFileSync(SERVICE_FUNCTION, 'utf8');
  const match = /const ESM_REQUIRE_BANNER =\s*"([^"]*)";/.exec(source);
  if (!match?.[1]) throw new Error(`ESM_REQUIRE_BANNER not found in ${SERVICE_FUNCTION}`);
  return { banner: match[1], drift: EXPECTED_BUNDLING.filter((text) => !source.includes(text)) };
}

/** Dummy values for the variables a handler validates at cold start (lambdas/shared/config.ts). */
const DUMMY_ENV: Record<string, string> = {
  TABLE_NAME: 'PortInTable',
  TWILIO_SECRET_PREFIX: 'ringtonic/twilio/',
  PUBLIC_BASE_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:PortInWorkflow',
  CALL_ROUTER_URL: 'https://calls.ringtonic.example/twilio/voice',
  SENDER_EMAIL: 'ports@ringtonic.example',
  SES_CONFIGURATION_SET: 'port-in',
  POLL_INTERVAL_SECONDS: '21600',
  REMINDER_INTERVAL_SECONDS: '259200',
  PORT_MAX_AGE_DAYS: '45',
};

/** The function's environment at cold start: literal template values, dummies for Refs, and what Lambda sets. */
export function coldStartEnv(fn: TemplateLambdaFunction): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: '/var/task',
  };
  for (const [key, value] of Object.entries(fn.environment)) {
    env[key] = typeof value === 'string' ? value : (DUMMY_ENV[key] ?? 'dummy');
  }
  return env;
}

export interface BundleFigures {
  readonly logicalId: string;
  readonly entry: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  readonly importsTwilio: boolean;
  readonly sizeGoalBytes: number;
  readonly sizePass: boolean;
  /** ms from process start (performance.timeOrigin) to after `await import(bundle)`, each run. */
  readonly initRunsMs: number[];
  readonly initMedianMs: number;
  /** The fastest run: less sensitive to other work on a shared machine. */
  readonly initMinMs: number;
  readonly initPass: boolean;
  /** The same without --enable-source-maps (for how much the source maps cost at cold start). */
  readonly initWithoutSourceMapsMedianMs: number;
  readonly error?: string;
}

export interface BundlesResult {
  readonly node: string;
  readonly esbuild: string;
  /** ServiceFunction options the bench could not find any more (empty: the bench mirrors the construct). */
  readonly bundlingDrift: string[];
  readonly initRuns: number;
  readonly functions: BundleFigures[];
}

const INIT_PROBE = [
  'try {',
  '  await import(process.argv[1]);',
  '  process.stdout.write(JSON.stringify({ ms: performance.now() }));',
  '} catch (error) {',
  '  process.stdout.write(JSON.stringify({ error: String(error && error.stack || error) }));',
  '}',
].join('\n');

/** One cold start: a fresh `node`, the function's environment, `await import(bundle)`; ms since process start. */
function probeInit(bundle: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', INIT_PROBE, pathToFileURL(bundle).href], {
      env,
      // The bundle's directory: bare `@aws-sdk/*` imports resolve from the repository's node_modules above it.
      cwd: path.dirname(bundle),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      err += text;
    });
    child.on('exit', () => {
      try {
        const answer = JSON.parse(out) as { ms?: number; error?: string };
        if (answer.error || answer.ms === undefined) reject(new Error(answer.error ?? err));
        else resolve(answer.ms);
      } catch {
        reject(new Error(`init probe printed ${out.slice(0, 200)} ${err.slice(0, 2000)}`));
      }
    });
  });
}

export const BUNDLE_GOAL_BYTES = 1_000_000;
export const BUNDLE_WITHOUT_TWILIO_GOAL_BYTES = 300_000;
export const INIT_GOAL_MS = 200;

export async function measureBundles(
  functions: readonly TemplateLambdaFunction[],
  outDir: string,
  runs: number,
  log: (line: string) => void,
): Promise<BundlesResult> {
  const { banner, drift } = serviceFunctionBundling();
  if (drift.length > 0)
    log(`  ! service-function.ts no longer says: ${drift.join('; ')} (bench/bundles.ts mirrors it)`);
  const esbuildVersion = (require('esbuild/package.json') as { version: string }).version;
  const results: BundleFigures[] = [];
  for (const fn of functions) {
    const outfile = path.join(outDir, fn.logicalId, 'index.mjs');
    const built = await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: [path.join(REPO_ROOT, fn.entry)],
      bundle: true,
      target: 'node22',
      platform: 'node',
      format: 'esm',
      outfile,
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: ['@aws-sdk/*'],
      banner: { js: banner },
      metafile: true,
      logLevel: 'error',
    });
    const importsTwilio = Object.keys(built.metafile.inputs).some((input) => input.includes('node_modules/twilio/'));
    const bytes = statSync(outfile).size;
    const sizeGoalBytes = importsTwilio ? BUNDLE_GOAL_BYTES : BUNDLE_WITHOUT_TWILIO_GOAL_BYTES;
    const env = coldStartEnv(fn);
    const withoutMaps = { ...env, NODE_OPTIONS: (env.NODE_OPTIONS ?? '').replace('--enable-source-maps', '').trim() };
    const initRunsMs: number[] = [];
    const withoutMapsMs: number[] = [];
    let error: string | undefined;
    try {
      // One unmeasured load first (the file system cache, as Lambda has the code on local disk), then alternate
      // the two variants so a slow moment of the machine hits both alike.
      await probeInit(outfile, env);
      for (let i = 0; i < runs; i += 1) {
        initRunsMs.push(round(await probeInit(outfile, env), 1));
        withoutMapsMs.push(round(await probeInit(outfile, withoutMaps), 1));
      }
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message.slice(0, 1000) : String(thrown);
    }
    const initMedianMs = round(median(initRunsMs), 1);
    const figures: BundleFigures = {
      logicalId: fn.logicalId,
      entry: fn.entry,
      bytes,
      sourceMapBytes: statSync(`${outfile}.map`).size,
      importsTwilio,
      sizeGoalBytes,
      sizePass: bytes <= sizeGoalBytes,
      initRunsMs,
      initMedianMs,
      initMinMs: initRunsMs.length > 0 ? Math.min(...initRunsMs) : Number.NaN,
      initPass: !error && initMedianMs <= INIT_GOAL_MS,
      initWithoutSourceMapsMedianMs: round(median(withoutMapsMs), 1),
      ...(error ? { error } : {}),
    };
    log(
      `  ${fn.logicalId.padEnd(28)} ${String(bytes).padStart(9)} B  init median ${initMedianMs} ms${error ? ` ERROR ${error.split('\n')[0]}` : ''}`,
    );
    results.push(figures);
  }
  return { node: process.version, esbuild: esbuildVersion, bundlingDrift: drift, initRuns: runs, functions: results };
}
