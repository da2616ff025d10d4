import { matchesPattern, startEventBus, type TemplateEventRule } from '../../local/eventbridge';

// The local default event bus (local/eventbridge): EventBridge's pattern matching and Lambda's asynchronous retries.

const SENT_PATTERN = {
  source: ['aws.ses'],
  'detail-type': ['Email Sent'],
  detail: { mail: { tags: { 'ses:configuration-set': ['port-emails'] } } },
};
const sentEvent = (set: string) => ({
  source: 'aws.ses',
  'detail-type': 'Email Sent',
  detail: { mail: { tags: { 'ses:configuration-set': [set] } } },
});

describe('matchesPattern', () => {
  it('matches every field, nested, with an array event value matching any of its elements', () => {
    expect(matchesPattern(SENT_PATTERN, sentEvent('port-emails'))).toBe(true);
    expect(matchesPattern(SENT_PATTERN, sentEvent('other'))).toBe(false);
    expect(matchesPattern(SENT_PATTERN, { ...sentEvent('port-emails'), source: 'aws.events' })).toBe(false);
    expect(matchesPattern(SENT_PATTERN, { source: 'aws.ses', 'detail-type': 'Email Sent' })).toBe(false);
  });

  it('knows exists and prefix', () => {
    expect(matchesPattern({ a: [{ exists: true }] }, { a: 1 })).toBe(true);
    expect(matchesPattern({ a: [{ exists: false }] }, {})).toBe(true);
    expect(matchesPattern({ a: [{ exists: false }] }, { a: 1 })).toBe(false);
    expect(matchesPattern({ a: [{ prefix: 'pr_' }] }, { a: 'pr_1' })).toBe(true);
    expect(matchesPattern({ a: [{ prefix: 'pr_' }] }, { a: 'ord_1' })).toBe(false);
  });
});

describe('startEventBus', () => {
  const rule = (retries: number): TemplateEventRule => ({
    logicalId: 'SentRule',
    pattern: SENT_PATTERN,
    targets: [{ functionLogicalId: 'Confirm', functionRetryAttempts: retries }],
  });

  it('delivers a matching event to each target, retries a failed invocation as Lambda does, then drops it', async () => {
    const calls: unknown[] = [];
    let failures = 1;
    const bus = startEventBus({
      rules: [rule(2)],
      retryDelayScale: 0.0001,
      invoke: async (name, event) => {
        calls.push([name, event]);
        if (failures-- > 0) throw new Error('Runtime.ExitError');
      },
    });
    bus.putEvent(sentEvent('port-emails'));
    bus.putEvent(sentEvent('other'));
    // The retry waits its (scaled) delay, at least 10 ms; a bus closed meanwhile would skip it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await bus.close();
    expect(calls).toEqual([
      ['Confirm', sentEvent('port-emails')],
      ['Confirm', sentEvent('port-emails')],
    ]);
    expect(bus.stats()).toEqual({ SentRule: { delivered: 1, retried: 1, dropped: 0 } });

    const failing = startEventBus({
      rules: [rule(2)],
      retryDelayScale: 0.0001,
      invoke: async () => {
        throw new Error('down');
      },
    });
    failing.putEvent(sentEvent('port-emails'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await failing.close();
    expect(failing.stats()).toEqual({ SentRule: { delivered: 0, retried: 2, dropped: 1 } });
  });
});
