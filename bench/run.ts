import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cdkJsonContext, synthesizePortInTemplate } from '../local/cloudformation/synthesize';
import { lambdaFunctions, type TemplateLambdaFunction } from '../local/cloudformation/template';
import { BUNDLE_GOAL_BYTES, BUNDLE_WITHOUT_TWILIO_GOAL_BYTES, type BundlesResult, INIT_GOAL_MS } from './bundles';
import { bareLambdaPollerCost, type FunctionFacts, naivePollerCost, portCost, testCallCost } from './cost';
import { baselineSource, compareWithBaseline, formatComparison, runScope, updateBaseline } from './lib/baseline';
import { BASELINE_FILE, currentCommit, readBaselineFile, writeBaselineFile } from './lib/baseline-file';
import { LARGE_SCENARIOS, type Row, SCENARIOS, type Scenario } from './lib/bench-output';
import { runTsChild } from './lib/child';
import { benchFigures } from './lib/figures';
import { round } from './lib/stats';
import { NOT_COUNTED, PRICE_SOURCES, PRICES, TWILIO_VOICE_PRICE_SOURCE } from './pricing';
import type { BundlesConfig } from './scenarios/bundles';
import type { ConcurrentPortsConfig, ConcurrentPortsResult } from './scenarios/concurrent-ports';
import type { ImportOrderConfig, ImportOrderResult } from './scenarios/import-order';
import type { PortCostConfig, PortCostResult } from './scenarios/port-cost';
import type { WebhookIngestConfig, WebhookIngestResult } from './scenarios/webhook-ingest';

/**
 * `npm run bench [-- --only <scenario>[,<scenario>…]] [-- --update-baseline]`: runs each scenario in a fresh Node
 * process, prints one table (figure, value, goal, pass/fail), writes bench-output/bench.json (raw figures, machine)
 * and prints every figure more than 20 % worse than bench/baseline.json (`--update-baseline` then replaces the
 * baseline figures of the scenarios that finished). Scenarios: bundles, webhook-ingest, port-cost (also runs bundles:
 * cold inits are part of the cost), import-order, concurrent-ports, outage, crashes (and concurrent-ports-5000 with
 * `--large`). Exits 1 when a scenario could not run; goals missed and regressions are reported, not fatal.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(REPO_ROOT, 'bench-output');
/** Scenarios that run another's script with their own configuration. */
const SCRIPT_OF: Partial<Record<Scenario, string>> = {
  outage: 'concurrent-ports',
  crashes: 'concurrent-ports',
  'concurrent-ports-5000': 'concurrent-ports',
};

/** Twilio's latency in the simulator: 100-200 ms per API call (mean 150 ms), what a call from us-east-1 takes. */
const TWILIO_LATENCY = { twilioLatencyMs: 100, twilioLatencyJitterMs: 100 };
/** Twilio's REST concurrency limit per account (error 20429; the commonly quoted default). */
const TWILIO_MAX_CONCURRENT = 100;
/** What every port-requests-to-completion run shares (bench/scenarios/concurrent-ports.ts). */
const PORTS_RUN = { simulatorStepMs: 1000, pollIntervalSeconds: 60, timeoutSeconds: 600, orderRetryForSeconds: 120 };

function parseArgs(argv: readonly string[]): Set<Scenario> {
  const at = argv.indexOf('--only');
  if (at < 0) {
    const large = argv.includes('--large');
    return new Set(SCENARIOS.filter((s) => large || !LARGE_SCENARIOS.includes(s)));
  }
  const names = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !SCENARIOS.includes(n as Scenario));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes one or more of ${SCENARIOS.join(', ')} (comma-separated); got ${argv[at + 1]}`);
  }
  const chosen = new Set(names as Scenario[]);
  if (chosen.has('port-cost')) chosen.add('bundles');
  return chosen;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const script = (name: Scenario) => path.join(__dirname, 'scenarios', `${SCRIPT_OF[name] ?? name}.ts`);
const moduleName = (fn: TemplateLambdaFunction) => path.basename(fn.entry, '.ts');
const usd = (value: number) => `$${value < 0.01 ? value.toFixed(5) : value.toFixed(4)}`;
const kb = (bytes: number) => `${round(bytes / 1000, 1)} KB`;

async function main(): Promise<void> {
  const only = parseArgs(process.argv.slice(2));
  const updateBaselineAsked = process.argv.includes('--update-baseline');
  // Read before the run: a baseline that does not parse fails now, not after minutes of measuring.
  const baseline = readBaselineFile();
  const started = Date.now();
  mkdirSync(OUT_DIR, { recursive: true });
  const context = cdkJsonContext();
  const cadence = {
    pollIntervalSeconds: Number(context.pollIntervalSeconds ?? 21_600),
    reminderIntervalSeconds: Number(context.reminderIntervalSeconds ?? 259_200),
  };
  log(`Synthesizing the CDK app (function list, memory, timeouts)…`);
  const functions = lambdaFunctions(synthesizePortInTemplate());
  const benchFunctions = functions.map((f) => ({ logicalId: f.logicalId, entry: f.entry }));
  const rows: Row[] = [];
  const results: Partial<Record<Scenario, unknown>> = {};
  const errors: Partial<Record<Scenario, string>> = {};
  const durations: Partial<Record<Scenario, number>> = {};

  const run = async <C, R>(name: Scenario, config: C, timeoutMs: number): Promise<R | undefined> => {
    if (!only.has(name)) return undefined;
    log(`\n▶ ${name}`);
    const t = Date.now();
    try {
      const result = await runTsChild<R>(script(name), config, { timeoutMs, log: (l) => log(`  ${l}`) });
      results[name] = result;
      return result;
    } catch (error) {
      errors[name] = error instanceof Error ? error.message : String(error);
      log(`  ✗ ${errors[name]?.slice(0, 2000)}`);
      rows.push({ scenario: name, figure: 'scenario', value: 'did not finish', goal: 'runs', pass: false });
      return undefined;
    } finally {
      durations[name] = round((Date.now() - t) / 1000, 1);
      log(`  (${durations[name]} s)`);
    }
  };

  // 1. Bundles: size and cold init.
  const bundles = await run<BundlesConfig, BundlesResult>(
    'bundles',
    { functions, outDir: path.join(OUT_DIR, 'bundles'), initRuns: 5 },
    240_000,
  );
  if (bundles) {
    if (bundles.bundlingDrift.length > 0) {
      rows.push({
        scenario: 'bundles',
        figure: 'bench mirrors ServiceFunction bundling',
        value: `no longer says: ${bundles.bundlingDrift.join('; ')}`,
        goal: 'same options',
        pass: false,
      });
    }
    for (const f of bundles.functions) {
      const name = path.basename(f.entry, '.ts');
      rows.push({
        scenario: 'bundles',
        figure: `${name} bundle${f.importsTwilio ? ' (twilio)' : ''}`,
        value: kb(f.bytes),
        goal: `≤ ${kb(f.importsTwilio ? BUNDLE_GOAL_BYTES : BUNDLE_WITHOUT_TWILIO_GOAL_BYTES)}`,
        pass: f.sizePass,
      });
      rows.push({
        scenario: 'bundles',
        figure: `${name} cold init (median of ${bundles.initRuns})`,
        value: f.error ? `error: ${f.error.split('\n')[0]}` : `${f.initMedianMs} ms (min ${f.initMinMs})`,
        goal: `≤ ${INIT_GOAL_MS} ms`,
        pass: f.initPass,
      });
    }
  }

  // 2. Webhook ingest against the floor.
  const ingest = await run<WebhookIngestConfig, WebhookIngestResult>(
    'webhook-ingest',
    { count: 1500, warmup: 150, concurrency: 16, ports: 16, onePortCount: 300 },
    300_000,
  );
  if (ingest) {
    const ratio = ingest.service.throughputPerSecond / ingest.floor.throughputPerSecond;
    rows.push(
      {
        scenario: 'webhook-ingest',
        figure: `floor: bare node:http + 1 PutItem (${ingest.config.concurrency} concurrent)`,
        value: `${ingest.floor.throughputPerSecond}/s, p50 ${ingest.floor.p50Ms} ms, p99 ${ingest.floor.p99Ms} ms`,
        goal: '',
        pass: null,
      },
      {
        scenario: 'webhook-ingest',
        figure: `floor 2: node:http + signature + 1 conditional write + 1 SendTaskSuccess (${ingest.config.concurrency} concurrent)`,
        value: `${ingest.minimalFloor.throughputPerSecond}/s, p50 ${ingest.minimalFloor.p50Ms} ms, p99 ${ingest.minimalFloor.p99Ms} ms`,
        goal: '',
        pass: null,
      },
      {
        scenario: 'webhook-ingest',
        figure: `service: API Gateway → TwilioWebhookFunction (${ingest.config.concurrency} concurrent, ${ingest.webhookSettleSeconds} s settle)`,
        value: `${ingest.service.throughputPerSecond}/s, p50 ${ingest.service.p50Ms} ms, p99 ${ingest.service.p99Ms} ms`,
        goal: `all 2xx (${ingest.service.ok}/${ingest.service.requests})`,
        pass: ingest.service.ok === ingest.service.requests,
      },
      {
        scenario: 'webhook-ingest',
        figure: 'service / floor throughput',
        value: `${round(ratio * 100, 0)} %`,
        goal: '≥ 70 %',
        pass: ratio >= 0.7,
      },
      {
        scenario: 'webhook-ingest',
        figure: 'service / floor 2 throughput',
        value: `${round((ingest.service.throughputPerSecond / ingest.minimalFloor.throughputPerSecond) * 100, 0)} %`,
        goal: '',
        pass: null,
      },
      {
        scenario: 'webhook-ingest',
        figure: `a status change's webhooks → the new status in the API (${ingest.webhookToStatus.samples} ports at once)`,
        value: `p50 ${ingest.webhookToStatus.p50Ms} ms, p99 ${ingest.webhookToStatus.p99Ms} ms`,
        goal: '',
        pass: null,
      },
    );
    if (ingest.onePort) {
      rows.push({
        scenario: 'webhook-ingest',
        figure: 'service, every webhook about one port (diagnostic)',
        value: `${ingest.onePort.throughputPerSecond}/s, p50 ${ingest.onePort.p50Ms} ms, p99 ${ingest.onePort.p99Ms} ms`,
        goal: '',
        pass: null,
      });
    }
  }

  // 3. The AWS cost of one port.
  const costConfig: PortCostConfig = {
    functions: benchFunctions,
    pollIntervalSeconds: 1,
    scaledPollSeconds: cadence.pollIntervalSeconds,
    scaledReminderSeconds: cadence.reminderIntervalSeconds,
    days: 21,
    timeline: { signature: 1, inProgress: 3, foc: 7 },
    phoneNumbers: 1,
    ...TWILIO_LATENCY,
  };
  const costRun = await run<PortCostConfig, PortCostResult>('port-cost', costConfig, 300_000);
  let costs:
    | {
        port: ReturnType<typeof portCost>;
        poller: ReturnType<typeof naivePollerCost>;
        bareLambdaPoller: ReturnType<typeof bareLambdaPollerCost>;
        testCalls: ReturnType<typeof testCallCost>;
      }
    | undefined;
  if (costRun) {
    const facts: FunctionFacts[] = functions.map((fn) => ({
      module: moduleName(fn),
      memoryMb: fn.memorySize,
      initMs: bundles?.functions.find((b) => b.logicalId === fn.logicalId)?.initMedianMs,
    }));
    const syncMemory = functions.find((fn) => moduleName(fn) === 'sync-port-status')?.memorySize ?? 256;
    costs = {
      port: portCost(costRun, facts),
      poller: naivePollerCost(costRun, syncMemory),
      bareLambdaPoller: bareLambdaPollerCost(costRun, syncMemory),
      testCalls: testCallCost(costRun),
    };
    const factor = costs.poller.totalUsd / costs.port.totalUsd;
    rows.push(
      {
        scenario: 'port-cost',
        figure: `one 21-day port, default cadence (poll ${cadence.pollIntervalSeconds / 3600} h, reminders ${cadence.reminderIntervalSeconds / 86_400} d)`,
        value: usd(costs.port.totalUsd),
        goal: '≤ $0.01',
        pass: costs.port.totalUsd <= 0.01,
      },
      {
        scenario: 'port-cost',
        figure: `naive poller: the same workflow polling every 5 min (${costs.poller.invocations} polls)`,
        value: usd(costs.poller.totalUsd),
        goal: '',
        pass: null,
      },
      {
        scenario: 'port-cost',
        figure: 'poller cost / port cost',
        value: `${round(factor, 1)}×`,
        goal: '≥ 50×',
        pass: factor >= 50,
      },
      {
        scenario: 'port-cost',
        figure: '  for comparison: a bare Lambda on a 5-min schedule, no workflow',
        value: `${usd(costs.bareLambdaPoller.totalUsd)} (${round(costs.bareLambdaPoller.totalUsd / costs.port.totalUsd, 1)}×)`,
        goal: '',
        pass: null,
      },
    );
    const costLineRow = (l: { item: string; quantity: number; unit: string; usd: number }): Row => ({
      scenario: 'port-cost',
      figure: `  ${l.item}`,
      value: `${l.quantity} ${l.unit} = ${usd(l.usd)}`,
      goal: '',
      pass: null,
    });
    rows.push(...costs.port.lines.map(costLineRow));
    rows.push({
      scenario: 'port-cost',
      figure: `Twilio's charges for the verification test calls (${TWILIO_VOICE_PRICE_SOURCE}), not AWS`,
      value: usd(costs.testCalls.totalUsd),
      goal: '',
      pass: null,
    });
    rows.push(...costs.testCalls.lines.map(costLineRow));
    if (!costs.port.initIncluded) {
      rows.push({
        scenario: 'port-cost',
        figure: '  cold init time',
        value: 'not included (bundles did not run)',
        goal: '',
        pass: null,
      });
    }
  }

  // 4. A 1,000-number order against Twilio's rate-limit floor.
  const order = await run<ImportOrderConfig, ImportOrderResult>(
    'import-order',
    {
      functions: benchFunctions,
      phoneNumbers: 1000,
      ...TWILIO_LATENCY,
      maxConcurrentRequestsPerAccount: TWILIO_MAX_CONCURRENT,
      pollIntervalSeconds: 30,
      timeoutSeconds: 420,
    },
    480_000,
  );
  if (order) {
    for (const phase of ['split', 'submit', 'import'] as const) {
      const p = order[phase];
      rows.push({
        scenario: 'import-order',
        figure: `1,000 numbers: ${phase} (floor ${p.floorSeconds} s)`,
        value: `${p.seconds} s`,
        goal: '',
        pass: null,
      });
    }
    rows.push({
      scenario: 'import-order',
      figure: `split + submit + import / floor (${order.floorSeconds} s)`,
      value: `${order.totalSeconds} s = ${order.ratio}×`,
      goal: '≤ 1.5×',
      pass: order.ratio <= 1.5,
    });
    const timeouts = new Map(functions.map((fn) => [moduleName(fn), fn.timeoutSeconds * 1000]));
    for (const [module, ms] of Object.entries(order.longestInvocationMs)) {
      const limit = timeouts.get(module);
      if (limit !== undefined && ms > limit) {
        rows.push({
          scenario: 'import-order',
          figure: `${module} longest invocation`,
          value: `${round(ms / 1000, 1)} s`,
          goal: `≤ its Lambda timeout ${limit / 1000} s`,
          pass: false,
        });
      }
    }
  }

  // 5. Port requests to completion: 1,000 at once; 200 through a 10-minute Twilio outage; 200 while function
  // instances are SIGKILLed every second; 5,000 at once with --large.
  const portRuns: Array<{ name: Scenario; what: string; config: ConcurrentPortsConfig; timeoutMs: number }> = [
    {
      name: 'concurrent-ports',
      what: 'concurrent port requests to completion',
      config: { ...PORTS_RUN, accounts: 100, carriersPerOrder: 10 },
      timeoutMs: 900_000,
    },
    {
      name: 'outage',
      what: 'port requests through a 10-minute Twilio outage (503 to every call)',
      // Retry waits 20× shorter: the 10 simulated minutes last 30 s.
      config: {
        ...PORTS_RUN,
        accounts: 20,
        carriersPerOrder: 10,
        retryIntervalScale: 0.05,
        outage: { simulatedSeconds: 600 },
      },
      timeoutMs: 900_000,
    },
    {
      name: 'crashes',
      what: 'port requests with a random function instance SIGKILLed every second',
      config: { ...PORTS_RUN, accounts: 20, carriersPerOrder: 10, retryIntervalScale: 0.05, crashEveryMs: 1000 },
      timeoutMs: 900_000,
    },
    {
      name: 'concurrent-ports-5000',
      what: 'concurrent port requests to completion',
      config: { ...PORTS_RUN, accounts: 500, carriersPerOrder: 10, timeoutSeconds: 3000 },
      timeoutMs: 3_600_000,
    },
  ];
  for (const { name, what, config, timeoutMs } of portRuns) {
    const result = await run<ConcurrentPortsConfig, ConcurrentPortsResult>(name, config, timeoutMs);
    if (!result) continue;
    const faulted = name === 'outage' || name === 'crashes';
    const coldStarts = Object.entries(result.lambdas)
      .map(
        ([fn, stats]) =>
          `${fn.replace(/^(Api|PortWorkflow|WorkflowStartSweeper|EmailConfirmations)/, '').replace(/Function.*$/, '')} ${stats.coldStarts}`,
      )
      .join(', ');
    rows.push(
      {
        scenario: name,
        figure: `${result.portRequests} ${what}`,
        value: `${result.finished ? `${result.wallSeconds} s` : `unfinished after ${result.wallSeconds} s`}: ${result.accepted} accepted, ${result.succeeded} succeeded, ${result.failed} FAILED, ${result.running} running, ${result.safeToCancel} safe to cancel`,
        goal: '0 FAILED, all complete and safe to cancel',
        pass:
          result.finished &&
          result.accepted === result.portRequests &&
          result.failed === 0 &&
          result.succeeded === result.portRequests &&
          result.safeToCancel === result.portRequests,
      },
      {
        scenario: name,
        figure: 'emails sent twice / port requests imported twice',
        value: `${result.duplicateEmails} of ${result.emailsSent} / ${result.duplicateImports}`,
        goal: faulted ? '0 / 0' : '',
        pass: faulted ? result.duplicateEmails === 0 && result.duplicateImports === 0 : null,
      },
      {
        scenario: name,
        figure: 'peak memory, every process of the stack',
        value: `${result.memoryMb.peak} MB (${result.memoryMb.afterStart} MB at start)`,
        goal: '',
        pass: null,
      },
      { scenario: name, figure: 'cold starts per function', value: coldStarts, goal: '', pass: null },
    );
    if (result.kills !== undefined) {
      rows.push({ scenario: name, figure: 'instances SIGKILLed', value: String(result.kills), goal: '', pass: null });
    }
  }

  const output = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: round((Date.now() - started) / 1000, 1),
    commit: currentCommit(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemoryMb: Math.round(os.totalmem() / 1e6),
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    },
    scenarios: [...only],
    scenarioSeconds: durations,
    assumptions: {
      twilioLatency: TWILIO_LATENCY,
      twilioMaxConcurrentRequestsPerAccount: TWILIO_MAX_CONCURRENT,
      defaultCadence: cadence,
      prices: PRICES,
      priceSources: PRICE_SOURCES,
      notCounted: NOT_COUNTED,
    },
    rows,
    results,
    ...(costs ? { costs } : {}),
    errors,
  };
  const figures = benchFigures(output);
  const comparison = baseline ? compareWithBaseline(baseline, figures, runScope(output)) : undefined;
  writeFileSync(
    path.join(OUT_DIR, 'bench.json'),
    `${JSON.stringify({ ...output, figures, ...(comparison ? { comparison } : {}) }, null, 2)}\n`,
  );
  printTable(rows);
  log(`\nMachine: ${output.machine.cpus} × ${output.machine.cpuModel}, Node ${output.machine.node}`);
  if (costs) {
    log(
      `Cost: a ${costConfig.days}-day port run with time ${costs.port.scaling.speedUp}× faster (poll ${costConfig.pollIntervalSeconds} s for ` +
        `${cadence.pollIntervalSeconds / 3600} h); the run did ${costs.port.scaling.pollsInRun} polls, the default cadence does ` +
        `${costs.port.scaling.pollsAtDefaultCadence}: the ${costs.port.scaling.extraPolls} more are costed as the run's quiet polls. ` +
        `Not counted: ${NOT_COUNTED}.`,
    );
  }
  log(`Raw figures: ${path.relative(process.cwd(), path.join(OUT_DIR, 'bench.json'))} (${output.durationSeconds} s)`);
  const baselineName = path.relative(process.cwd(), BASELINE_FILE);
  log('');
  if (comparison) for (const line of formatComparison(comparison, baselineName)) log(line);
  else log(`No baseline yet (${baselineName}): \`npm run bench -- --update-baseline\` makes this run the baseline.`);
  if (updateBaselineAsked) {
    const update = updateBaseline(baseline, figures, baselineSource(output));
    writeBaselineFile(update.baseline);
    log(
      `${baselineName} updated: ${update.updated.join(', ') || 'no scenario'} from this run` +
        `${update.kept.length > 0 ? `; kept ${update.kept.join(', ')}` : ''}.`,
    );
  }
  log('README table from this run: `npm run bench:readme`.');
  if (Object.keys(errors).length > 0) process.exitCode = 1;
}

function printTable(rows: readonly Row[]): void {
  const header: Row = { scenario: 'bundles', figure: 'figure', value: 'value', goal: 'goal', pass: null };
  const cells = (r: Row, isHeader = false) => [
    isHeader ? 'scenario' : r.scenario,
    r.figure,
    r.value,
    r.goal,
    isHeader ? 'result' : r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
  ];
  const all = [cells(header, true), ...rows.map((r) => cells(r))];
  const widths = [0, 1, 2, 3, 4].map((i) => Math.min(70, Math.max(...all.map((row) => (row[i] ?? '').length))));
  const format = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  log('');
  log(format(all[0] as string[]));
  log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const row of all.slice(1)) log(format(row));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
