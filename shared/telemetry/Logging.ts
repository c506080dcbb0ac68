import { Cause, Context, FiberRef, FiberRefs, HashMap, Logger, Tracer } from "effect"
import { redact, redactString } from "./Redact.js"

/**
 * JSON log lines: time, level, service, message, trace_id, span_id and the fiber's annotations,
 * every value passed through the one redaction function. Loki reads `service` and `trace_id`
 * (the Grafana data source links trace_id to Tempo).
 */
const messageText = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ")
}

export const makeJsonLogger = (
  defaultService: string,
  write: (line: string) => void = (l) => process.stdout.write(l)
) =>
  Logger.make(({ logLevel, message, annotations, context, date, cause }) => {
    const ctx = FiberRefs.getOrDefault(context, FiberRef.currentContext)
    const span = Context.getOption(ctx, Tracer.ParentSpan)
    const fields: Record<string, unknown> = {}
    for (const [k, v] of HashMap.toEntries(annotations)) fields[k] = v
    const line: Record<string, unknown> = {
      time: date.toISOString(),
      level: logLevel.label.toLowerCase(),
      service: typeof fields.service === "string" ? fields.service : defaultService,
      message: redactString(messageText(message)),
      ...(span._tag === "Some" ? { trace_id: span.value.traceId, span_id: span.value.spanId } : {}),
      ...(redact(fields) as Record<string, unknown>)
    }
    if (!Cause.isEmpty(cause)) line.cause = redactString(Cause.pretty(cause))
    write(`${JSON.stringify(line)}\n`)
  })
