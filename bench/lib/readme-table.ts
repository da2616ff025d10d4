import { type BenchOutput, DEFAULT_SCENARIOS } from './bench-output';

/** README's generated table sits between these two lines; everything outside them is left as it is. */
export const TABLE_START =
  '<!-- bench-table:start: `npm run bench:readme` writes what follows from bench-output/bench.json; do not edit it by hand -->';
export const TABLE_END = '<!-- bench-table:end -->';

const cell = (text: string) =>
  text
    .replace(/\s*\n\s*/g, ' ')
    // The run indents a cost's line items under their total; Markdown would drop the indent.
    .replace(/^\s+/, '… ')
    .replace(/\|/g, '\\|');

const result = (pass: boolean | null) => (pass === null ? '' : pass ? 'pass' : 'fail');

/** "2026-12-07 12:01 UTC" */
const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** The table README shows: one line per row of the run (scenario, figure, value, goal, pass), and where it was measured. */
export function benchTable(output: BenchOutput): string {
  const { machine } = output;
  const commit = output.commit ? ` at ${output.commit}` : '';
  const header =
    `Measured ${when(output.startedAt)} on ${machine.cpus} × ${machine.cpuModel} (${Math.round(machine.totalMemoryMb / 1000)} GB), ` +
    `Node ${machine.node}: \`npm run bench\`${commit}, ${output.durationSeconds} s; scenarios ${output.scenarios.join(', ')}.`;
  const lines = [
    header,
    '',
    '| scenario | figure | value | goal | |',
    '|---|---|---|---|---|',
    ...output.rows.map(
      (r) => `| ${cell(r.scenario)} | ${cell(r.figure)} | ${cell(r.value)} | ${cell(r.goal)} | ${result(r.pass)} |`,
    ),
  ];
  return lines.join('\n');
}

/** The scenarios a plain `npm run bench` runs that this run did not: a table without them would drop their figures. */
export function scenariosNotRun(output: BenchOutput): string[] {
  return DEFAULT_SCENARIOS.filter((s) => !output.scenarios.includes(s));
}

const lineIndexes = (lines: readonly string[], marker: string) =>
  lines.flatMap((line, i) => (line.trim() === marker ? [i] : []));

/** README with the lines between the markers replaced by `table`; fails unless each marker is there once, in order. */
export function replaceBenchTable(readme: string, table: string): string {
  const lines = readme.split('\n');
  const starts = lineIndexes(lines, TABLE_START);
  const ends = lineIndexes(lines, TABLE_END);
  if (starts.length !== 1 || ends.length !== 1) {
    throw new Error(
      `README needs the table markers once each, on lines of their own (found the start ${starts.length} times, the end ${ends.length} times):\n${TABLE_START}\n${TABLE_END}`,
    );
  }
  const [start, end] = [starts[0] as number, ends[0] as number];
  if (end < start) throw new Error('README has the bench table end marker before its start marker');
  return [...lines.slice(0, start + 1), '', table, '', ...lines.slice(end)].join('\n');
}
