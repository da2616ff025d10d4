import type { CloudFormationTemplate } from '../cloudformation/synthesize';

/** A schedule of the template that runs a Lambda function: an EventBridge rule or an EventBridge Scheduler schedule. */
export interface TemplateSchedule {
  readonly logicalId: string;
  readonly type: 'AWS::Events::Rule' | 'AWS::Scheduler::Schedule';
  /** As the template writes it, e.g. `rate(1 minute)`. */
  readonly expression: string;
  /** The rate in milliseconds. */
  readonly intervalMs: number;
  /** The functions it invokes (logical ids), with the target's own `Input` when it gives one. */
  readonly targets: ReadonlyArray<{ readonly functionLogicalId: string; readonly input?: unknown }>;
}

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** `rate(5 minutes)` → 300,000 ms. Cron expressions are not run locally: the error names the schedule. */
export function rateMs(expression: string, owner: string): number {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  const unit = match ? UNIT_MS[match[2] as string] : undefined;
  if (!match || unit === undefined) {
    throw new Error(`${owner}: the local scheduler runs rate(N unit) expressions only, not ${expression}`);
  }
  const value = Number(match[1]);
  if (value < 1) throw new Error(`${owner}: ${expression} is not a rate`);
  return value * unit;
}

/** The logical id of the Lambda function an ARN intrinsic (`Fn::GetAtt [Function, Arn]`) names, if any. */
function functionOf(arn: unknown, resources: NonNullable<CloudFormationTemplate['Resources']>): string | undefined {
  const getAtt = (arn as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (!Array.isArray(getAtt) || typeof getAtt[0] !== 'string') return undefined;
  return resources[getAtt[0]]?.Type === 'AWS::Lambda::Function' ? getAtt[0] : undefined;
}

function parseInput(input: unknown): unknown {
  if (typeof input !== 'string') return undefined;
  return JSON.parse(input);
}

/**
 * The template's enabled schedules that invoke Lambda functions: AWS::Events::Rule with a ScheduleExpression and
 * AWS::Scheduler::Schedule, each with its rate and its function targets. Targets that are not functions of the
 * template are left out; a rule that is not a schedule (an event pattern) is not one of these.
 */
export function schedulesFromTemplate(template: CloudFormationTemplate): TemplateSchedule[] {
  const resources = template.Resources ?? {};
  const schedules: TemplateSchedule[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    const props = (resource.Properties ?? {}) as Record<string, unknown>;
    if (resource.Type === 'AWS::Events::Rule') {
      const expression = props.ScheduleExpression;
      if (typeof expression !== 'string' || (props.State ?? 'ENABLED') !== 'ENABLED') continue;
      const targets = ((props.Targets as Array<Record<string, unknown>> | undefined) ?? []).flatMap((target) => {
        const functionLogicalId = functionOf(target.Arn, resources);
        return functionLogicalId ? [{ functionLogicalId, input: parseInput(target.Input) }] : [];
      });
      if (targets.length === 0) continue;
      schedules.push({
        logicalId,
        type: resource.Type,
        expression,
        intervalMs: rateMs(expression, logicalId),
        targets,
      });
    } else if (resource.Type === 'AWS::Scheduler::Schedule') {
      const expression = props.ScheduleExpression;
      if (typeof expression !== 'string' || (props.State ?? 'ENABLED') !== 'ENABLED') continue;
      const target = (props.Target ?? {}) as Record<string, unknown>;
      const functionLogicalId = functionOf(target.Arn, resources);
      if (!functionLogicalId) continue;
      schedules.push({
        logicalId,
        type: resource.Type,
        expression,
        intervalMs: rateMs(expression, logicalId),
        targets: [{ functionLogicalId, input: parseInput(target.Input) }],
      });
    }
  }
  return schedules.sort((a, b) => a.logicalId.localeCompare(b.logicalId));
}
