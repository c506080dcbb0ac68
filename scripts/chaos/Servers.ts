/**
 * Private Postgres, Redis and NATS servers for the chaos test: each on a free port with its data in a
 * temporary directory, started, restarted and killed by the test (the machine's shared servers are never
 * touched). Postgres runs as the `postgres` OS user when this process is root (initdb refuses root).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { freePort } from "../../shared/testing/TestDatabase.js"

const run = promisify(execFile)

export const pgBin = (): string => {
  const root = "/usr/lib/postgresql"
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  const found = versions.map((v) => join(root, v, "bin")).find((d) => existsSync(join(d, "initdb")))
  if (found === undefined) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin (initdb, pg_ctl)`)
  return found
}

const waitExit = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
  })

/** Waits until `check` resolves true (polling), or throws naming `what`. */
export const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 50) => {
  const t0 = Date.now()
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

export interface PrivatePostgres {
  readonly url: (db: string) => string
  /** pg_ctl restart -m fast (connections dropped, in-flight transactions rolled back) */
  readonly restart: () => Promise<void>
  readonly stop: () => Promise<void>
}

export const startPostgres = async (): Promise<PrivatePostgres> => {
  const bin = pgBin()
  const dir = mkdtempSync(join(tmpdir(), "chaos-pg-"))
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"])
    const { stdout: gid } = await run("id", ["-g", "postgres"])
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  chmodSync(dir, 0o700)
  const as = (cmd: string, args: ReadonlyArray<string>) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]) : run(join(bin, cmd), [...args])
  const port = await freePort()
  const data = join(dir, "data")
  await as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100 -c shared_buffers=64MB`
  const ctl = (...args: ReadonlyArray<string>) =>
    as("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-w", "-t", "60", ...args])
  await ctl("-o", opts, "start")
  return {
    url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    restart: async () => {
      await ctl("-m", "fast", "-o", opts, "restart")
    },
    stop: async () => {
      await ctl("-m", "immediate", "stop").catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A Redis server process; `args` are redis-server flags (persistence, eviction). */
export interface PrivateRedis {
  readonly url: string
  /** SIGTERM (Redis flushes its AOF and exits), then start again on the same port and data */
  readonly restart: () => Promise<void>
  readonly stop: () => Promise<void>
}

/** A server process started by `launch`, restarted with a signal and stopped for good (its data removed). */
const supervise = async (dir: string, launch: () => Promise<ChildProcess>) => {
  let child = await launch()
  return {
    restart: async (signal: NodeJS.Signals) => {
      child.kill(signal)
      await waitExit(child)
      child = await launch()
    },
    stop: async () => {
      child.kill("SIGKILL")
      await waitExit(child)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

export const startRedis = async (args: ReadonlyArray<string>): Promise<PrivateRedis> => {
  const dir = mkdtempSync(join(tmpdir(), "chaos-redis-"))
  const port = await freePort()
  const server = await supervise(dir, async () => {
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...args], {
      stdio: "ignore"
    })
    await until(`redis on ${port}`, async () => {
      const { stdout } = await run("redis-cli", ["-p", String(port), "ping"])
      return stdout.trim() === "PONG"
    })
    return child
  })
  return { url: `redis://127.0.0.1:${port}`, restart: () => server.restart("SIGTERM"), stop: server.stop }
}

export interface PrivateNats {
  readonly url: string
  /** kill -9, then start again on the same port and store */
  readonly killAndRestart: () => Promise<void>
  readonly stop: () => Promise<void>
}

export const startNats = async (): Promise<PrivateNats> => {
  const dir = mkdtempSync(join(tmpdir(), "chaos-nats-"))
  const port = await freePort()
  const binary = existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server"
  const { connect } = await import("@nats-io/transport-node")
  const server = await supervise(dir, async () => {
    const child = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" })
    await until(`nats on ${port}`, async () => {
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false })
      await nc.close()
      return true
    })
    return child
  })
  return { url: `nats://127.0.0.1:${port}`, killAndRestart: () => server.restart("SIGKILL"), stop: server.stop }
}
