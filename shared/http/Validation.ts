import { Either, ParseResult } from "effect"
import type { ErrorBody } from "./Errors.js"

/**
 * Readable validation errors, the one formatter of every service and the gateway's fast lane:
 * `message` names the first problem in words with its path (`facets: is missing`, `gtin: must be 8,
 * 12, 13 or 14 digits`); `details.issues` lists them all as `{ path, message }`. Never the schema
 * dump and never the input value (a password must not come back in an error).
 */
export interface ReadableIssue {
  readonly path: string
  readonly message: string
}

/** What the schema formatters give: a path and a message (that may end in `, actual <the input>`). */
export interface RawIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

const pathText = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`
    else out += out === "" ? String(p) : `.${String(p)}`
  }
  return out === "" ? "body" : out
}

/**
 * What a value was expected to be, in words: a struct's or a record's schema (`{ readonly email: …; … }`) is "an
 * object" and an array's or a tuple's "an array" — its fields are named by their own issues once it is one —
 * anything else as the schema names it (`number`, `"a" | "b"`, an annotated description).
 */
const expectedWords = (expected: string): string =>
  expected.startsWith("{")
    ? "an object"
    : /^(readonly )?\[|^(Readonly)?Array<|^ReadonlyArray<|^NonEmptyReadonlyArray<|^NonEmptyArray</.test(expected)
      ? "an array"
      : expected

/** `Expected X, actual "secret"` → `must be X`; annotated messages are kept as written. */
const wordsOf = (message: string): string => {
  const actual = message.search(/, actual [\s\S]*$/)
  const withoutInput = actual >= 0 ? message.slice(0, actual) : message
  return withoutInput.startsWith("Expected ")
    ? `must be ${expectedWords(withoutInput.slice("Expected ".length))}`
    : withoutInput
}

/** One issue per path: a union's alternatives (`must be "a"`, `must be "b"`) become `must be "a" or "b"`. */
export const readableIssues = (raw: ReadonlyArray<RawIssue>): ReadonlyArray<ReadableIssue> => {
  const byPath = new Map<string, Array<string>>()
  for (const issue of raw) {
    const path = pathText(issue.path)
    const words = wordsOf(issue.message)
    const list = byPath.get(path) ?? []
    if (!list.includes(words)) list.push(words)
    byPath.set(path, list)
  }
  const out: Array<ReadableIssue> = []
  for (const [path, list] of byPath) {
    // `must be undefined` is the optional field's other branch: noise next to the real expectation
    const useful = list.length > 1 ? list.filter((m) => m !== "must be undefined") : list
    const alternatives = useful.filter((m) => m.startsWith("must be "))
    const message =
      alternatives.length > 1 && alternatives.length === useful.length
        ? `must be ${alternatives.map((m) => m.slice("must be ".length)).join(" or ")}`
        : useful.join("; ")
    out.push({ path, message })
  }
  return out
}

/** The 400 body for a list of schema issues. */
export const validationBody = (raw: ReadonlyArray<RawIssue>): ErrorBody => {
  const issues = readableIssues(raw)
  const first = issues[0]
  return {
    error: "ValidationError",
    message: first === undefined ? "request is invalid" : `${first.path}: ${first.message}`,
    details: { issues }
  }
}

/** The 400 body for a failed decode (every issue, not only the first). */
export const parseErrorBody = (error: ParseResult.ParseError): ErrorBody =>
  validationBody(ParseResult.ArrayFormatter.formatErrorSync(error))

/** JSON bodies nested deeper than this are refused (HTTP_MAX_JSON_DEPTH) before anything recurses into them. */
export const DEFAULT_MAX_JSON_DEPTH = 32

/** Nesting depth of a JSON text, counted without parsing (no recursion, so 100k levels cost nothing). */
export const jsonDepth = (text: string, stopAbove: number): number => {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92)
        i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 || c === 91) {
      depth++
      if (depth > max) {
        max = depth
        if (max > stopAbove) return max
      }
    } else if (c === 125 || c === 93) depth--
  }
  return max
}

/** The path of the first string (or key) holding a NUL character, which Postgres text cannot store. */
export const firstNulPath = (value: unknown): string | undefined => {
  const stack: Array<{ readonly v: unknown; readonly path: ReadonlyArray<PropertyKey> }> = [{ v: value, path: [] }]
  while (stack.length > 0) {
    const { v, path } = stack.pop()!
    if (typeof v === "string") {
      if (v.includes("\u0000")) return pathText(path)
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] })
    } else if (typeof v === "object" && v !== null) {
      const entries = Object.entries(v)
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i]!
        if (k.includes("\u0000")) return pathText([...path, k.replaceAll("\u0000", "\\u0000")])
        stack.push({ v: child, path: [...path, k] })
      }
    }
  }
  return undefined
}

/**
 * A JSON request body checked for what would crash or corrupt later, before any schema sees it: too
 * deep (a 400 instead of a stack overflow) and NUL characters (a 400 naming the field instead of a
 * Postgres error), and a body that is not JSON at all (a 400 saying so, `notJsonMessage`). Right: the parsed
 * value, or undefined for an empty body. Left: the 400 body.
 */
/**
 * "request body is not valid JSON: …" with the parser's words about where (`Expected property name or '}' in JSON
 * at position 1`), without the stretch of the body V8 quotes in some of them (`Unexpected token 'h', "hunter2" is
 * not valid JSON`): a password sent as a malformed body must not come back in the answer, nor reach a log.
 */
export const notJsonMessage = (e: unknown): string => {
  const raw = e instanceof Error ? e.message : "parse error"
  const words = raw.replace(/, (\.\.\.)?"[\s\S]*"(\.\.\.)? is not valid JSON$/, "")
  return `request body is not valid JSON: ${words}`
}

/**
 * The 415 body for a request body sent with a content type other than `application/json` (with or without
 * parameters, in any case); undefined when the type is JSON or not given (the body is then read as JSON). Every
 * API of the platform takes JSON bodies only; the framework's router answered other types as it could — a form
 * decoded as fields, a malformed multipart body with a 500, an `application/…+json` body never (the request hung).
 */
export const unsupportedMediaType = (contentType: string | undefined): ErrorBody | undefined => {
  if (contentType === undefined) return undefined
  const media = (contentType.split(";")[0] ?? "").trim().toLowerCase()
  if (media === "" || media === "application/json") return undefined
  return {
    error: "UnsupportedMediaType",
    message: `content-type ${media.slice(0, 100)} is not accepted: send the body as JSON with content-type: application/json`
  }
}

export const checkJsonBody = (text: string, maxDepth: number): Either.Either<unknown, ErrorBody> => {
  if (text === "") return Either.right(undefined)
  const depth = jsonDepth(text, maxDepth)
  if (depth > maxDepth) {
    return Either.left({
      error: "ValidationError",
      message: `body: nested more than ${maxDepth} levels deep`,
      details: { issues: [{ path: "body", message: `nested more than ${maxDepth} levels deep` }] }
    })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    return Either.left({ error: "BadRequest", message: notJsonMessage(e) })
  }
  // JSON text can carry a NUL only as the escape \u0000 (a raw control character does not parse): without
  // one, there is no NUL to look for in the parsed value
  const nul = text.includes("\\u0000") ? firstNulPath(parsed) : undefined
  if (nul !== undefined) {
    const message = "must not contain a NUL character (\\u0000)"
    return Either.left({
      error: "ValidationError",
      message: `${nul}: ${message}`,
      details: { issues: [{ path: nul, message }] }
    })
  }
  return Either.right(parsed)
}
