import type { TwilioTokenStore } from '../../use-cases/ports';

/** How long a warm function trusts a token it read: a rotated token is also picked up at once on a mismatch. */
const DEFAULT_MAX_AGE_MS = 5 * 60 * 1000;
/** Accounts remembered at most (the oldest read is forgotten first). */
const MAX_ACCOUNTS = 1000;

/**
 * Keeps the tokens another store answers for a while in the warm function (one Secrets Manager call per account
 * every few minutes, not one per webhook). Concurrent reads of an account share one call; a failed call and an
 * absent secret are not kept. `forceFetch` reads through, for a caller whose check failed with the kept token.
 */
export class CachingTokenStore implements TwilioTokenStore {
  private readonly entries = new Map<string, { token: Promise<string | undefined>; expiresAt: number }>();

  constructor(
    private readonly store: TwilioTokenStore,
    private readonly maxAgeMs: number = DEFAULT_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  getAuthToken(accountId: string, options?: { readonly forceFetch?: boolean }): Promise<string | undefined> {
    const entry = this.entries.get(accountId);
    if (entry && !options?.forceFetch && entry.expiresAt > this.now()) return entry.token;
    return this.fetch(accountId);
  }

  async putAuthToken(accountId: string, authToken: string): Promise<void> {
    this.entries.delete(accountId);
    await this.store.putAuthToken(accountId, authToken);
  }

  private fetch(accountId: string): Promise<string | undefined> {
    const token = this.store.getAuthToken(accountId);
    this.entries.delete(accountId);
    if (this.entries.size >= MAX_ACCOUNTS) this.entries.delete(this.entries.keys().next().value as string);
    const entry = { token, expiresAt: this.now() + this.maxAgeMs };
    this.entries.set(accountId, entry);
    const forget = () => {
      if (this.entries.get(accountId) === entry) this.entries.delete(accountId);
    };
    token.then((value) => value === undefined && forget(), forget);
    return token;
  }
}
