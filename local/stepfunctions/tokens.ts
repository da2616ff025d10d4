import { randomUUID } from 'node:crypto';
import type { JsonValue } from './json';

/** AWS caps task tokens at 2,048 characters. */
const MAX_TOKEN_LENGTH = 2048;

/** What a task token names; it is encoded in the token so a later version can resume waits from storage. */
export interface TaskTokenClaims {
  readonly executionArn: string;
  readonly stateName: string;
  readonly id: string;
}

/** What a callback task does when its token is answered. */
export interface TaskCallbacks {
  succeed(output: JsonValue): void;
  fail(error: string, cause: string): void;
  heartbeat(): void;
}

/** Where a token stands: only `waiting` tokens accept answers. */
export type TaskTokenStatus = 'waiting' | 'succeeded' | 'failed' | 'timed-out' | 'closed';

interface TokenEntry {
  readonly claims: TaskTokenClaims;
  status: TaskTokenStatus;
  callbacks?: TaskCallbacks;
}

/** Encodes claims as an opaque token (base64url JSON). */
export function encodeTaskToken(claims: TaskTokenClaims): string {
  return Buffer.from(JSON.stringify({ v: 1, e: claims.executionArn, s: claims.stateName, i: claims.id })).toString(
    'base64url',
  );
}

/** Decodes a token this endpoint issued; undefined when it is not one (AWS answers InvalidToken). */
export function decodeTaskToken(token: string): TaskTokenClaims | undefined {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (parsed.v !== 1) return undefined;
    const { e, s, i } = parsed;
    if (typeof e !== 'string' || typeof s !== 'string' || typeof i !== 'string') return undefined;
    return { executionArn: e, stateName: s, id: i };
  } catch {
    return undefined;
  }
}

/** Outcome of answering a token. */
export type TokenAnswer = 'ok' | 'invalid' | 'unknown' | 'timed-out' | 'closed';

/** The task tokens issued by this endpoint: one per attempt of a callback task. */
export class TaskTokenRegistry {
  private readonly entries = new Map<string, TokenEntry>();

  /** Issues a fresh token for one attempt of a callback task. */
  issue(executionArn: string, stateName: string, callbacks: TaskCallbacks): string {
    const claims = { executionArn, stateName, id: randomUUID() };
    const token = encodeTaskToken(claims);
    this.entries.set(token, { claims, status: 'waiting', callbacks });
    return token;
  }

  /** Marks a token as no longer answerable; `timed-out` makes later answers TaskTimedOut. */
  settle(token: string, status: Exclude<TaskTokenStatus, 'waiting'>): void {
    const entry = this.entries.get(token);
    if (entry?.status !== 'waiting') return;
    entry.status = status;
    entry.callbacks = undefined;
  }

  /** Closes the waiting tokens of an execution that ended (or was stopped). */
  closeExecution(executionArn: string): void {
    for (const [token, entry] of this.entries) {
      if (entry.claims.executionArn === executionArn) this.settle(token, 'closed');
    }
  }

  /** Answers a token: runs `act` on the waiting task's callbacks, or says why it cannot. */
  answer(token: string, act: (callbacks: TaskCallbacks) => void): TokenAnswer {
    if (!decodeTaskToken(token)) return 'invalid';
    const entry = this.entries.get(token);
    if (!entry) return 'unknown';
    if (entry.status === 'timed-out') return 'timed-out';
    if (entry.status !== 'waiting' || !entry.callbacks) return 'closed';
    act(entry.callbacks);
    return 'ok';
  }
}
