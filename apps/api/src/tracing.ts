/**
 * What the rest of lumen-api needs from tracing, without importing the SDK: the active span's ids for log lines,
 * and a flush at shutdown. Works whether or not `telemetry.ts` started the SDK (then both are no-ops).
 */
import { isSpanContextValid, type ProxyTracerProvider, trace } from '@opentelemetry/api';

/** Whether the environment asks for traces to be exported. */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase() === 'none') return false;
  return set('OTEL_EXPORTER_OTLP_ENDPOINT') || set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') || set('OTEL_TRACES_EXPORTER');
}

/**
 * `{trace_id, span_id}` of the active span, for a pino `mixin` (so every log line written inside a request carries
 * the ids Tempo knows it by); `{}` outside a span or when tracing is off.
 */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const context = trace.getActiveSpan()?.spanContext();
  if (context === undefined || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/** Exports the spans still buffered and stops the tracer provider; call last at shutdown. Never throws. */
export async function shutdownTracing(timeoutMs = 5000): Promise<void> {
  const global = trace.getTracerProvider() as ProxyTracerProvider;
  const provider = (typeof global.getDelegate === 'function' ? global.getDelegate() : global) as {
    shutdown?: () => Promise<void>;
  };
  if (typeof provider.shutdown !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    provider.shutdown().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
