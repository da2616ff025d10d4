import {
  type Baseline,
  type BaselineFigure,
  compareWithBaseline,
  formatComparison,
  parseBaseline,
  REGRESSION_THRESHOLD,
  updateBaseline,
  worseBy,
} from '../../bench/lib/baseline';
import type { BenchCosts, BenchOutput } from '../../bench/lib/bench-output';
import { benchFigures, type Figure } from '../../bench/lib/figures';

const figure = (id: string, value: number, better: Figure['better'], unit: Figure['unit'] = 'ms'): Figure => ({
  id,
  scenario: id.split('/')[0] as string,
  label: id,
  unit,
  better,
  value,
});

const baselineOf = (...figures: Figure[]): Baseline => ({
  about: 'test',
  scenarios: Object.fromEntries(
    figures.map((f) => [f.scenario, { measuredAt: '2026-12-01T00:00:00.000Z', source: 'an earlier run' }]),
  ),
  figures: Object.fromEntries(figures.map(({ id, ...rest }): [string, BaselineFigure] => [id, rest])),
});

const ran = (...scenarios: string[]) => ({ scenarios, failed: [] });
const ids = (changes: readonly { id: string }[]) => changes.map((c) => c.id);

describe('worseBy: how much worse a figure is than its baseline, in its direction', () => {
  it('a time, memory or cost that went up is worse', () => {
    expect(worseBy('lower', 200, 250)).toBeCloseTo(0.25);
    expect(worseBy('lower', 200, 150)).toBeCloseTo(-0.25);
  });

  it('a throughput that went down is worse', () => {
    expect(worseBy('higher', 200, 150)).toBeCloseTo(0.25);
    expect(worseBy('higher', 200, 250)).toBeCloseTo(-0.25);
  });

  it('from a baseline of 0, any step the wrong way is infinitely worse and none is no change', () => {
    expect(worseBy('lower', 0, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(worseBy('lower', 0, 0)).toBe(0);
    expect(worseBy('higher', 0, 3)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('compareWithBaseline', () => {
  it('reports a time more than 20 % above its baseline, and not one exactly 20 % above', () => {
    const baseline = baselineOf(
      figure('bundles/a/init-median-ms', 100, 'lower'),
      figure('bundles/b/init-median-ms', 100, 'lower'),
    );
    const result = compareWithBaseline(
      baseline,
      [figure('bundles/a/init-median-ms', 120.5, 'lower'), figure('bundles/b/init-median-ms', 120, 'lower')],
      ran('bundles'),
    );
    expect(REGRESSION_THRESHOLD).toBe(0.2);
    expect(ids(result.regressions)).toEqual(['bundles/a/init-median-ms']);
    expect(ids(result.withinThreshold)).toEqual(['bundles/b/init-median-ms']);
  });

  it('holds exactly 20 % worse within the threshold whatever the floating point does (0.7 s → 0.84 s)', () => {
    const baseline = baselineOf(figure('import-order/submit-s', 0.7, 'lower', 's'));
    const result = compareWithBaseline(
      baseline,
      [figure('import-order/submit-s', 0.84, 'lower', 's')],
      ran('import-order'),
    );
    expect(result.regressions).toEqual([]);
  });

  it('reports a throughput more than 20 % below its baseline, and takes a faster time or a higher throughput as better', () => {
    const baseline = baselineOf(
      figure('webhook-ingest/service/throughput', 231, 'higher', 'per-second'),
      figure('webhook-ingest/service/p50-ms', 61, 'lower'),
      figure('webhook-ingest/service-percent-of-floor', 28, 'higher', 'percent'),
    );
    const result = compareWithBaseline(
      baseline,
      [
        figure('webhook-ingest/service/throughput', 146, 'higher', 'per-second'),
        figure('webhook-ingest/service/p50-ms', 30, 'lower'),
        figure('webhook-ingest/service-percent-of-floor', 70, 'higher', 'percent'),
      ],
      ran('webhook-ingest'),
    );
    expect(ids(result.regressions)).toEqual(['webhook-ingest/service/throughput']);
    expect(result.regressions[0]?.worseBy).toBeCloseTo((231 - 146) / 231);
    expect(ids(result.improvements)).toEqual([
      'webhook-ingest/service/p50-ms',
      'webhook-ingest/service-percent-of-floor',
    ]);
  });

  it('reports a count that left 0 (emails sent twice) as a regression', () => {
    const baseline = baselineOf(figure('outage/duplicate-emails', 0, 'lower', 'count'));
    const result = compareWithBaseline(
      baseline,
      [figure('outage/duplicate-emails', 1, 'lower', 'count')],
      ran('outage'),
    );
    expect(ids(result.regressions)).toEqual(['outage/duplicate-emails']);
  });

  it('takes the direction from the run, not from the baseline file', () => {
    const baseline = baselineOf(figure('port-cost/port-usd', 0.01, 'higher', 'usd'));
    const result = compareWithBaseline(
      baseline,
      [figure('port-cost/port-usd', 0.02, 'lower', 'usd')],
      ran('port-cost'),
    );
    expect(ids(result.regressions)).toEqual(['port-cost/port-usd']);
  });

  it('lists the worst regression first', () => {
    const baseline = baselineOf(
      figure('crashes/wall-s', 100, 'lower', 's'),
      figure('crashes/peak-memory-mb', 100, 'lower', 'MB'),
    );
    const result = compareWithBaseline(
      baseline,
      [figure('crashes/wall-s', 130, 'lower', 's'), figure('crashes/peak-memory-mb', 200, 'lower', 'MB')],
      ran('crashes'),
    );
    expect(ids(result.regressions)).toEqual(['crashes/peak-memory-mb', 'crashes/wall-s']);
  });

  it('reports a figure the baseline lacks as new, not as a regression', () => {
    const result = compareWithBaseline(
      baselineOf(),
      [figure('bundles/a/bytes', 900_000, 'lower', 'bytes')],
      ran('bundles'),
    );
    expect(ids(result.added)).toEqual(['bundles/a/bytes']);
    expect(result.regressions).toEqual([]);
  });

  it('reports a baseline figure of a scenario that ran but did not produce it as missing, saying when the scenario failed', () => {
    const baseline = baselineOf(
      figure('bundles/gone/bytes', 1000, 'lower', 'bytes'),
      figure('crashes/wall-s', 190, 'lower', 's'),
    );
    const result = compareWithBaseline(baseline, [], { scenarios: ['bundles', 'crashes'], failed: ['crashes'] });
    expect(result.missing.map((m) => [m.id, m.scenarioFailed])).toEqual([
      ['bundles/gone/bytes', false],
      ['crashes/wall-s', true],
    ]);
    expect(result.regressions).toEqual([]);
  });

  it('does not compare, nor call missing, the figures of a scenario that was not run', () => {
    const baseline = baselineOf(
      figure('bundles/a/bytes', 1000, 'lower', 'bytes'),
      figure('outage/wall-s', 90, 'lower', 's'),
      figure('outage/failed', 0, 'lower', 'count'),
    );
    const result = compareWithBaseline(baseline, [figure('bundles/a/bytes', 1000, 'lower', 'bytes')], ran('bundles'));
    expect(result.missing).toEqual([]);
    expect(result.notRun).toEqual([{ scenario: 'outage', figures: 2 }]);
    expect(ids(result.withinThreshold)).toEqual(['bundles/a/bytes']);
  });
});

describe('formatComparison', () => {
  it('prints every regression on its own line with the value, the baseline and how much worse', () => {
    const baseline = baselineOf(
      figure('webhook-ingest/service/throughput', 231, 'higher', 'per-second'),
      figure('crashes/duplicate-emails', 0, 'lower', 'count'),
      figure('crashes/wall-s', 190, 'lower', 's'),
    );
    const result = compareWithBaseline(
      baseline,
      [
        figure('webhook-ingest/service/throughput', 146, 'higher', 'per-second'),
        figure('crashes/duplicate-emails', 4, 'lower', 'count'),
        figure('crashes/new-figure', 1, 'lower', 'count'),
      ],
      { scenarios: ['webhook-ingest', 'crashes'], failed: [] },
    );
    const text = formatComparison(result, 'bench/baseline.json').join('\n');
    expect(text).toContain('2 figures compared, 2 more than 20 % worse:');
    expect(text).toContain('✗ webhook-ingest  webhook-ingest/service/throughput: 146/s, baseline 231/s (36.8 % worse)');
    expect(text).toContain('✗ crashes  crashes/duplicate-emails: 4, baseline 0');
    expect(text).toContain('+ crashes  crashes/new-figure: 1');
    expect(text).toContain('- crashes  crashes/wall-s: baseline 190 s');
  });

  it('says so when no figure is more than 20 % worse', () => {
    const baseline = baselineOf(figure('bundles/a/bytes', 1000, 'lower', 'bytes'));
    const result = compareWithBaseline(baseline, [figure('bundles/a/bytes', 1100, 'lower', 'bytes')], ran('bundles'));
    expect(formatComparison(result, 'bench/baseline.json')).toEqual([
      'Baseline (bench/baseline.json): 1 figures compared, none more than 20 % worse.',
    ]);
  });
  it('says when none of the figures is in the baseline, rather than that none got worse', () => {
    const result = compareWithBaseline(
      baselineOf(),
      [figure('bundles/a/bytes', 1000, 'lower', 'bytes')],
      ran('bundles'),
    );
    expect(formatComparison(result, 'bench/baseline.json')[0]).toBe(
      "Baseline (bench/baseline.json): none of this run's figures is in it.",
    );
  });
});

describe('updateBaseline', () => {
  const source = { measuredAt: '2026-12-07T13:00:00.000Z', source: 'npm run bench at abc1234' };

  it('replaces the figures of the scenarios the run finished and keeps the others', () => {
    const before = baselineOf(
      figure('bundles/a/bytes', 1000, 'lower', 'bytes'),
      figure('bundles/removed/bytes', 500, 'lower', 'bytes'),
      figure('outage/wall-s', 90, 'lower', 's'),
    );
    const { baseline, updated, kept } = updateBaseline(before, [figure('bundles/a/bytes', 1200, 'lower', 'bytes')], {
      ...source,
      scenarios: ['bundles'],
      failed: [],
    });
    expect(Object.keys(baseline.figures)).toEqual(['bundles/a/bytes', 'outage/wall-s']);
    expect(baseline.figures['bundles/a/bytes']?.value).toBe(1200);
    expect(baseline.scenarios.bundles).toEqual(source);
    expect(baseline.scenarios.outage).toEqual(before.scenarios.outage);
    expect([updated, kept]).toEqual([['bundles'], ['outage']]);
  });

  it('keeps the baseline of a scenario that did not finish', () => {
    const before = baselineOf(figure('crashes/wall-s', 190, 'lower', 's'));
    const { baseline, kept } = updateBaseline(before, [], { ...source, scenarios: ['crashes'], failed: ['crashes'] });
    expect(baseline.figures['crashes/wall-s']?.value).toBe(190);
    expect(kept).toEqual(['crashes']);
  });

  it('writes a first baseline, scenarios in the order the bench runs them, that reads back', () => {
    const { baseline } = updateBaseline(
      undefined,
      [figure('import-order/total-s', 12.9, 'lower', 's'), figure('bundles/a/bytes', 1000, 'lower', 'bytes')],
      { ...source, scenarios: ['import-order', 'bundles'], failed: [] },
    );
    expect(Object.keys(baseline.scenarios)).toEqual(['bundles', 'import-order']);
    expect(parseBaseline(JSON.stringify(baseline), 'baseline.json')).toEqual(baseline);
  });
});

describe('parseBaseline', () => {
  it('names what is wrong and where', () => {
    const bad = {
      about: 'x',
      scenarios: {},
      figures: { 'bundles/a/bytes': { scenario: 'bundles', label: 'a', unit: 'KB', better: 'lower', value: 1 } },
    };
    expect(() => parseBaseline(JSON.stringify(bad), 'bench/baseline.json')).toThrow(
      /bench\/baseline\.json is not a bench baseline: figures\.bundles\/a\/bytes\.unit/,
    );
  });
});

describe('benchFigures: the figures a bench.json gives, with their direction', () => {
  const load = (throughputPerSecond: number, p50Ms: number, p99Ms: number) => ({
    requests: 1500,
    ok: 1500,
    statuses: { 200: 1500 },
    seconds: 1,
    throughputPerSecond,
    p50Ms,
    p99Ms,
  });
  const line = (item: string, usd: number) => ({ item, quantity: 1, unit: 'x', usd });
  const output: BenchOutput = {
    startedAt: '2026-12-07T12:00:00.000Z',
    durationSeconds: 300,
    machine: { cpus: 2, cpuModel: 'AMD EPYC', totalMemoryMb: 25_276, node: 'v20.20.2', platform: 'linux' },
    scenarios: ['bundles', 'webhook-ingest', 'port-cost', 'import-order', 'crashes'],
    rows: [],
    results: {
      bundles: {
        functions: [
          { entry: 'lambdas/handlers/workflow/submit-port-in.ts', bytes: 872_000, initMedianMs: 180 },
          { entry: 'lambdas/handlers/api/twilio-webhook.ts', bytes: 233_000, initMedianMs: Number.NaN, error: 'boom' },
        ],
      },
      'webhook-ingest': { floor: load(528, 28, 50), service: load(146, 61, 181) },
      'port-cost': {},
      'import-order': {
        split: { seconds: 5.58 },
        submit: { seconds: 0.31 },
        import: { seconds: 7.03 },
        totalSeconds: 12.92,
        ratio: 3.92,
      },
      crashes: {
        portRequests: 200,
        wallSeconds: 189.4,
        succeeded: 200,
        failed: 0,
        duplicateEmails: 10,
        duplicateImports: 0,
        memoryMb: { afterStart: 585, peak: 2296 },
      },
    },
    costs: {
      port: { totalUsd: 0.0089, lines: [line('Step Functions state transitions', 0.0067)] },
      poller: { totalUsd: 0.464, lines: [] },
      bareLambdaPoller: { totalUsd: 0.01, lines: [] },
    } as unknown as BenchCosts,
    errors: {},
  };
  const byId = new Map(benchFigures(output).map((f) => [f.id, f]));
  const direction = (id: string) => [byId.get(id)?.better, byId.get(id)?.value];

  it('times, sizes, memory, cost and the ratio to a floor are better lower', () => {
    expect(direction('bundles/submit-port-in/bytes')).toEqual(['lower', 872_000]);
    expect(direction('bundles/submit-port-in/init-median-ms')).toEqual(['lower', 180]);
    expect(direction('webhook-ingest/service/p99-ms')).toEqual(['lower', 181]);
    expect(direction('port-cost/port-usd')).toEqual(['lower', 0.0089]);
    expect(direction('port-cost/port/step-functions-state-transitions-usd')).toEqual(['lower', 0.0067]);
    expect(direction('import-order/ratio-to-floor')).toEqual(['lower', 3.92]);
    expect(direction('crashes/peak-memory-mb')).toEqual(['lower', 2296]);
    expect(direction('crashes/duplicate-emails')).toEqual(['lower', 10]);
  });

  it('throughput, percent of the floor and the poller-over-port factor are better higher', () => {
    expect(direction('webhook-ingest/service/throughput')).toEqual(['higher', 146]);
    expect(direction('webhook-ingest/service-percent-of-floor')).toEqual(['higher', 27.7]);
    expect(direction('port-cost/poller-over-port')).toEqual(['higher', 52.1]);
    expect(direction('crashes/succeeded')).toEqual(['higher', 200]);
  });

  it('leaves out what was not measured: a failed cold init, a scenario that did not run', () => {
    expect(byId.has('bundles/twilio-webhook/bytes')).toBe(true);
    expect(byId.has('bundles/twilio-webhook/init-median-ms')).toBe(false);
    expect([...byId.values()].filter((f) => f.scenario === 'outage')).toEqual([]);
  });

  it('gives every figure its own id', () => {
    expect(byId.size).toBe(benchFigures(output).length);
  });
});
