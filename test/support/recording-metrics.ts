import type { CountMetricName } from '../../lambdas/shared/metric-names';
import type { Metrics } from '../../lambdas/use-cases/ports';

/** A {@link Metrics} that keeps the counts in memory, and how many times they were published early. */
export function recordingMetrics() {
  const counts: Partial<Record<CountMetricName, number>> = {};
  let publishedEarly = 0;
  const metrics: Metrics = {
    count: (name, value = 1) => {
      counts[name] = (counts[name] ?? 0) + value;
    },
    milliseconds: () => undefined,
    publishNow: () => {
      publishedEarly += 1;
    },
  };
  return { metrics, counts, publishedEarly: () => publishedEarly };
}
