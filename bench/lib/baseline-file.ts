import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Baseline, parseBaseline } from './baseline';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The committed baseline every run is compared with. */
export const BASELINE_FILE = path.join(REPO_ROOT, 'bench', 'baseline.json');
/** Where `npm run bench` writes its figures. */
export const BENCH_JSON = path.join(REPO_ROOT, 'bench-output', 'bench.json');

/** The baseline, or undefined when there is none yet. */
export function readBaselineFile(file = BASELINE_FILE): Baseline | undefined {
  if (!existsSync(file)) return undefined;
  return parseBaseline(readFileSync(file, 'utf8'), path.relative(process.cwd(), file));
}

export function writeBaselineFile(baseline: Baseline, file = BASELINE_FILE): void {
  writeFileSync(file, `${JSON.stringify(baseline, null, 2)}\n`);
}

/** The commit a run measures: short hash, `+dirty` when the work tree has changes; undefined outside git. */
export function currentCommit(): string | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const hash = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? hash : `${hash}+dirty`;
  } catch {
    return undefined;
  }
}
