import type { RunOptions, StateMachine } from 'aws-local-stepfunctions';

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/** A JSON value as aws-local-stepfunctions passes it to and takes it from task handlers. */
export type JsonValue = Parameters<LocalHandlers[string]>[0];

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** One entry of the engine's `eventLogs` (the library does not export the type). */
export type EngineEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** Whether a value is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns what a Lambda returned into JSON the way Lambda does (one serialization round trip); `undefined` is null.
 */
export function toJsonValue(value: unknown): JsonValue {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

/** JSON text of a value, `null` for undefined (history events and API answers carry JSON as strings). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}
