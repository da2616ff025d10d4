import { randomUUID } from 'node:crypto';
import { type EngineEvent, isJsonObject, type JsonValue } from './json';

/** What `$$.State` holds in AWS while a state runs. */
interface StateContext {
  readonly Name: string;
  /** When the state was entered: its first attempt (retries do not enter it again). */
  readonly EnteredTime: string;
  /** How many times the state was retried so far. */
  readonly RetryCount: number;
}

/**
 * `$$.State` for one execution. aws-local-stepfunctions' context object has no State, so the engine is given
 * placeholders (unique per execution, never met in real data) that each task attempt replaces with the state's
 * values. The engine's events say when a state is entered and retried; they are read before a task handler sends
 * its request (the handler yields once first, see tasks.ts), so the values are those of the attempt. One state at
 * a time: the definition check refuses `$$.State` inside Map and Parallel, and outside Task states.
 */
export class StateContextTracker {
  private readonly marker = `$$.State:${randomUUID()}`;
  private readonly placeholders = {
    Name: `${this.marker}:Name`,
    EnteredTime: `${this.marker}:EnteredTime`,
    RetryCount: `${this.marker}:RetryCount`,
  };
  private readonly states = new Map<string, { enteredTime: string; retryCount: number }>();

  /** What the engine's context object holds as `State`. */
  get engineContext(): Record<keyof StateContext, string> {
    return this.placeholders;
  }

  /** Follows the engine: a state entered starts at RetryCount 0, each retry adds one. */
  observe(event: EngineEvent): void {
    if (event.type === 'StateEntered') {
      this.states.set(event.state.name, { enteredTime: new Date(event.timestamp).toISOString(), retryCount: 0 });
    } else if (event.type === 'StateRetried') {
      const state = this.states.get(event.state.name);
      if (state) state.retryCount += 1;
    }
  }

  /** `value` with the placeholders replaced by state `name`'s current attempt; throws when the state was not seen. */
  fill(value: JsonValue, name: string): JsonValue {
    const state = this.states.get(name);
    if (!state) throw new Error(`The local endpoint has not seen state ${name} entered: it cannot fill $$.State`);
    const values: StateContext = { Name: name, EnteredTime: state.enteredTime, RetryCount: state.retryCount };
    const replace = (item: JsonValue): JsonValue => {
      if (typeof item === 'string') {
        if (!item.includes(this.marker)) return item;
        for (const [key, placeholder] of Object.entries(this.placeholders)) {
          if (item === placeholder) return values[key as keyof StateContext];
        }
        throw new Error(`State ${name} uses $$.State inside a string (States.Format?), which is not emulated locally`);
      }
      if (Array.isArray(item)) return item.map(replace);
      if (isJsonObject(item)) return Object.fromEntries(Object.entries(item).map(([key, v]) => [key, replace(v)]));
      return item;
    };
    return replace(value);
  }
}
