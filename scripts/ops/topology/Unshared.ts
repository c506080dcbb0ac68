import { spawn } from "node:child_process"

/**
 * Runs a topology runner (run.ts, prometheus.ts) in a private mount + network namespace (`unshare -m -n`, root),
 * from `repo` on the image layout `app`, without the test runner's NODE_OPTIONS/VITEST. Its report is the JSON
 * after `marker` on a stdout line; `output` keeps stdout and the last 20 kB of stderr for a failure message.
 */
export const runUnshared = <R>(o: {
  readonly repo: string
  readonly runner: string
  readonly app: string
  readonly shape: string
  readonly marker: string
}): Promise<{ code: number | null; report: R | undefined; output: string }> =>
  new Promise((done) => {
    const { NODE_OPTIONS: _n, VITEST: _v, ...env } = process.env
    const child = spawn(
      "unshare",
      ["-m", "-n", "--", process.execPath, "--import", "tsx", o.runner, "--shape", o.shape, "--app", o.app],
      { cwd: o.repo, env, stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString()
    })
    child.stderr.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000)
    })
    child.on("exit", (code) => {
      const prefix = `${o.marker} `
      const line = output.split("\n").find((l) => l.startsWith(prefix))
      done({ code, report: line === undefined ? undefined : (JSON.parse(line.slice(prefix.length)) as R), output })
    })
  })
