import path from 'node:path';
import type { BundlesResult } from '../bundles';
import type { ConcurrentPortsResult } from '../scenarios/concurrent-ports';
import type { ImportOrderResult } from '../scenarios/import-order';
import type { LoadFigures, WebhookIngestResult } from '../scenarios/webhook-ingest';
import type { BenchOutput } from './bench-output';
import { round } from './stats';

/** Which way a figure gets better: times, memory, cost and ratios to a floor go down; throughput goes up. */
export type Better = 'lower' | 'higher';
export type Unit = 'bytes' | 'ms' | 's' | 'MB' | 'per-second' | 'percent' | 'times' | 'usd' | 'count';

/** One number of a run that the baseline can hold, with its direction. */
export interface Figure {
  /** Stable across runs and commits: the baseline is keyed by it (`bundles/submit-port-in/bytes`). */
  readonly id: string;
  readonly scenario: string;
  readonly label: string;
  readonly unit: Unit;
  readonly better: Better;
  readonly value: number;
}

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** The port-requests-to-completion scenarios (one script, several configurations). */
const PORTS_SCENARIOS = ['concurrent-ports', 'outage', 'crashes', 'concurrent-ports-5000'];

/**
 * The figures of a run that have a direction, from bench.json's raw `results` and `costs` (not its printed rows, so an
 * older bench.json gives them too). Left out: what the run did rather than how well (cold starts per function under
 * the local instance pool, instances killed, the order floors, which are arithmetic on fixed inputs), and any value
 * that is not a finite number.
 */
export function benchFigures(output: BenchOutput): Figure[] {
  const figures: Figure[] = [];
  const add = (scenario: string, key: string, label: string, unit: Unit, better: Better, value: number) => {
    if (Number.isFinite(value)) figures.push({ id: `${scenario}/${key}`, scenario, label, unit, better, value });
  };

  const bundles = output.results.bundles as BundlesResult | undefined;
  for (const f of bundles?.functions ?? []) {
    const name = path.basename(f.entry, '.ts');
    add('bundles', `${name}/bytes`, `${name} bundle`, 'bytes', 'lower', f.bytes);
    if (!f.error) add('bundles', `${name}/init-median-ms`, `${name} cold init (median)`, 'ms', 'lower', f.initMedianMs);
  }

  const ingest = output.results['webhook-ingest'] as WebhookIngestResult | undefined;
  if (ingest) {
    const load = (key: string, label: string, run: LoadFigures) => {
      add(
        'webhook-ingest',
        `${key}/throughput`,
        `${label} throughput`,
        'per-second',
        'higher',
        run.throughputPerSecond,
      );
      add('webhook-ingest', `${key}/p50-ms`, `${label} p50`, 'ms', 'lower', run.p50Ms);
      add('webhook-ingest', `${key}/p99-ms`, `${label} p99`, 'ms', 'lower', run.p99Ms);
    };
    load('floor', 'floor (node:http + 1 PutItem)', ingest.floor);
    if (ingest.minimalFloor) load('floor-2', 'floor 2 (signature + write + SendTaskSuccess)', ingest.minimalFloor);
    load('service', 'service', ingest.service);
    if (ingest.webhookToStatus) {
      add(
        'webhook-ingest',
        'webhook-to-status/p50-ms',
        'webhook → status p50',
        'ms',
        'lower',
        ingest.webhookToStatus.p50Ms,
      );
      add(
        'webhook-ingest',
        'webhook-to-status/p99-ms',
        'webhook → status p99',
        'ms',
        'lower',
        ingest.webhookToStatus.p99Ms,
      );
    }
    const percent = round((ingest.service.throughputPerSecond / ingest.floor.throughputPerSecond) * 100, 1);
    add('webhook-ingest', 'service-percent-of-floor', 'service / floor throughput', 'percent', 'higher', percent);
    if (ingest.onePort) load('one-port', 'one port (diagnostic)', ingest.onePort);
  }

  if (output.results['port-cost'] && output.costs) {
    const { port, poller, bareLambdaPoller } = output.costs;
    add('port-cost', 'port-usd', 'one 21-day port', 'usd', 'lower', port.totalUsd);
    for (const line of port.lines)
      add('port-cost', `port/${slug(line.item)}-usd`, `port: ${line.item}`, 'usd', 'lower', line.usd);
    if (output.costs.testCalls) {
      add(
        'port-cost',
        'twilio-test-calls-usd',
        "Twilio's charges for the test calls",
        'usd',
        'lower',
        output.costs.testCalls.totalUsd,
      );
    }
    add('port-cost', 'naive-poller-usd', 'naive poller (same workflow, 5-min polls)', 'usd', 'lower', poller.totalUsd);
    add(
      'port-cost',
      'poller-over-port',
      'naive poller cost / port cost',
      'times',
      'higher',
      round(poller.totalUsd / port.totalUsd, 1),
    );
    add(
      'port-cost',
      'bare-lambda-poller-usd',
      'bare scheduled Lambda poller',
      'usd',
      'lower',
      bareLambdaPoller.totalUsd,
    );
  }

  const order = output.results['import-order'] as ImportOrderResult | undefined;
  if (order) {
    for (const phase of ['split', 'submit', 'import'] as const) {
      add('import-order', `${phase}-s`, `1,000 numbers: ${phase}`, 's', 'lower', order[phase].seconds);
    }
    add('import-order', 'total-s', '1,000 numbers: split + submit + import', 's', 'lower', order.totalSeconds);
    add('import-order', 'ratio-to-floor', '1,000 numbers: time / floor', 'times', 'lower', order.ratio);
  }

  for (const scenario of PORTS_SCENARIOS) {
    const ports = output.results[scenario] as ConcurrentPortsResult | undefined;
    if (!ports) continue;
    add(scenario, 'wall-s', `${ports.portRequests} port requests: wall time`, 's', 'lower', ports.wallSeconds);
    add(scenario, 'succeeded', 'port requests succeeded', 'count', 'higher', ports.succeeded);
    add(scenario, 'failed', 'port requests FAILED', 'count', 'lower', ports.failed);
    add(scenario, 'duplicate-emails', 'emails sent twice', 'count', 'lower', ports.duplicateEmails);
    add(scenario, 'duplicate-imports', 'port requests imported twice', 'count', 'lower', ports.duplicateImports);
    add(scenario, 'peak-memory-mb', 'peak memory, every process of the stack', 'MB', 'lower', ports.memoryMb.peak);
  }
  return figures;
}

/** A figure's value as the table shows it. */
export function formatFigure(value: number, unit: Unit): string {
  switch (unit) {
    case 'bytes':
      return `${round(value / 1000, 1)} KB`;
    case 'ms':
      return `${value} ms`;
    case 's':
      return `${value} s`;
    case 'MB':
      return `${value} MB`;
    case 'per-second':
      return `${value}/s`;
    case 'percent':
      return `${value} %`;
    case 'times':
      return `${value}×`;
    case 'usd':
      return `$${value < 0.01 ? value.toFixed(5) : value.toFixed(4)}`;
    case 'count':
      return String(value);
  }
}
