import type { PollerCost, PortCost, TestCallCost } from '../cost';

/** What `npm run bench` writes to bench-output/bench.json, shared by the run, the baseline and the README table. */

/** Every scenario `npm run bench` knows, in the order it runs them. */
export const SCENARIOS = [
  'bundles',
  'webhook-ingest',
  'port-cost',
  'import-order',
  'concurrent-ports',
  'outage',
  'crashes',
  'concurrent-ports-5000',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Run only when asked (`--large`, or `--only`): it shows how cost grows, and takes long. */
export const LARGE_SCENARIOS: readonly Scenario[] = ['concurrent-ports-5000'];

/** The scenarios a plain `npm run bench` runs. */
export const DEFAULT_SCENARIOS: readonly Scenario[] = SCENARIOS.filter((s) => !LARGE_SCENARIOS.includes(s));

/** One line of the printed table (and of README's). `pass: null` is a figure without a goal. */
export interface Row {
  readonly scenario: Scenario;
  readonly figure: string;
  readonly value: string;
  readonly goal: string;
  readonly pass: boolean | null;
}

/** The machine a run measured on. */
export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly totalMemoryMb: number;
  readonly node: string;
  readonly platform: string;
}

/** The parts of bench.json the baseline and the README table read; the file has more (assumptions, costs). */
export interface BenchOutput {
  readonly startedAt: string;
  readonly durationSeconds: number;
  /** The commit the run measured (`git rev-parse --short HEAD`, `+dirty` with uncommitted changes); older runs lack it. */
  readonly commit?: string;
  readonly machine: Machine;
  /** The scenarios the run was asked to run (a scenario that did not finish is in `errors` too). */
  readonly scenarios: readonly string[];
  readonly rows: readonly Row[];
  readonly results: Partial<Record<string, unknown>>;
  readonly costs?: BenchCosts;
  readonly errors: Partial<Record<string, string>>;
}

/** The costs port-cost computed (bench/cost.ts). */
export interface BenchCosts {
  readonly port: PortCost;
  readonly poller: PollerCost;
  readonly bareLambdaPoller: PollerCost;
  /** Twilio's charges for the verification test calls (absent from runs before verification). */
  readonly testCalls?: TestCallCost;
}
