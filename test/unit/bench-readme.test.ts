import { type BenchOutput, DEFAULT_SCENARIOS } from '../../bench/lib/bench-output';
import { benchTable, replaceBenchTable, scenariosNotRun, TABLE_END, TABLE_START } from '../../bench/lib/readme-table';

const output = (overrides: Partial<BenchOutput> = {}): BenchOutput => ({
  startedAt: '2026-12-07T12:01:53.030Z',
  durationSeconds: 216.8,
  commit: 'be24fcf',
  machine: { cpus: 2, cpuModel: 'AMD EPYC', totalMemoryMb: 25_276, node: 'v20.20.2', platform: 'linux' },
  scenarios: ['bundles', 'port-cost'],
  rows: [
    { scenario: 'bundles', figure: 'submit-port-in bundle (twilio)', value: '872.3 KB', goal: '≤ 1000 KB', pass: true },
    {
      scenario: 'bundles',
      figure: 'submit-port-in cold init (median of 5)',
      value: '259 ms (min 240)',
      goal: '≤ 200 ms',
      pass: false,
    },
    {
      scenario: 'port-cost',
      figure: '  Step Functions state transitions',
      value: '267 transitions = $0.00668',
      goal: '',
      pass: null,
    },
    { scenario: 'port-cost', figure: 'a | b', value: 'line one\nline two', goal: '', pass: null },
  ],
  results: {},
  errors: {},
  ...overrides,
});

describe('benchTable: README table from bench.json', () => {
  const lines = benchTable(output()).split('\n');

  it('says when, where and at which commit the figures were measured, and which scenarios ran', () => {
    expect(lines[0]).toBe(
      'Measured 2026-12-07 12:01 UTC on 2 × AMD EPYC (25 GB), Node v20.20.2: `npm run bench` at be24fcf, 216.8 s; scenarios bundles, port-cost.',
    );
  });

  it('has one line per row of the run with its scenario, figure, value, goal and pass or fail', () => {
    expect(lines.slice(2)).toEqual([
      '| scenario | figure | value | goal | |',
      '|---|---|---|---|---|',
      '| bundles | submit-port-in bundle (twilio) | 872.3 KB | ≤ 1000 KB | pass |',
      '| bundles | submit-port-in cold init (median of 5) | 259 ms (min 240) | ≤ 200 ms | fail |',
      '| port-cost | … Step Functions state transitions | 267 transitions = $0.00668 |  |  |',
      '| port-cost | a \\| b | line one line two |  |  |',
    ]);
  });

  it('leaves the commit out for a bench.json written before runs recorded it', () => {
    const { commit: _, ...older } = output();
    expect(benchTable(older).split('\n')[0]).toContain('`npm run bench`, 216.8 s;');
  });
});

describe('scenariosNotRun', () => {
  it('is empty for a full run, with or without --large', () => {
    expect(scenariosNotRun(output({ scenarios: [...DEFAULT_SCENARIOS] }))).toEqual([]);
    expect(scenariosNotRun(output({ scenarios: [...DEFAULT_SCENARIOS, 'concurrent-ports-5000'] }))).toEqual([]);
  });

  it('names what an --only run left out', () => {
    expect(scenariosNotRun(output({ scenarios: ['bundles'] }))).toEqual(
      DEFAULT_SCENARIOS.filter((s) => s !== 'bundles'),
    );
  });
});

describe('replaceBenchTable', () => {
  const readme = [
    '# Title',
    '',
    '## Benchmarks',
    TABLE_START,
    '| old | table |',
    TABLE_END,
    '',
    'What the misses are.',
  ].join('\n');

  it('replaces what is between the markers and keeps everything else', () => {
    expect(replaceBenchTable(readme, 'NEW TABLE')).toBe(
      ['# Title', '', '## Benchmarks', TABLE_START, '', 'NEW TABLE', '', TABLE_END, '', 'What the misses are.'].join(
        '\n',
      ),
    );
  });

  it('gives the same README when run twice with the same table', () => {
    const once = replaceBenchTable(readme, benchTable(output()));
    expect(replaceBenchTable(once, benchTable(output()))).toBe(once);
  });

  it('refuses a README without the markers, with one twice, or with the end first', () => {
    expect(() => replaceBenchTable('# Title\n| old |', 'x')).toThrow(/found the start 0 times, the end 0 times/);
    expect(() => replaceBenchTable(`${readme}\n${TABLE_START}`, 'x')).toThrow(
      /found the start 2 times, the end 1 times/,
    );
    expect(() => replaceBenchTable([TABLE_END, 'x', TABLE_START].join('\n'), 'x')).toThrow(
      /end marker before its start/,
    );
  });
});
