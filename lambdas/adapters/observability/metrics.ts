import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { logger } from '../../shared/logger';
import {
  type CountMetricName,
  type LatencyMetricName,
  METRIC_NAMESPACE,
  MetricNames,
  SERVICE_NAME,
} from '../../shared/metric-names';
import type { Metrics } from '../../use-cases/ports';

/**
 * Powertools' own notices go through the service logger; the one it gives for every invocation that recorded
 * nothing (most of them) is dropped rather than flood the logs.
 */
const powertoolsNotices = {
  debug: (...content: unknown[]) => logger.debug(String(content[0]), { notice: content.slice(1) }),
  info: (...content: unknown[]) => logger.info(String(content[0]), { notice: content.slice(1) }),
  warn: (...content: unknown[]) => {
    if (String(content[0]).startsWith('No application metrics to publish')) return;
    logger.warn(String(content[0]), { notice: content.slice(1) });
  },
  error: (...content: unknown[]) => logger.error(String(content[0]), { notice: content.slice(1) }),
};

/**
 * The one Powertools Metrics instance of a function: EMF lines on stdout, namespace RingTonic/PortIn, dimension
 * `service`. Flushed at the end of each invocation by the observability middleware.
 */
export const powertoolsMetrics = new PowertoolsMetrics({
  namespace: METRIC_NAMESPACE,
  serviceName: SERVICE_NAME,
  logger: powertoolsNotices,
});

/** The use cases' {@link Metrics} port on Powertools Metrics. */
export class EmfMetrics implements Metrics {
  constructor(private readonly metrics: PowertoolsMetrics = powertoolsMetrics) {}

  count(name: CountMetricName, value = 1): void {
    this.metrics.addMetric(MetricNames[name], MetricUnit.Count, value);
  }

  milliseconds(name: LatencyMetricName, value: number): void {
    this.metrics.addMetric(MetricNames[name], MetricUnit.Milliseconds, Math.max(0, Math.round(value)));
  }

  publishNow(): void {
    this.metrics.publishStoredMetrics();
  }
}

/** The metrics every handler hands its use cases. */
export const metrics: Metrics = new EmfMetrics();
