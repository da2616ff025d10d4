import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { synthesizePortInTemplate } from '../local/cloudformation/synthesize';
import { lambdaFunctions } from '../local/cloudformation/template';
import { coldStartEnv } from './bundles';

/**
 * `npx tsx bench/profile-init.ts [--cdk-out <dir>] [<logicalId substring>…]`: where each bundle's cold init goes.
 * Loads the bundles `npm run bench -- --only bundles` built (bench-output/bundles/<logicalId>/index.mjs), or with
 * `--cdk-out` those of a `cdk synth` (the template's `aws:asset:path`; the directory inside the repository, so
 * that `@aws-sdk/*` resolves from its node_modules as the runtime's would), as the bench does (a fresh `node`, the
 * function's environment, `await import(bundle)`) under `--cpu-prof`, and prints the sampled time per source
 * module: the bundle's own code through its source map, `@aws-sdk/*` by package, the rest by Node's own module.
 * A package that is not listed ran no code at init.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const BUNDLES = path.join(REPO_ROOT, 'bench-output', 'bundles');
const PROBE = 'await import(process.argv[1]);';

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { url: string; lineNumber: number; columnNumber: number; functionName: string };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<pkg> (or @scope/pkg) of a path, else the path relative to the repository. */
function moduleOf(file: string): string {
  const at = file.lastIndexOf('node_modules/');
  if (at < 0) return path.relative(REPO_ROOT, file.replace(/^file:\/\//, '')) || file;
  const rest = file.slice(at + 'node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? file);
}

async function profile(logicalId: string, bundle: string, env: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringtonic-prof-'));
  try {
    const run = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        '--cpu-prof-interval=250',
        '--input-type=module',
        '-e',
        PROBE,
        pathToFileURL(bundle).href,
      ],
      { env, cwd: path.dirname(bundle), encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`${logicalId}: ${run.stderr}`);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`${logicalId}: no profile`);
    const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const parentOf = new Map<number, number>();
    for (const n of prof.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
    // Each sample goes to the innermost frame of the bundle (its source module) or of node_modules (its package):
    // time in Node's loader or in GC goes to the module whose code asked for it.
    const owner = new Map<number, string>();
    const ownerOf = (id: number): string => {
      const known = owner.get(id);
      if (known) return known;
      const frame = byId.get(id)?.callFrame;
      let where: string | undefined;
      if (frame?.url.endsWith('/index.mjs')) {
        const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
        where = `bundle: ${entry.originalSource ? moduleOf(entry.originalSource) : '(unmapped)'}`;
      } else if (frame?.url.includes('node_modules/')) where = moduleOf(frame.url);
      const parent = parentOf.get(id);
      where ??= parent === undefined ? `(${frame?.functionName || frame?.url || 'root'})` : ownerOf(parent);
      owner.set(id, where);
      return where;
    };
    const totals = new Map<string, number>();
    let total = 0;
    prof.samples.forEach((id, i) => {
      const us = prof.timeDeltas[i] ?? 0;
      total += us;
      let where = ownerOf(id);
      // Time no module's code asked for (Node's start, the loader, compiling the bundle): by what ran.
      if (where.startsWith('(')) {
        const frame = byId.get(id)?.callFrame;
        where = `node: ${frame?.url.replace(/^node:internal\//, '') || `(${frame?.functionName || 'program'})`}`;
      }
      totals.set(where, (totals.get(where) ?? 0) + us);
    });
    const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, 25);
    process.stdout.write(`\n${logicalId}: ${(total / 1000).toFixed(1)} ms sampled (self time per module)\n`);
    for (const [where, us] of rows) process.stdout.write(`  ${(us / 1000).toFixed(1).padStart(7)} ms  ${where}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--cdk-out');
  const cdkOut = at >= 0 ? path.resolve(args[at + 1] ?? 'cdk.out') : undefined;
  const filters = at >= 0 ? args.filter((_, i) => i !== at && i !== at + 1) : args;
  const template = cdkOut
    ? (JSON.parse(
        readFileSync(
          path.join(cdkOut, readdirSync(cdkOut).find((f) => f.endsWith('.template.json')) ?? 'missing'),
          'utf8',
        ),
      ) as Parameters<typeof lambdaFunctions>[0])
    : synthesizePortInTemplate();
  const functions = lambdaFunctions(template).filter(
    (fn) => filters.length === 0 || filters.some((f) => fn.logicalId.includes(f)),
  );
  for (const fn of functions) {
    const bundle =
      cdkOut && fn.assetPath
        ? path.join(cdkOut, fn.assetPath, 'index.mjs')
        : path.join(BUNDLES, fn.logicalId, 'index.mjs');
    await profile(fn.logicalId, bundle, coldStartEnv(fn));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
