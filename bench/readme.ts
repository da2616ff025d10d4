import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_JSON } from './lib/baseline-file';
import type { BenchOutput } from './lib/bench-output';
import { benchTable, replaceBenchTable, scenariosNotRun } from './lib/readme-table';

/**
 * `npm run bench:readme [-- --partial]`: replaces README's benchmark table (between its bench-table markers) with
 * one made from bench-output/bench.json. Refuses a run that left out some of `npm run bench`'s scenarios, whose
 * figures the table would lose, unless `--partial` says that is meant.
 */
function main(): void {
  const readmeFile = path.resolve(__dirname, '..', 'README.md');
  const output = JSON.parse(readFileSync(BENCH_JSON, 'utf8')) as BenchOutput;
  const notRun = scenariosNotRun(output);
  if (notRun.length > 0 && !process.argv.includes('--partial')) {
    throw new Error(
      `${path.relative(process.cwd(), BENCH_JSON)} is a run without ${notRun.join(', ')}: README's table would lose ` +
        'their figures. Run `npm run bench` (every scenario), or pass `-- --partial` to show only what this run ran.',
    );
  }
  writeFileSync(readmeFile, replaceBenchTable(readFileSync(readmeFile, 'utf8'), benchTable(output)));
  process.stdout.write(
    `README.md: table of ${output.rows.length} rows from the run of ${output.startedAt} (${output.scenarios.join(', ')})\n`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
