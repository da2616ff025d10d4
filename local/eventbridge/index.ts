import type { IntrinsicResolver, PseudoParameters } from '../cloudformation/resolve';
import { resolveIntrinsics } from '../cloudformation/resolve';
import type { CloudFormationTemplate } from '../cloudformation/synthesize';

/** An EventBridge rule of the template that matches events (not a schedule) and invokes Lambda functions. */
export interface TemplateEventRule {
  readonly logicalId: string;
  /** The rule's event pattern, intrinsics resolved to the local names. */
  readonly pattern: Record<string, unknown>;
  readonly targets: ReadonlyArray<{
    readonly functionLogicalId: string;
    /**
     * Lambda's asynchronous retries of a failed invocation (the function's EventInvokeConfig
     * MaximumRetryAttempts; Lambda's default, 2, when it has none).
     */
    readonly functionRetryAttempts: number;
  }>;
}

/** Lambda's delays before its asynchronous retries of a failed invocation: about 1 and then 2 minutes. */
const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];

/** The operators of EventBridge's content filtering this emulation matches; any other refuses the rule at start. */
const OPERATORS = new Set(['exists', 'prefix']);

function checkPattern(pattern: unknown, owner: string): void {
  if (Array.isArray(pattern)) {
    for (const value of pattern) {
      if (value !== null && typeof value === 'object') {
        const keys = Object.keys(value);
        const unsupported = keys.filter((key) => !OPERATORS.has(key));
        if (unsupported.length > 0) {
          throw new Error(`${owner}: the local event bus does not match ${unsupported.join(', ')} in event patterns`);
        }
      }
    }
    return;
  }
  if (pattern === null || typeof pattern !== 'object') throw new Error(`${owner}: malformed event pattern`);
  for (const value of Object.values(pattern)) checkPattern(value, owner);
}

function matchesValue(expected: unknown, actual: unknown): boolean {
  if (expected !== null && typeof expected === 'object') {
    const operator = expected as { exists?: boolean; prefix?: string };
    if (operator.exists !== undefined) return operator.exists === (actual !== undefined);
    if (operator.prefix !== undefined) return typeof actual === 'string' && actual.startsWith(operator.prefix);
    return false;
  }
  return Array.isArray(actual) ? actual.some((a) => a === expected) : actual === expected;
}

/**
 * Whether an event matches a pattern as EventBridge decides it: every field of the pattern is present and matches
 * one of its values (a field whose event value is an array matches when any element does), nested objects alike.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  const fields = (event ?? {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = fields[key];
    if (Array.isArray(expected)) {
      const existsFalse = expected.some((v) => (v as { exists?: boolean } | null)?.exists === false);
      if (actual === undefined) return existsFalse;
      return expected.some((v) => matchesValue(v, actual));
    }
    return actual !== null && typeof actual === 'object' && matchesPattern(expected as Record<string, unknown>, actual);
  });
}

/** The template's rules with event patterns on the default bus whose targets are its functions. */
export function eventRulesFromTemplate(
  template: CloudFormationTemplate,
  resolver: IntrinsicResolver,
  pseudo: PseudoParameters,
): TemplateEventRule[] {
  const resources = template.Resources ?? {};
  const retryAttemptsOf = (functionLogicalId: string): number => {
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
      const props = (resource.Properties ?? {}) as { FunctionName?: { Ref?: string }; MaximumRetryAttempts?: number };
      if (props.FunctionName?.Ref === functionLogicalId) return props.MaximumRetryAttempts ?? 2;
    }
    return 2;
  };
  const rules: TemplateEventRule[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const props = (resource.Properties ?? {}) as Record<string, unknown>;
    if (props.EventPattern === undefined || (props.State ?? 'ENABLED') !== 'ENABLED') continue;
    if (props.EventBusName !== undefined && props.EventBusName !== 'default') {
      throw new Error(`${logicalId}: the local event bus is the default bus only`);
    }
    const pattern = resolveIntrinsics(props.EventPattern, resolver, pseudo) as Record<string, unknown>;
    checkPattern(pattern, logicalId);
    const targets = ((props.Targets as Array<{ Arn?: unknown }> | undefined) ?? []).flatMap((target) => {
      const getAtt = (target.Arn as { 'Fn::GetAtt'?: unknown[] } | undefined)?.['Fn::GetAtt'];
      const id = Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
      if (!id || resources[id]?.Type !== 'AWS::Lambda::Function') return [];
      return [{ functionLogicalId: id, functionRetryAttempts: retryAttemptsOf(id) }];
    });
    if (targets.length > 0) rules.push({ logicalId, pattern, targets });
  }
  return rules.sort((a, b) => a.logicalId.localeCompare(b.logicalId));
}

/** Settings of {@link startEventBus}. */
export interface EventBusOptions {
  readonly rules: readonly TemplateEventRule[];
  /** Invokes a function of the template (by logical id) with an event; rejects when the invocation failed. */
  readonly invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>;
  /** Multiplies Lambda's asynchronous retry delays (tests and benchmarks run them faster). @default 1 */
  readonly retryDelayScale?: number;
  readonly log?: (line: string) => void;
}

/** The local default event bus. */
export interface LocalEventBus {
  /** Puts an event on the bus (as an AWS service does): each matching rule's targets get it, asynchronously. */
  putEvent(event: unknown): void;
  /** Deliveries so far, by rule logical id: `delivered` invocations that succeeded, `dropped` after every retry. */
  stats(): Record<string, { delivered: number; retried: number; dropped: number }>;
  /** Waits for the deliveries in progress (retries included); later puts are refused. */
  close(): Promise<void>;
}

/**
 * Runs the template's event rules on this machine. A matching event goes to each target as Lambda's asynchronous
 * invoke would take it: the invocation may fail (an error, a crash, a timeout) and is then retried after about
 * 1 and 2 minutes (scaled), as many times as the function's EventInvokeConfig says, then dropped (logged), as
 * Lambda drops an event it has no failure destination for. EventBridge's own retry policy (the target's
 * RetryPolicy) covers invokes Lambda refuses (throttling); the local runtime queues those instead.
 */
export function startEventBus(options: EventBusOptions): LocalEventBus {
  const log = options.log ?? (() => undefined);
  const scale = options.retryDelayScale ?? 1;
  const inFlight = new Set<Promise<void>>();
  const counts: Record<string, { delivered: number; retried: number; dropped: number }> = {};
  // Retries waiting for their delay: closing the bus wakes them, and they end.
  const waiting = new Map<NodeJS.Timeout, () => void>();
  let closed = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(timer);
        resolve();
      }, ms);
      waiting.set(timer, resolve);
    });

  const deliver = async (rule: TemplateEventRule, target: TemplateEventRule['targets'][number], event: unknown) => {
    const count = counts[rule.logicalId] ?? { delivered: 0, retried: 0, dropped: 0 };
    counts[rule.logicalId] = count;
    for (let attempt = 0; ; attempt++) {
      try {
        await options.invoke(target.functionLogicalId, event);
        count.delivered += 1;
        return;
      } catch (error) {
        if (attempt >= target.functionRetryAttempts) {
          count.dropped += 1;
          log(`${rule.logicalId} -> ${target.functionLogicalId}: dropped after ${attempt + 1} attempts (${error})`);
          return;
        }
        const delay = ASYNC_RETRY_DELAYS_MS[Math.min(attempt, ASYNC_RETRY_DELAYS_MS.length - 1)] as number;
        await sleep(Math.max(10, Math.round(delay * scale)));
        // A retry cut short by the bus closing is not made: a stack that stops drops it, as a restart would.
        if (closed) return;
        count.retried += 1;
      }
    }
  };

  return {
    putEvent(event) {
      if (closed) throw new Error('The local event bus is closed');
      for (const rule of options.rules) {
        if (!matchesPattern(rule.pattern, event)) continue;
        for (const target of rule.targets) {
          const delivery = deliver(rule, target, event).finally(() => inFlight.delete(delivery));
          inFlight.add(delivery);
        }
      }
    },
    stats: () => structuredClone(counts),
    close: async () => {
      closed = true;
      for (const [timer, wake] of waiting) {
        clearTimeout(timer);
        wake();
      }
      waiting.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}
