// Informational readiness lines for every Prometheus the analyses read: the bot-wide one
// (PROMETHEUS_URL) and each pipeline's own `spec.analysis.provider.prometheus`, so an analysis
// waiting on an unreachable tenant endpoint can be explained from `/readyz?verbose`.

import type { Definition } from '../core/definition.js';
import type { MetricProvider } from '../gates/query-outcome.js';
import type { ReadinessCheck } from './routes/readiness.js';

function probeOf(provider: MetricProvider): () => Promise<boolean> {
  return async () => {
    const outcome = await provider.query('vector(1)');
    if (outcome.kind === 'error') throw new Error(outcome.message);
    return outcome.kind === 'value';
  };
}

/** `prometheus` for the bot-wide provider, `prometheus:<pipeline>` for each pipeline with its own. */
export function prometheusChecks(
  botMetrics: MetricProvider | undefined,
  definitions: readonly Definition[],
  metricsFor: (definition: Definition) => MetricProvider | undefined,
): ReadinessCheck[] {
  const checks: ReadinessCheck[] = botMetrics ? [{ name: 'prometheus', probe: probeOf(botMetrics) }] : [];
  for (const definition of definitions) {
    if (!definition.analysis.provider?.prometheus) continue;
    const provider = metricsFor(definition);
    if (provider && provider !== botMetrics) checks.push({ name: `prometheus:${definition.name}`, probe: probeOf(provider) });
  }
  return checks;
}
