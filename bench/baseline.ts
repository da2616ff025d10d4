import { readFileSync } from 'node:fs';
import path from 'node:path';
import { baselineSource, updateBaseline } from './lib/baseline';
import { BASELINE_FILE, BENCH_JSON, readBaselineFile, writeBaselineFile } from './lib/baseline-file';
import type { BenchOutput } from './lib/bench-output';
import { benchFigures } from './lib/figures';

/**
 * `npm run bench:baseline [-- --from <bench.json>]`: makes a run already made the baseline, without running it again
 * (`npm run bench -- --update-baseline` is the same at the end of a run). Only the scenarios that run finished are
 * replaced; the others keep their baseline figures.
 */
function main(): void {
  const at = process.argv.indexOf('--from');
  const from = at >= 0 ? path.resolve(process.argv[at + 1] ?? '') : BENCH_JSON;
  const output = JSON.parse(readFileSync(from, 'utf8')) as BenchOutput;
  const { baseline, updated, kept } = updateBaseline(readBaselineFile(), benchFigures(output), baselineSource(output));
  writeBaselineFile(baseline);
  const rel = (file: string) => path.relative(process.cwd(), file);
  process.stdout.write(
    `${rel(BASELINE_FILE)}: ${updated.join(', ') || 'no scenario'} from ${rel(from)} (${output.startedAt})` +
      `${kept.length > 0 ? `; kept ${kept.join(', ')}` : ''}\n`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
