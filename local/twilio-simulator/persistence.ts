import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Account, IncomingNumber, PortInRequest, SimulatorStore, UploadedDocument } from './state';

/**
 * The simulator's state in a JSON file, so that a local stack restarted on its data dir meets the same Twilio:
 * accounts (with their auth tokens, numbers, documents and webhook configuration) and port-in requests. Faults,
 * the webhook log and the auto-advance walk are not kept.
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
export function serializeStore(store: SimulatorStore): string {
  return JSON.stringify({
    version: VERSION,
    accounts: [...store.accounts.values()].map(encode),
    portIns: [...store.portIns.values()].map(encode),
  });
}

/** Puts the state of {@link serializeStore} back into an empty store. */
export function restoreStore(store: SimulatorStore, text: string): void {
  const data = JSON.parse(text) as { version?: number; accounts?: unknown[]; portIns?: unknown[] };
  if (data.version !== VERSION) throw new Error(`Unknown simulator state version ${String(data.version)}`);
  for (const raw of data.accounts ?? []) {
    const decoded = decode(raw) as Omit<Account, 'incomingNumbers' | 'documents'> & {
      incomingNumbers: IncomingNumber[];
      documents: UploadedDocument[];
    };
    store.accounts.set(decoded.sid, {
      ...decoded,
      incomingNumbers: new Map(decoded.incomingNumbers.map((n) => [n.sid, n])),
      documents: new Map(decoded.documents.map((d) => [d.sid, d])),
    });
  }
  let sequence = 0;
  for (const raw of data.portIns ?? []) {
    const request = decode(raw) as PortInRequest;
    store.portIns.set(request.sid, request);
    sequence = Math.max(sequence, request.sequence);
  }
  // New requests sort after the restored ones.
  while (store.nextSequence() < sequence) {
    // advances the store's counter
  }
}

/** Keeps a store in a file: loads it now, then `save()` writes it when it changed (atomically, by rename). */
export class StoreFile {
  private last = '';

  constructor(
    private readonly store: SimulatorStore,
    private readonly file: string,
  ) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      restoreStore(store, text);
      this.last = serializeStore(store);
    }
  }

  save(): void {
    const text = serializeStore(this.store);
    if (text === this.last) return;
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, this.file);
    this.last = text;
  }
}
