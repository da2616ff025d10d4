import * as z from 'zod/mini';
import { type BenchOutput, SCENARIOS } from './bench-output';
import { type Better, type Figure, formatFigure, type Unit } from './figures';

/** A figure this much worse than its baseline (relative to the baseline value) is a regression: 0.2 is 20 %. */
export const REGRESSION_THRESHOLD = 0.2;
/** Keeps a figure exactly at the threshold (120 ms against 100 ms) from being one by a rounding error. */
const EPSILON = 1e-9;

const UNITS = ['bytes', 'ms', 's', 'MB', 'per-second', 'percent', 'times', 'usd', 'count'] as const satisfies Unit[];

const baselineFigureSchema = z.object({
  scenario: z.string(),
  label: z.string(),
  unit: z.enum(UNITS),
  better: z.enum(['lower', 'higher']),
  value: z.number(),
});
const baselineSchema = z.object({
  about: z.string(),
  /** When and from what each scenario's figures were taken. */
  scenarios: z.record(z.string(), z.object({ measuredAt: z.string(), source: z.string() })),
  figures: z.record(z.string(), baselineFigureSchema),
});

export type BaselineFigure = z.infer<typeof baselineFigureSchema>;
/** bench/baseline.json: the figures each run is compared with, keyed by figure id. */
export type Baseline = z.infer<typeof baselineSchema>;

export const BASELINE_ABOUT =
  'The figures `npm run bench` compares each run with; it prints every figure more than 20 % worse. Written only on ' +
  'purpose: `npm run bench -- --update-baseline` (the scenarios that run ran) or `npm run bench:baseline` (from ' +
  'bench-output/bench.json). See bench/README.md.';

/** Reads bench/baseline.json; a file that does not fit the schema fails with what is wrong where. */
export function parseBaseline(text: string, file: string): Baseline {
  const result = baselineSchema.safeParse(JSON.parse(text));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${file} is not a bench baseline: ${problems}`);
  }
  return result.data;
}

/**
 * How much worse `value` is than `baseline`, as a fraction of the baseline, in the figure's direction: 0.25 is 25 %
 * worse, negative is better. From a baseline of 0 any step the wrong way is infinitely worse (0 emails twice → 1).
 */
export function worseBy(better: Better, baseline: number, value: number): number {
  const delta = better === 'lower' ? value - baseline : baseline - value;
  if (baseline === 0) return delta === 0 ? 0 : delta > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return delta / Math.abs(baseline);
}

/** A figure of the run beside its baseline value. */
export interface FigureChange extends Figure {
  readonly baseline: number;
  readonly worseBy: number;
}

/** The baseline figures of a scenario the run did not run: not compared. */
export interface NotRun {
  readonly scenario: string;
  readonly figures: number;
}

export interface MissingFigure extends BaselineFigure {
  readonly id: string;
  /** Its scenario ran but did not finish. */
  readonly scenarioFailed: boolean;
}

export interface Comparison {
  /** More than REGRESSION_THRESHOLD worse, worst first. */
  readonly regressions: readonly FigureChange[];
  /** More than REGRESSION_THRESHOLD better: the baseline may be due an update. */
  readonly improvements: readonly FigureChange[];
  readonly withinThreshold: readonly FigureChange[];
  /** In the run, not in the baseline. */
  readonly added: readonly Figure[];
  /** In the baseline, in a scenario the run ran, not in the run. */
  readonly missing: readonly MissingFigure[];
  readonly notRun: readonly NotRun[];
}

/** What the run was asked to do, and which of those scenarios did not finish. */
export interface RunScope {
  readonly scenarios: readonly string[];
  readonly failed: readonly string[];
}

/**
 * Compares a run's figures with the baseline. The direction is the run's (the code that measures decides it); only
 * figures of scenarios the run ran are compared, and a figure on one side only is reported as new or missing.
 */
export function compareWithBaseline(baseline: Baseline, figures: readonly Figure[], run: RunScope): Comparison {
  const regressions: FigureChange[] = [];
  const improvements: FigureChange[] = [];
  const withinThreshold: FigureChange[] = [];
  const added: Figure[] = [];
  for (const figure of figures) {
    const base = baseline.figures[figure.id];
    if (!base) {
      added.push(figure);
      continue;
    }
    const change = { ...figure, baseline: base.value, worseBy: worseBy(figure.better, base.value, figure.value) };
    if (change.worseBy > REGRESSION_THRESHOLD + EPSILON) regressions.push(change);
    else if (change.worseBy < -REGRESSION_THRESHOLD - EPSILON) improvements.push(change);
    else withinThreshold.push(change);
  }
  const inRun = new Set(figures.map((f) => f.id));
  const missing: MissingFigure[] = [];
  const notRunCounts = new Map<string, number>();
  for (const [id, base] of Object.entries(baseline.figures)) {
    if (inRun.has(id)) continue;
    if (run.scenarios.includes(base.scenario)) {
      missing.push({ id, ...base, scenarioFailed: run.failed.includes(base.scenario) });
    } else {
      notRunCounts.set(base.scenario, (notRunCounts.get(base.scenario) ?? 0) + 1);
    }
  }
  regressions.sort((a, b) => b.worseBy - a.worseBy);
  return {
    regressions,
    improvements,
    withinThreshold,
    added,
    missing,
    notRun: [...notRunCounts].map(([scenario, count]) => ({ scenario, figures: count })),
  };
}

/** "146/s, baseline 231/s (36.8 % worse)"; from a baseline of 0 the percentage says nothing and is left out. */
const describeChange = (change: FigureChange) => {
  const how = Number.isFinite(change.worseBy)
    ? ` (${Math.round(Math.abs(change.worseBy) * 1000) / 10} % ${change.worseBy > 0 ? 'worse' : 'better'})`
    : '';
  return `${change.scenario}  ${change.label}: ${formatFigure(change.value, change.unit)}, baseline ${formatFigure(change.baseline, change.unit)}${how}`;
};

/** The comparison as `npm run bench` prints it: every regression on its own line, the rest summed up. */
export function formatComparison(comparison: Comparison, baselineFile: string): string[] {
  const compared = comparison.regressions.length + comparison.improvements.length + comparison.withinThreshold.length;
  const threshold = `${REGRESSION_THRESHOLD * 100} %`;
  const lines = [
    compared === 0
      ? `Baseline (${baselineFile}): none of this run's figures is in it.`
      : comparison.regressions.length === 0
        ? `Baseline (${baselineFile}): ${compared} figures compared, none more than ${threshold} worse.`
        : `Baseline (${baselineFile}): ${compared} figures compared, ${comparison.regressions.length} more than ${threshold} worse:`,
  ];
  for (const change of comparison.regressions) lines.push(`  ✗ ${describeChange(change)}`);
  if (comparison.improvements.length > 0) {
    lines.push(
      `${comparison.improvements.length} more than ${threshold} better (\`npm run bench -- --update-baseline\` makes them the baseline):`,
    );
    for (const change of comparison.improvements) lines.push(`  ✓ ${describeChange(change)}`);
  }
  if (comparison.added.length > 0) {
    lines.push(`New, not in the baseline (${comparison.added.length}):`);
    for (const f of comparison.added) lines.push(`  + ${f.scenario}  ${f.label}: ${formatFigure(f.value, f.unit)}`);
  }
  if (comparison.missing.length > 0) {
    lines.push(`In the baseline, missing from this run (${comparison.missing.length}):`);
    for (const f of comparison.missing) {
      const why = f.scenarioFailed ? ` (${f.scenario} did not finish)` : '';
      lines.push(`  - ${f.scenario}  ${f.label}: baseline ${formatFigure(f.value, f.unit)}${why}`);
    }
  }
  if (comparison.notRun.length > 0) {
    const scenarios = comparison.notRun.map((n) => `${n.scenario} (${n.figures})`).join(', ');
    lines.push(`Not run, not compared: ${scenarios}.`);
  }
  return lines;
}

/** Where a run's figures came from, for the baseline's record of each scenario. */
export interface BaselineSource extends RunScope {
  readonly measuredAt: string;
  readonly source: string;
}

const scenarioOrder = (scenario: string) => {
  const at = (SCENARIOS as readonly string[]).indexOf(scenario);
  return at < 0 ? SCENARIOS.length : at;
};

/**
 * The baseline with the run's figures in place of those of every scenario the run finished; the other scenarios keep
 * theirs (a `--only` run updates only what it measured, and a scenario that did not finish keeps its baseline).
 */
export function updateBaseline(
  baseline: Baseline | undefined,
  figures: readonly Figure[],
  run: BaselineSource,
): { baseline: Baseline; updated: string[]; kept: string[] } {
  const updated = run.scenarios.filter((s) => !run.failed.includes(s));
  const previous = Object.entries(baseline?.figures ?? {});
  const scenarioNames = new Set([...previous.map(([, f]) => f.scenario), ...updated]);
  const ordered = [...scenarioNames].sort((a, b) => scenarioOrder(a) - scenarioOrder(b) || a.localeCompare(b));
  const next: Record<string, BaselineFigure> = {};
  for (const scenario of ordered) {
    if (updated.includes(scenario)) {
      for (const { id, ...figure } of figures.filter((f) => f.scenario === scenario)) next[id] = figure;
    } else {
      for (const [id, figure] of previous.filter(([, f]) => f.scenario === scenario)) next[id] = figure;
    }
  }
  const scenarios: Baseline['scenarios'] = {};
  for (const scenario of ordered) {
    const entry = updated.includes(scenario)
      ? { measuredAt: run.measuredAt, source: run.source }
      : baseline?.scenarios[scenario];
    if (entry) scenarios[scenario] = entry;
  }
  return {
    baseline: { about: BASELINE_ABOUT, scenarios, figures: next },
    updated,
    kept: ordered.filter((s) => !updated.includes(s)),
  };
}

/** The scenarios a bench.json covers, and which of them did not finish. */
export function runScope(output: BenchOutput): RunScope {
  return { scenarios: output.scenarios, failed: Object.keys(output.errors) };
}

/** How the baseline records where a run's figures come from. */
export function baselineSource(output: BenchOutput): BaselineSource {
  const { machine } = output;
  const commit = output.commit ? ` at ${output.commit}` : '';
  return {
    ...runScope(output),
    measuredAt: output.startedAt,
    source: `npm run bench${commit} on ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`,
  };
}
