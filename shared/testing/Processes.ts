import { type ChildProcess, execFile } from "node:child_process"
import type { TailWindows } from "./OpenLoop.js"

/** SIGTERM, then SIGKILL if the process has not exited after `killAfterMs`; resolves once it has exited. */
export const stopChild = (child: ChildProcess, killAfterMs: number): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
    setTimeout(() => child.kill("SIGKILL"), killAfterMs).unref()
  })

/** What the benches read of autocannon's JSON report. */
export interface LoadResult {
  readonly requests: { readonly average: number; readonly total: number }
  readonly latency: { readonly p50: number; readonly p99: number }
  /** paced rounds only: the p99 (ms) of the requests due in each second, in order (null: none answered) */
  readonly p99BySecond?: ReadonlyArray<number | null>
  /** paced rounds only: when the slowest 1 % were due (OpenLoop.ts `tailWindows`) */
  readonly tail?: TailWindows
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
}

/** the value at percentile `p` (0–100) of ascending samples; NaN when there are none */
export const percentile = (sorted: ArrayLike<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

/** autocannon in its own process: 50 connections for `seconds`, GET or (with a body) a JSON POST. */
export const autocannon = (url: string, seconds: number, body?: string): Promise<LoadResult> =>
  new Promise((resolve, reject) => {
    const args = ["-c", "50", "-d", String(seconds), "-j"]
    if (body !== undefined) args.push("-m", "POST", "-H", "content-type=application/json", "-b", body)
    args.push(url)
    execFile("node_modules/.bin/autocannon", args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err !== null) return reject(err)
      try {
        resolve(JSON.parse(stdout))
      } catch (e) {
        reject(e)
      }
    })
  })

/**
 * autocannon (50 connections for `seconds`) over a list of JSON POSTs, in its own process
 * (LoadRunner.ts): `file` holds a JSON array of `{ body, authorization? }`, sent in order, wrapping;
 * `rate` paces them (requests a second in all) instead of sending as fast as answers come.
 */
export const autocannonOver = (url: string, seconds: number, file: string, rate?: number): Promise<LoadResult> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        "--expose-gc",
        "--import",
        "tsx",
        "shared/testing/LoadRunner.ts",
        url,
        String(seconds),
        file,
        ...(rate !== undefined ? [String(rate)] : [])
      ],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null) return reject(new Error(`load runner failed: ${stderr || err.message}`))
        try {
          resolve(JSON.parse(stdout))
        } catch (e) {
          reject(e)
        }
      }
    )
  })
