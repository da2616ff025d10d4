import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { CloudFormationTemplate } from '../cloudformation/synthesize';

/**
 * The functions' code as Lambda runs it: the bundles `cdk synth` stages for the NodejsFunctions (ESM, minified,
 * `@aws-sdk/*` external), and the template of that same synth, cached on disk.
 *
 * The cache lives in `<repo>/cdk.out.local/<key>/` (gitignored): inside the repository, so that a bundle's
 * `import '@aws-sdk/…'` resolves from the repository's node_modules by walking up, as it resolves from the
 * runtime's SDK in Lambda; and not under DATA_DIR, which can be anywhere. The key hashes everything the synth
 * reads: lambdas/**, lib/**, cdk.json, package-lock.json, tsconfig.json, the synth code itself, esbuild's version
 * and the context the stack passes. A change to any of them makes a new entry; the test suite and `npm start`
 * otherwise synthesize once, not per stack start. Concurrent processes (jest workers) take a lock file; the synth
 * writes into a temporary directory renamed into place, so a reader never sees half an entry.
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where the cache lives by default. */
export const DEFAULT_BUNDLE_CACHE_DIR = path.join(REPO_ROOT, 'cdk.out.local');

/** The file synth-main.ts writes in each entry. */
export const BUNDLES_MANIFEST = 'local-bundles.json';

/** Bumped when the layout of an entry changes. */
const FORMAT = 1;

/** Inputs of the synth, relative to the repository root (directories are walked). */
const INPUTS = [
  'lambdas',
  'lib',
  'cdk.json',
  'package-lock.json',
  'tsconfig.json',
  'local/cloudformation/synthesize.ts',
  'local/cloudformation/template.ts',
  'local/lambda/synth-main.ts',
];

/** How long a lock may be held before another process takes it over (a synth that died). */
const STALE_LOCK_MS = 180_000;
/** Entries not used for this long are deleted (the two newest are always kept). */
const PRUNE_AFTER_MS = 24 * 3600_000;

/** What synth-main.ts writes: the stack's template file and each function's asset directory. */
export interface BundlesManifest {
  readonly templateFile: string;
  readonly functions: ReadonlyArray<{
    readonly logicalId: string;
    readonly entry: string;
    readonly handler: string;
    /** Relative to the entry's directory. */
    readonly assetPath: string;
  }>;
}

/** One cached synth: its template and, per function logical id, the directory holding its `index.mjs`. */
export interface BundledAssembly {
  readonly key: string;
  readonly dir: string;
  readonly template: CloudFormationTemplate;
  /** Absolute bundle directory (Lambda's `/var/task`) by function logical id. */
  readonly bundleDirs: ReadonlyMap<string, string>;
  /** Whether this call ran the synth (false: the cache had it). */
  readonly synthesized: boolean;
}

export interface BundledAssemblyOptions {
  /** The context overrides the stack synthesizes with (part of the key). */
  readonly context?: Record<string, unknown>;
  /** @default DEFAULT_BUNDLE_CACHE_DIR */
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

function filesUnder(relative: string): string[] {
  const absolute = path.join(REPO_ROOT, relative);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [relative];
  return readdirSync(absolute, { withFileTypes: true })
    .filter((entry) => entry.name !== 'node_modules' && !entry.name.startsWith('.'))
    .flatMap((entry) => filesUnder(path.join(relative, entry.name)));
}

/** The cache key: a hash of every input of the synth, esbuild's version and the context. */
export function bundleCacheKey(context: Record<string, unknown> = {}): string {
  const hash = createHash('sha256');
  hash.update(`format ${FORMAT}\0`);
  const esbuildVersion = (require('esbuild/package.json') as { version: string }).version;
  hash.update(`esbuild ${esbuildVersion}\0context ${JSON.stringify(context)}\0`);
  const files = INPUTS.flatMap(filesUnder)
    .map((file) => file.split(path.sep).join('/'))
    .sort();
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(REPO_ROOT, file)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 24);
}

function readEntry(key: string, dir: string, synthesized: boolean): BundledAssembly | undefined {
  const manifestFile = path.join(dir, BUNDLES_MANIFEST);
  if (!existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BundlesManifest;
  const template = JSON.parse(readFileSync(path.join(dir, manifest.templateFile), 'utf8')) as CloudFormationTemplate;
  const bundleDirs = new Map<string, string>();
  for (const fn of manifest.functions) {
    const bundleDir = path.join(dir, fn.assetPath);
    if (!existsSync(path.join(bundleDir, 'index.mjs'))) return undefined;
    bundleDirs.set(fn.logicalId, bundleDir);
  }
  return { key, dir, template, bundleDirs, synthesized };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs synth-main.ts in a child process (tsx), into `outdir`. */
function runSynth(outdir: string, context: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'synth-main.ts'), outdir, JSON.stringify(context)],
      { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`The bundling synth failed (${signal ?? `exit ${code}`}):\n${output.join('')}`));
    });
  });
}

/** Deletes entries nobody used for a day, keeping the two newest. */
function prune(cacheDir: string, keep: string): void {
  const entries = readdirSync(cacheDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== keep)
    .map((entry) => {
      const dir = path.join(cacheDir, entry.name);
      const used = path.join(dir, 'last-used');
      return { dir, at: existsSync(used) ? statSync(used).mtimeMs : statSync(dir).mtimeMs };
    })
    .sort((a, b) => b.at - a.at);
  for (const { dir, at } of entries.slice(1)) {
    if (Date.now() - at > PRUNE_AFTER_MS) rmSync(dir, { recursive: true, force: true });
  }
  // Temporary directories of synths that died.
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith('.tmp-')) continue;
    const dir = path.join(cacheDir, entry);
    if (Date.now() - statSync(dir).mtimeMs > STALE_LOCK_MS) rmSync(dir, { recursive: true, force: true });
  }
}

function touch(file: string): void {
  const now = new Date();
  try {
    utimesSync(file, now, now);
  } catch {
    writeFileSync(file, '');
  }
}

/**
 * The template and the function bundles of one synth WITH bundling, from the cache, synthesizing (about 15 s) when
 * the cache has no entry for the current inputs.
 */
export async function bundledAssembly(options: BundledAssemblyOptions = {}): Promise<BundledAssembly> {
  const context = options.context ?? {};
  const cacheDir = options.cacheDir ?? DEFAULT_BUNDLE_CACHE_DIR;
  const log = options.log ?? (() => undefined);
  mkdirSync(cacheDir, { recursive: true });
  const key = bundleCacheKey(context);
  const dir = path.join(cacheDir, key);
  const lock = path.join(cacheDir, `.${key}.lock`);
  const deadline = Date.now() + 2 * STALE_LOCK_MS;

  for (;;) {
    const cached = readEntry(key, dir, false);
    if (cached) {
      touch(path.join(dir, 'last-used'));
      return cached;
    }
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (fd === undefined) {
      // Another process is synthesizing this key: wait for its entry, or take over a lock it left behind.
      if (Date.now() > deadline) throw new Error(`Gave up waiting for the bundling synth holding ${lock}`);
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      } catch {
        // gone meanwhile
      }
      await sleep(250);
      continue;
    }
    closeSync(fd);
    try {
      const again = readEntry(key, dir, false);
      if (again) return again;
      const tmp = path.join(cacheDir, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
      log(`[lambda] bundling the functions (cdk synth with esbuild) into ${path.relative(REPO_ROOT, dir)}`);
      const started = Date.now();
      try {
        await runSynth(tmp, context);
        touch(path.join(tmp, 'last-used'));
        renameSync(tmp, dir);
      } catch (error) {
        rmSync(tmp, { recursive: true, force: true });
        // Someone else's entry got there first (a lock taken over too early): theirs is as good.
        if (!readEntry(key, dir, false)) throw error;
      }
      log(`[lambda] bundled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      prune(cacheDir, key);
      const entry = readEntry(key, dir, true);
      if (!entry) throw new Error(`The bundling synth left no usable entry in ${dir}`);
      return entry;
    } finally {
      rmSync(lock, { force: true });
    }
  }
}
