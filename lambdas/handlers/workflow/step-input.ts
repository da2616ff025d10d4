import middy, { type MiddlewareObj } from '@middy/core';
import * as z from 'zod/mini';
import '../../shared/zod-locale';
import { metrics } from '../../adapters/observability/metrics';
import { observability, stepPortRequestId } from '../../adapters/observability/middleware';
import { env, loadConfig } from '../../shared/config';
import { logger } from '../../shared/logger';
import type { StepAttempt } from '../../shared/workflow-contract';
import type { PortInRepository } from '../../use-cases/ports';
import {
  noteStepAttempt,
  noteStepFailure,
  noteStepSuccess,
  type StepDelayDeps,
} from '../../use-cases/workflow/step-delays';

/** What every workflow step gets from the state machine. */
export const portStepInputSchema = z.object({
  accountId: z.string().check(z.minLength(1)),
  portRequestId: z.string().check(z.minLength(1)),
});

export const systemClock = { now: () => new Date() };

/** The attempt the state machine describes from its context object (lib/constructs/workflow.ts). */
const stepAttemptSchema = z.object({
  state: z.string(),
  retryCount: z.number().check(z.int(), z.gte(0)),
  enteredTime: z.string(),
});

/** The port request and attempt of a step event, when it names them (a malformed event is the step's to refuse). */
function attemptOf(event: unknown): StepAttempt | undefined {
  const parsed = z
    .object({ input: portStepInputSchema, attempt: stepAttemptSchema })
    .safeParse(event as Record<string, unknown>);
  return parsed.success ? { ...parsed.data.attempt, ...parsed.data.input } : undefined;
}

/**
 * Notes delays around the step: a retried attempt that has waited past the alert threshold counts PortsDelayed;
 * the third failure in a row records the port's one DELAYED event; a retry that succeeds ends the delay. Best
 * effort: what it cannot write (DynamoDB down is a delay too) never changes the step's own outcome.
 */
function stepDelays(deps: StepDelayDeps): MiddlewareObj<unknown> {
  const bestEffort = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      logger.warn(`could not note a step ${what}`, { errorName: (error as Error | undefined)?.name });
    }
  };
  return {
    before: async (request) => {
      const attempt = attemptOf(request.event);
      if (attempt) await bestEffort('attempt', () => noteStepAttempt(attempt, deps));
    },
    after: async (request) => {
      const attempt = attemptOf(request.event);
      if (attempt) await bestEffort('success', () => noteStepSuccess(attempt, deps));
    },
    onError: async (request) => {
      const attempt = attemptOf(request.event);
      if (attempt) await bestEffort('failure', () => noteStepFailure(attempt, request.error, deps));
    },
  };
}

const delayConfig = loadConfig(z.object({ DELAY_ALERT_AFTER_SECONDS: env.DELAY_ALERT_AFTER_SECONDS }));

/**
 * A workflow step's handler: the state input is validated with `schema` and given to `run`, with the service's
 * observability and the delay notes around it. Every step event is `{ input, attempt }` (StepEvent).
 */
export function workflowStep<TSchema extends z.ZodMiniType, TResult>(
  schema: TSchema,
  run: (input: z.infer<TSchema>) => Promise<TResult>,
  repository: PortInRepository,
) {
  const eventSchema = z.object({ input: schema, attempt: z.optional(stepAttemptSchema) });
  return middy(async (event: unknown) => {
    const { input } = eventSchema.parse(event) as { input: z.infer<TSchema> };
    return run(input);
  })
    .use(observability(stepPortRequestId))
    .use(
      stepDelays({ repository, metrics, clock: systemClock, alertAfterSeconds: delayConfig.DELAY_ALERT_AFTER_SECONDS }),
    );
}
