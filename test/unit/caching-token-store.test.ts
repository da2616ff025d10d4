import { CachingTokenStore } from '../../lambdas/adapters/secrets/caching-token-store';
import type { TwilioTokenStore } from '../../lambdas/use-cases/ports';

/** A token store that counts its reads. */
function countingStore(tokens: Record<string, string | undefined>) {
  let reads = 0;
  const store: TwilioTokenStore = {
    getAuthToken: async (accountId) => {
      reads += 1;
      return tokens[accountId];
    },
    putAuthToken: async (accountId, token) => {
      tokens[accountId] = token;
    },
  };
  return { store, tokens, reads: () => reads };
}

describe('CachingTokenStore', () => {
  it('reads each account once within maxAge, concurrent reads included, and again after it', async () => {
    const { store, reads } = countingStore({ acct_1: 'one', acct_2: 'two' });
    let now = 0;
    const cache = new CachingTokenStore(store, 60_000, () => now);
    expect(await Promise.all([cache.getAuthToken('acct_1'), cache.getAuthToken('acct_1')])).toEqual(['one', 'one']);
    expect(await cache.getAuthToken('acct_2')).toBe('two');
    expect(reads()).toBe(2);
    now = 59_999;
    expect(await cache.getAuthToken('acct_1')).toBe('one');
    expect(reads()).toBe(2);
    now = 60_000;
    expect(await cache.getAuthToken('acct_1')).toBe('one');
    expect(reads()).toBe(3);
  });

  it('forceFetch reads through and keeps what it read', async () => {
    const { store, tokens, reads } = countingStore({ acct_1: 'old' });
    const cache = new CachingTokenStore(store, 60_000, () => 0);
    expect(await cache.getAuthToken('acct_1')).toBe('old');
    tokens.acct_1 = 'new';
    expect(await cache.getAuthToken('acct_1')).toBe('old');
    expect(await cache.getAuthToken('acct_1', { forceFetch: true })).toBe('new');
    expect(await cache.getAuthToken('acct_1')).toBe('new');
    expect(reads()).toBe(2);
  });

  it('keeps neither an absent secret nor a failed read', async () => {
    let fail = true;
    const { store, tokens, reads } = countingStore({});
    const flaky: TwilioTokenStore = {
      ...store,
      getAuthToken: async (id) => {
        if (fail) {
          fail = false;
          throw new Error('throttled');
        }
        return store.getAuthToken(id);
      },
    };
    const cache = new CachingTokenStore(flaky, 60_000, () => 0);
    await expect(cache.getAuthToken('acct_1')).rejects.toThrow('throttled');
    expect(await cache.getAuthToken('acct_1')).toBeUndefined();
    tokens.acct_1 = 'set later';
    expect(await cache.getAuthToken('acct_1')).toBe('set later');
    expect(reads()).toBe(2);
  });

  it('putAuthToken writes through and forgets the kept token', async () => {
    const { store, reads } = countingStore({ acct_1: 'old' });
    const cache = new CachingTokenStore(store, 60_000, () => 0);
    await cache.getAuthToken('acct_1');
    await cache.putAuthToken('acct_1', 'new');
    expect(await cache.getAuthToken('acct_1')).toBe('new');
    expect(reads()).toBe(2);
  });
});
