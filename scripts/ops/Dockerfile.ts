import { readFileSync } from "node:fs"

/**
 * The Dockerfile read as stages, each with its instructions (continuations joined). The image the
 * stacks and compose run is the default target: the last stage, with the ENV of every stage it is
 * built FROM.
 */
export interface Stage {
  readonly base: string
  readonly name: string
  readonly instructions: Array<{ readonly op: string; readonly args: string }>
}

export const parseDockerfile = (text: string): ReadonlyArray<Stage> => {
  const lines = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
  const stages: Array<Stage> = []
  for (const line of lines) {
    const [op = "", ...rest] = line.split(/\s+/)
    const args = rest.join(" ")
    if (op.toUpperCase() === "FROM") {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      stages.push({ base: m?.[1] ?? "", name: m?.[2] ?? "", instructions: [] })
    } else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args })
  }
  return stages
}

/** ENV instructions of a stage as a map (both `ENV A=1 B=2` and `ENV A 1`). */
export const envOf = (instructions: Stage["instructions"]): Map<string, string> => {
  const env = new Map<string, string>()
  for (const i of instructions.filter((x) => x.op === "ENV")) {
    if (i.args.includes("=")) {
      for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env.set(m[1]!, m[2]!.replace(/^"(.*)"$/, "$1"))
    } else {
      const [k = "", ...v] = i.args.split(/\s+/)
      env.set(k, v.join(" "))
    }
  }
  return env
}

export const readDockerfile = (file = "Dockerfile"): ReadonlyArray<Stage> => parseDockerfile(readFileSync(file, "utf8"))

/** The default target (the last stage) and the ENV it inherits along its FROM chain. */
export const defaultTarget = (
  stages: ReadonlyArray<Stage>
): { readonly stage: Stage; readonly env: Readonly<Record<string, string>> } => {
  const last = stages.at(-1)
  if (last === undefined) throw new Error("the Dockerfile has no stage")
  const chain: Array<Stage> = []
  for (let s: Stage | undefined = last; s !== undefined; s = stages.find((x) => x.name === s?.base)) {
    chain.unshift(s)
    if (chain.length > stages.length) break
  }
  const env: Record<string, string> = {}
  for (const s of chain) for (const [k, v] of envOf(s.instructions)) env[k] = v
  return { stage: last, env }
}

/** A JSON-form CMD (`["node", "dist/services/main.js"]`) as its argv. */
export const execForm = (args: string): ReadonlyArray<string> => {
  const parsed: unknown = JSON.parse(args)
  if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === "string")) {
    throw new Error(`CMD must be the JSON exec form, got ${args}`)
  }
  return parsed
}
