import { type Operation, ServiceError } from './server';

/** How long a throttling fault lasts: a number of calls, or a time. */
export type ThrottleLimit = { readonly times: number } | { readonly forMs: number };

/** Faults of the local Step Functions API, for tests of what the service does when Step Functions refuses. */
export interface StepFunctionsFaults {
  /**
   * The next `times` calls of `operation` (e.g. `StartExecution`), or every call for `forMs` milliseconds, answer
   * 400 ThrottlingException "Rate exceeded", as Step Functions does past an API's rate. Replaces the operation's
   * earlier fault; `{ times: 0 }` ends it.
   */
  throttle(operation: string, limit: ThrottleLimit): void;
  /** Calls answered with ThrottlingException so far, by operation. */
  throttled(): Record<string, number>;
}

/** Holds the armed faults and refuses the calls they cover. */
export class OperationFaults implements StepFunctionsFaults {
  private readonly armed = new Map<string, { remaining?: number; until?: number }>();
  private readonly counts: Record<string, number> = {};

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  throttle(operation: string, limit: ThrottleLimit): void {
    if ('times' in limit) {
      if (!Number.isInteger(limit.times) || limit.times < 0) throw new Error('times must be an integer >= 0');
      this.armed.set(operation, { remaining: limit.times });
    } else {
      if (!(limit.forMs >= 0)) throw new Error('forMs must be >= 0');
      this.armed.set(operation, { until: Date.now() + limit.forMs });
    }
  }

  throttled(): Record<string, number> {
    return { ...this.counts };
  }

  /** Throws the throttling error when a fault covers this call of `operation`. */
  check(operation: string): void {
    const fault = this.armed.get(operation);
    if (!fault) return;
    if (fault.remaining !== undefined) {
      if (fault.remaining <= 0) return;
      fault.remaining -= 1;
    } else if (fault.until === undefined || Date.now() >= fault.until) {
      return;
    }
    this.counts[operation] = (this.counts[operation] ?? 0) + 1;
    this.log(`${operation} -> ThrottlingException (fault)`);
    throw new ServiceError('ThrottlingException', 'Rate exceeded');
  }

  /** The operations, each refusing first what a fault covers. */
  wrap(operations: Readonly<Record<string, Operation>>): Record<string, Operation> {
    return Object.fromEntries(
      Object.entries(operations).map(([name, operation]) => [
        name,
        (input: Record<string, unknown>) => {
          this.check(name);
          return operation(input);
        },
      ]),
    );
  }
}
