import { NodeSdk } from "@effect/opentelemetry"
import type { Context as OtelContext } from "@opentelemetry/api"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { isSensitiveKey, REDACTED, redactString } from "./Redact.js"

/** Masks personal data and secrets in span attributes before any exporter sees them. */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly inner: SpanProcessor) {}
  onStart(span: Span, parentContext: OtelContext): void {
    this.inner.onStart(span, parentContext)
  }
  onEnd(span: ReadableSpan): void {
    const attrs = span.attributes as Record<string, unknown>
    for (const [k, v] of Object.entries(attrs)) {
      if (isSensitiveKey(k)) attrs[k] = REDACTED
      else if (typeof v === "string") attrs[k] = redactString(v)
    }
    this.inner.onEnd(span)
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush()
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }
}

export const makeTracingLayer = (o: {
  readonly serviceName: string
  readonly serviceVersion: string
  readonly environment: string
  readonly spanProcessor: SpanProcessor
}) =>
  NodeSdk.layer(() => ({
    resource: {
      serviceName: o.serviceName,
      serviceVersion: o.serviceVersion,
      attributes: { "deployment.environment": o.environment }
    },
    spanProcessor: new RedactingSpanProcessor(o.spanProcessor)
  }))

/** OTLP/HTTP export when OTEL_EXPORTER_OTLP_ENDPOINT is set; no exporter otherwise. */
export const TracingLive = (serviceName: string) =>
  Layer.unwrapEffect(
    Effect.map(AppConfig, (c) =>
      Option.match(c.telemetry.otlpEndpoint, {
        onNone: () => Layer.empty,
        onSome: (endpoint) =>
          makeTracingLayer({
            serviceName,
            serviceVersion: c.version,
            environment: c.appEnv,
            spanProcessor: new BatchSpanProcessor(
              new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` })
            )
          })
      })
    )
  )
