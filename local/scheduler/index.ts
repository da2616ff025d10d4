import { randomUUID } from 'node:crypto';
import type { TemplateSchedule } from './template-schedules';

export { rateMs, schedulesFromTemplate, type TemplateSchedule } from './template-schedules';

/** Settings of {@link startScheduler}. */
export interface SchedulerOptions {
  readonly schedules: readonly TemplateSchedule[];
  /** Invokes a function of the template (by logical id) with an event, as Lambda's asynchronous invoke would. */
  readonly invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>;
  /**
   * Multiplies every rate (tests use e.g. 0.02: a one-minute rule every 1.2 s).
   * @default 1
   */
  readonly intervalScale?: number;
  readonly region: string;
  readonly accountId: string;
  /** One line per run that failed. @default no logging */
  readonly log?: (line: string) => void;
}

/** A running local scheduler. */
export interface LocalScheduler {
  /** What runs, and how often here (ms, scaled). */
  readonly schedules: ReadonlyArray<{ readonly logicalId: string; readonly intervalMs: number }>;
  /**
   * Runs the schedule whose logical id contains `name` now (after the run in progress, if any), as its next tick
   * would; answers when its targets have answered.
   */
  runNow(name: string): Promise<void>;
  /** Runs so far, by schedule logical id. */
  runs(): Record<string, number>;
  /** Stops the timers and waits for the runs in progress. */
  close(): Promise<void>;
}

/** The smallest interval the local scheduler keeps, however small the scale. */
const MIN_INTERVAL_MS = 50;

/**
 * EventBridge's scheduled event, as a rule without its own Input hands it to Lambda (Scheduler hands the target's
 * Input, or nothing).
 */
function scheduledEvent(schedule: TemplateSchedule, region: string, accountId: string): unknown {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: accountId,
    time: `${new Date().toISOString().slice(0, 19)}Z`,
    region,
    resources: [`arn:aws:events:${region}:${accountId}:rule/${schedule.logicalId}`],
    detail: {},
  };
}

/**
 * Runs the template's schedules on this machine: each invokes its targets every interval (scaled), one run at a
 * time per schedule (a run still going when the next is due delays it: the functions it runs are built for one
 * instance at a time), a run that fails is logged and not retried (the next tick is the retry), as the CDK app
 * configures its schedules.
 */
export function startScheduler(options: SchedulerOptions): LocalScheduler {
  const scale = options.intervalScale ?? 1;
  const log = options.log ?? (() => undefined);
  const counts: Record<string, number> = {};
  let closed = false;

  const entries = options.schedules.map((schedule) => {
    const intervalMs = Math.max(MIN_INTERVAL_MS, Math.round(schedule.intervalMs * scale));
    const state = { timer: undefined as NodeJS.Timeout | undefined, running: Promise.resolve() };
    const run = async (): Promise<void> => {
      counts[schedule.logicalId] = (counts[schedule.logicalId] ?? 0) + 1;
      await Promise.all(
        schedule.targets.map(async (target) => {
          const event =
            schedule.type === 'AWS::Events::Rule' && target.input === undefined
              ? scheduledEvent(schedule, options.region, options.accountId)
              : (target.input ?? {});
          try {
            await options.invoke(target.functionLogicalId, event);
          } catch (error) {
            log(`${schedule.logicalId} -> ${target.functionLogicalId} failed: ${(error as Error).message}`);
          }
        }),
      );
    };
    const queue = (): Promise<void> => {
      state.running = state.running.then(run);
      return state.running;
    };
    const tick = (): void => {
      if (closed) return;
      void queue().then(() => {
        if (!closed) state.timer = setTimeout(tick, intervalMs);
      });
    };
    // The first run one interval after start, as a new rule's.
    state.timer = setTimeout(tick, intervalMs);
    return { schedule, intervalMs, queue, state };
  });

  return {
    schedules: entries.map((e) => ({ logicalId: e.schedule.logicalId, intervalMs: e.intervalMs })),
    runNow: async (name) => {
      const matching = entries.filter((e) => e.schedule.logicalId.includes(name));
      if (matching.length !== 1) throw new Error(`${matching.length} schedules match ${name}: name exactly one`);
      await (matching[0] as (typeof entries)[number]).queue();
    },
    runs: () => ({ ...counts }),
    close: async () => {
      closed = true;
      for (const entry of entries) clearTimeout(entry.state.timer);
      await Promise.all(entries.map((entry) => entry.state.running));
    },
  };
}
