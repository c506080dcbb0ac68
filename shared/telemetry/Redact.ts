/**
 * One redaction function keeps personal data and secrets out of every log line and span attribute.
 * Keys that name personal data or credentials are masked whole; in any other string, emails,
 * bearer tokens, JWTs and API keys are masked where they appear.
 */
const SENSITIVE_KEY =
  /pass(word)?|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|email|phone|address|display[-_]?name|full[-_]?name|first[-_]?name|last[-_]?name|^name$|user\.name|claim[-_]?code|signing[-_]?key/i

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, "[email]"],
  [/Bearer\s+[A-Za-z0-9\-._~+/]+=*/gi, "Bearer [token]"],
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[jwt]"],
  [/\bbm_[A-Za-z0-9]{4,}_[A-Za-z0-9]{8,}\b/g, "[api-key]"],
  [/(postgres(?:ql)?|rediss?|nats|amqp):\/\/([^:/@\s]+):([^@\s]+)@/gi, "$1://$2:****@"]
]

export const REDACTED = "[REDACTED]"

export const redactString = (s: string): string => PATTERNS.reduce((acc, [re, by]) => acc.replace(re, by), s)

export const redact = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return redactString(value)
  if (depth > 6 || value === null || typeof value !== "object") return value
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1))
  if (value instanceof Date) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE_KEY.test(k) ? REDACTED : redact(v, depth + 1)
  return out
}

export const isSensitiveKey = (key: string): boolean => SENSITIVE_KEY.test(key)
