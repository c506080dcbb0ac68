/**
 * The series selectors of a PromQL expression (`metric{label="v",...}`) with their matchers: what the
 * label test (stacks/monitoring.test.ts) checks against every kind of scrape target. A small scanner,
 * enough for the expressions this repository generates: it drops range windows, offsets, grouping clauses,
 * strings outside selectors and function calls, and keeps every series name with its matchers.
 */
export interface Matcher {
  readonly label: string
  readonly op: "=" | "!=" | "=~" | "!~"
  readonly value: string
}

export interface Selector {
  readonly metric: string
  readonly matchers: ReadonlyArray<Matcher>
}

const Keywords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan"
])

const matcherRe = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g

export const parseMatchers = (body: string): ReadonlyArray<Matcher> =>
  [...body.matchAll(matcherRe)].map((m) => ({
    label: m[1] ?? "",
    op: (m[2] ?? "=") as Matcher["op"],
    value: m[3] ?? ""
  }))

export const selectorsIn = (expr: string): ReadonlyArray<Selector> => {
  const cleaned = expr
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\boffset\s+\S+/g, " ")
  const out: Array<Selector> = []
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{[^}]*\})?(\s*\()?/g
  for (const m of cleaned.matchAll(re)) {
    const name = m[1]
    const body = m[2]
    if (name === undefined && body === undefined) continue
    // a function call: its name is no series
    if (m[3] !== undefined && body === undefined) continue
    if (name !== undefined && Keywords.has(name.toLowerCase()) && body === undefined) continue
    // a number's exponent (1e3) or a word inside a string never reach here: expressions quote only matchers
    const matchers = body === undefined ? [] : parseMatchers(body)
    const nameMatcher = matchers.find((x) => x.label === "__name__" && x.op === "=")
    out.push({
      metric: name ?? nameMatcher?.value ?? "",
      matchers: matchers.filter((x) => x.label !== "__name__")
    })
  }
  return out
}

/** Whether a label value satisfies a matcher (an absent label is the empty string, as in PromQL). */
export const satisfies = (m: Matcher, value: string | undefined): boolean => {
  const v = value ?? ""
  const anchored = new RegExp(`^(?:${m.value})$`)
  switch (m.op) {
    case "=":
      return v === m.value
    case "!=":
      return v !== m.value
    case "=~":
      return anchored.test(v)
    case "!~":
      return !anchored.test(v)
  }
}
