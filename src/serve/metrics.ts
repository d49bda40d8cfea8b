import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServeEngine } from './engine.js';

/** `GET /metrics`: the server's Prometheus metrics (prom-client), on a registry of its own, not the global one. */
export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'status'>;
  private readonly latency: Histogram<'route'>;

  constructor(engine: ServeEngine) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'newsbridge_http_requests_total',
      help: 'HTTP requests answered',
      labelNames: ['route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'newsbridge_http_request_duration_seconds',
      help: 'Time from a request to its answer',
      labelNames: ['route'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const usage = engine.services.backend.usage;
    // The backend counts for the whole process; each scrape sets the counters to its totals.
    const total = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    total(
      'newsbridge_sentences_translated_total',
      'Model inputs (sentences or pieces of long ones) the models translated',
      () => usage.sentencesToModel,
    );
    total(
      'newsbridge_memory_hits_total',
      'Sentences answered by the translation memory or by the same sentence in flight',
      () => usage.cacheHits,
    );
    total('newsbridge_model_batches_total', 'Batches the models ran', () => usage.modelCalls);
    new Gauge({
      name: 'newsbridge_pending_sentences',
      help: 'Sentences of admitted requests not yet translated (bounded by serve.maxPendingSentences)',
      registers,
      collect() {
        this.set(engine.admission.pending);
      },
    });
  }

  observe(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, status: String(status) });
    this.latency.observe({ route }, seconds);
  }
}
