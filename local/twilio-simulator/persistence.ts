import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Account, IncomingNumber, PortInRequest, SimulatedCall, SimulatorStore, UploadedDocument } from './state';
import type { OutstandingDelivery } from './webhooks';

/**
 * The simulator's state in a JSON file, so that a local stack restarted on its data dir meets the same Twilio:
 * accounts (with their auth tokens, numbers, documents, webhook configuration, calls and numbers made unreachable),
 * port-in requests (with where
 * their auto-advance walk stands) and the webhooks not yet delivered. Faults and the rest of the webhook log are
 * not kept.
 */

const VERSION = 1;

type Json = Record<string, unknown>;

/** Dates become `{ $date: iso }` so they come back as Dates. */
function encode(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value instanceof Map) return [...value.values()].map(encode);
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encode(item)]));
  }
  return value;
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    const record = value as Json;
    if (typeof record.$date === 'string' && Object.keys(record).length === 1) return new Date(record.$date);
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, decode(item)]));
  }
  return value;
}

/** The state as JSON text. */
export function serializeStore(store: SimulatorStore, webhooks: readonly OutstandingDelivery[] = []): string {
  return JSON.stringify({
    version: VERSION,
    accounts: [...store.accounts.values()].map(encode),
    portIns: [...store.portIns.values()].map(encode),
    webhooks,
  });
}

/** Puts the state of {@link serializeStore} back into an empty store; answers the webhooks still to deliver. */
export function restoreStore(store: SimulatorStore, text: string): OutstandingDelivery[] {
  const data = JSON.parse(text) as {
    version?: number;
    accounts?: unknown[];
    portIns?: unknown[];
    webhooks?: OutstandingDelivery[];
  };
  if (data.version !== VERSION) throw new Error(`Unknown simulator state version ${String(data.version)}`);
  let sequence = 0;
  for (const raw of data.accounts ?? []) {
    const decoded = decode(raw) as Omit<Account, 'incomingNumbers' | 'documents' | 'calls' | 'unreachableNumbers'> & {
      incomingNumbers: IncomingNumber[];
      documents: UploadedDocument[];
      // Absent from the files of a simulator that had no Calls yet.
      calls?: SimulatedCall[];
      unreachableNumbers?: string[];
    };
    const calls = decoded.calls ?? [];
    store.accounts.set(decoded.sid, {
      ...decoded,
      incomingNumbers: new Map(decoded.incomingNumbers.map((n) => [n.sid, n])),
      documents: new Map(decoded.documents.map((d) => [d.sid, d])),
      calls: new Map(calls.map((c) => [c.sid, c])),
      unreachableNumbers: decoded.unreachableNumbers ?? [],
    });
    for (const call of calls) sequence = Math.max(sequence, call.sequence);
  }
  for (const raw of data.portIns ?? []) {
    const request = decode(raw) as PortInRequest;
    store.portIns.set(request.sid, request);
    sequence = Math.max(sequence, request.sequence);
  }
  // New requests and calls sort after the restored ones.
  while (store.nextSequence() < sequence) {
    // advances the store's counter
  }
  return data.webhooks ?? [];
}

/**
 * Keeps a store and the webhooks not yet delivered in a file: loads it now, then `save()` writes it when it changed
 * (atomically, by rename).
 */
export class StoreFile {
  /** The webhooks the file had still to deliver, for the dispatcher to send. */
  readonly restoredWebhooks: readonly OutstandingDelivery[] = [];
  private last = '';
  private saveScheduled: NodeJS.Immediate | undefined;
  private closed = false;
  private waitingForSave: Array<() => void> = [];

  constructor(
    private readonly store: SimulatorStore,
    private readonly file: string,
    private readonly outstandingWebhooks: () => readonly OutstandingDelivery[],
  ) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      this.restoredWebhooks = restoreStore(store, text);
      this.last = text;
    }
  }

  /** Resolves once the state as it is now is on disk (saved soon, with whatever else changes meanwhile). */
  saved(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.waitingForSave.push(resolve);
      this.saveSoon();
    });
  }

  /** Saves once after the current turn of the event loop, however many changes ask for it meanwhile. */
  saveSoon(): void {
    this.saveScheduled ??= setImmediate(() => {
      this.saveScheduled = undefined;
      this.save();
    });
  }

  save(): void {
    clearImmediate(this.saveScheduled);
    this.saveScheduled = undefined;
    const waiting = this.waitingForSave;
    this.waitingForSave = [];
    if (!this.closed) {
      const text = serializeStore(this.store, this.outstandingWebhooks());
      if (text !== this.last) {
        const temporary = `${this.file}.tmp`;
        writeFileSync(temporary, text, { mode: 0o600 });
        renameSync(temporary, this.file);
        this.last = text;
      }
    }
    for (const resolve of waiting) resolve();
  }

  /** Saves a last time; later saves are ignored (a delivery ending after close must not write the file). */
  close(): void {
    this.save();
    this.closed = true;
  }
}
