import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Queue, Worker } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, uniqueName } from "./testSupport.js"

/**
 * Each committed Redis config started with the real redis-server (port, dir and password on the command
 * line, as in compose): the policies, persistence and disabled commands are what the files say, and
 * BullMQ works on the queue instance despite the disabled commands.
 */
const PASSWORD = uniqueName("pw")

interface Instance {
  readonly port: number
  readonly dir: string
  readonly proc: ChildProcess
}

const start = async (conf: string): Promise<Instance> => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "brandme-redis-"))
  const proc = spawn(
    "redis-server",
    [conf, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--requirepass", PASSWORD],
    { stdio: "ignore" }
  )
  const deadline = Date.now() + 10_000
  for (;;) {
    const r = new IORedis({ port, host: "127.0.0.1", password: PASSWORD, lazyConnect: true, retryStrategy: () => null })
    r.on("error", () => {})
    try {
      await r.connect()
      await r.ping()
      r.disconnect()
      return { port, dir, proc }
    } catch (e) {
      r.disconnect()
      if (Date.now() > deadline) throw e
      await new Promise((res) => setTimeout(res, 200))
    }
  }
}

const stop = (i: Instance | undefined) => {
  if (i === undefined) return
  i.proc.kill("SIGTERM")
  rmSync(i.dir, { recursive: true, force: true })
}

const info = async (port: number, section: string): Promise<Map<string, string>> => {
  const r = new IORedis({ port, host: "127.0.0.1", password: PASSWORD })
  try {
    const text = await r.info(section)
    return new Map(
      text
        .split(/\r?\n/)
        .filter((l) => l.includes(":"))
        .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)])
    )
  } finally {
    r.disconnect()
  }
}

let cache: Instance | undefined
let queue: Instance | undefined

beforeAll(async () => {
  ;[cache, queue] = await Promise.all([start("deploy/redis/redis-cache.conf"), start("deploy/redis/redis-queue.conf")])
})
afterAll(() => {
  stop(cache)
  stop(queue)
})

describe("deploy/redis configs on redis-server", () => {
  it("cache: 2gb, allkeys-lru; queue: 2gb, noeviction; both AOF + RDB", async () => {
    const c = await info(cache!.port, "memory")
    const q = await info(queue!.port, "memory")
    expect(c.get("maxmemory")).toBe(String(2 * 1024 ** 3))
    expect(c.get("maxmemory_policy")).toBe("allkeys-lru")
    expect(q.get("maxmemory")).toBe(String(2 * 1024 ** 3))
    expect(q.get("maxmemory_policy")).toBe("noeviction")
    for (const i of [cache!, queue!]) {
      const p = await info(i.port, "persistence")
      expect(p.get("aof_enabled")).toBe("1")
      const s = await info(i.port, "server")
      expect(s.get("hz")).toBe("10")
    }
  })

  it("requires the password and has the dangerous commands disabled (CONFIG only on the cache)", async () => {
    const anon = new IORedis({
      port: cache!.port,
      host: "127.0.0.1",
      lazyConnect: true,
      enableReadyCheck: false,
      retryStrategy: () => null
    })
    anon.on("error", () => {})
    await anon.connect().catch(() => undefined)
    await expect(anon.get("x")).rejects.toThrow(/NOAUTH/)
    anon.disconnect()
    const r = new IORedis({ port: cache!.port, host: "127.0.0.1", password: PASSWORD })
    try {
      for (const cmd of [
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["KEYS", "*"],
        ["CONFIG", "GET", "maxmemory"],
        ["DEBUG", "SLEEP", "0"]
      ]) {
        await expect(r.call(cmd[0]!, ...cmd.slice(1)), cmd[0]).rejects.toThrow(/unknown command/)
      }
      // SCAN stays available for operators (redis-cli --bigkeys)
      expect(await r.scan("0", "COUNT", "10")).toHaveLength(2)
    } finally {
      r.disconnect()
    }
    // the queue instance keeps CONFIG (read by the orchestrator's noeviction check), nothing else
    const q = new IORedis({ port: queue!.port, host: "127.0.0.1", password: PASSWORD })
    try {
      expect(await q.call("CONFIG", "GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"])
      for (const cmd of [["FLUSHALL"], ["FLUSHDB"], ["KEYS", "*"], ["DEBUG", "SLEEP", "0"]]) {
        await expect(q.call(cmd[0]!, ...cmd.slice(1)), cmd[0]).rejects.toThrow(/unknown command/)
      }
    } finally {
      q.disconnect()
    }
  })

  it("runs BullMQ jobs on the queue instance despite the disabled commands", async () => {
    const connection = new IORedis({
      port: queue!.port,
      host: "127.0.0.1",
      password: PASSWORD,
      maxRetriesPerRequest: null
    })
    const name = uniqueName("ops")
    const q = new Queue(name, { connection })
    const done = new Promise<number>((resolve) => {
      const w = new Worker(name, async (job) => job.data.n * 2, { connection })
      w.on("completed", (_job, result: number) => {
        void w.close().then(() => resolve(result))
      })
    })
    await q.add("double", { n: 21 })
    expect(await done).toBe(42)
    await q.close()
    connection.disconnect()
  })
})
