import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chmodSync, chownSync, createWriteStream, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"

/**
 * What a topology run needs around the workloads, inside its private network and mount namespace: `lo`
 * up, a private /etc/hosts, a local CA with one server certificate, and private Postgres (TLS + password),
 * Redis (AUTH, TLS when asked) and NATS JetStream, each on its own loopback address.
 */

export const run = (cmd: string, args: ReadonlyArray<string>): string =>
  execFileSync(cmd, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

/** Inside `unshare -m -n`: loopback up (all of 127.0.0.0/8 is then local), /etc/hosts replaced for this namespace only. */
export const setUpNamespace = (dir: string, hosts: Readonly<Record<string, string>>): void => {
  run("ip", ["link", "set", "lo", "up"])
  const file = join(dir, "hosts")
  const lines = ["127.0.0.1 localhost", ...Object.entries(hosts).map(([name, addr]) => `${addr} ${name}`)]
  writeFileSync(file, `${lines.join("\n")}\n`)
  run("mount", ["--bind", file, "/etc/hosts"])
}

export interface Tls {
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
}

/** A local CA and one server certificate for every data-service name and address. */
export const makeCertificates = (dir: string, names: ReadonlyArray<string>, ips: ReadonlyArray<string>): Tls => {
  const p = (f: string) => join(dir, f)
  run(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=brandme topology test CA"
    ])
  )
  run(
    "openssl",
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      p("server.key"),
      "-out",
      p("server.csr"),
      "-subj",
      `/CN=${names[0] ?? "server"}`
    ])
  )
  const san = [...names.map((n) => `DNS:${n}`), ...ips.map((i) => `IP:${i}`)].join(",")
  writeFileSync(p("san.ext"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`)
  run(
    "openssl",
    ["x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key")].concat([
      "-CAcreateserial",
      "-out",
      p("server.pem"),
      "-days",
      "2",
      "-extfile",
      p("san.ext")
    ])
  )
  return { caFile: p("ca.pem"), certFile: p("server.pem"), keyFile: p("server.key") }
}

export interface Daemon {
  readonly name: string
  readonly child: ChildProcess
}

const daemon = (name: string, cmd: string, args: ReadonlyArray<string>, logDir: string): Daemon => {
  const log = createWriteStream(join(logDir, `${name}.log`))
  const child = spawn(cmd, [...args], { stdio: ["ignore", "pipe", "pipe"] })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  return { name, child }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> => {
  const t0 = performance.now()
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - t0
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not ready after ${timeoutMs} ms`)
    await sleep(100)
  }
}

const pgBin = (tool: string): string => {
  const versions = readdirSync("/usr/lib/postgresql").sort()
  const v = versions.at(-1)
  if (v === undefined) throw new Error("no PostgreSQL under /usr/lib/postgresql")
  return `/usr/lib/postgresql/${v}/bin/${tool}`
}

export interface PostgresOptions {
  readonly dir: string
  readonly address: string
  readonly tls: Tls | undefined
  readonly user: string
  readonly password: string
  readonly database: string
}

/** initdb as the `postgres` OS user (initdb refuses root), TLS and scram passwords on TCP, trust on its socket. */
export const startPostgres = async (
  o: PostgresOptions,
  logDir: string
): Promise<Daemon & { admin: pg.ClientConfig }> => {
  const data = join(o.dir, "pgdata")
  mkdirSync(data, { recursive: true })
  chmodSync(o.dir, 0o755)
  const uid = Number(run("id", ["-u", "postgres"]).trim())
  const gid = Number(run("id", ["-g", "postgres"]).trim())
  chownSync(data, uid, gid)
  // its socket and lock file live beside the data folder
  chownSync(o.dir, uid, gid)
  run("runuser", ["-u", "postgres", "--", pgBin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
  const conf: Array<string> = [
    `listen_addresses = '${o.address}'`,
    "port = 5432",
    `unix_socket_directories = '${o.dir}'`,
    "max_connections = 400",
    "fsync = off",
    "synchronous_commit = off",
    "full_page_writes = off",
    "shared_buffers = 32MB",
    "password_encryption = 'scram-sha-256'"
  ]
  if (o.tls !== undefined) {
    for (const [src, dst] of [
      [o.tls.certFile, "server.crt"],
      [o.tls.keyFile, "server.key"]
    ] as const) {
      run("cp", [src, join(data, dst)])
      chownSync(join(data, dst), uid, gid)
      chmodSync(join(data, dst), 0o600)
    }
    conf.push("ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'")
  }
  writeFileSync(join(data, "postgresql.auto.conf"), `${conf.join("\n")}\n`)
  writeFileSync(
    join(data, "pg_hba.conf"),
    ["local all all trust", `${o.tls === undefined ? "host" : "hostssl"} all all 127.0.0.0/8 scram-sha-256`, ""].join(
      "\n"
    )
  )
  const d = daemon("postgres", "runuser", ["-u", "postgres", "--", pgBin("postgres"), "-D", data], logDir)
  const admin: pg.ClientConfig = { host: o.dir, port: 5432, user: "postgres", database: "postgres" }
  await waitFor(
    "postgres",
    async () => {
      const c = new pg.Client(admin)
      await c.connect()
      await c.end()
      return true
    },
    30_000
  )
  const c = new pg.Client(admin)
  await c.connect()
  await c.query(`CREATE ROLE ${o.user} LOGIN PASSWORD '${o.password}'`)
  await c.query(`CREATE DATABASE ${o.database} OWNER ${o.user}`)
  await c.end()
  return { ...d, admin: { ...admin, database: o.database } }
}

export const startRedis = async (
  name: string,
  address: string,
  password: string,
  tls: Tls | undefined,
  logDir: string,
  extraArgs: ReadonlyArray<string> = []
): Promise<Daemon> => {
  const args = [
    ...extraArgs,
    "--bind",
    address,
    "--requirepass",
    password,
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    logDir,
    ...(tls === undefined
      ? ["--port", "6379"]
      : [
          "--port",
          "0",
          "--tls-port",
          "6379",
          "--tls-cert-file",
          tls.certFile,
          "--tls-key-file",
          tls.keyFile,
          "--tls-ca-cert-file",
          tls.caFile,
          "--tls-auth-clients",
          "no"
        ])
  ]
  const d = daemon(name, "redis-server", args, logDir)
  await waitFor(
    name,
    async () => run("cat", [join(logDir, `${name}.log`)]).includes("Ready to accept connections"),
    20_000
  )
  return d
}

export const startNats = async (address: string, dir: string, logDir: string): Promise<Daemon> => {
  mkdirSync(join(dir, "jetstream"), { recursive: true })
  const d = daemon(
    "nats",
    "/usr/sbin/nats-server",
    ["-a", address, "-p", "4222", "-js", "-sd", join(dir, "jetstream")],
    logDir
  )
  await waitFor("nats", async () => run("cat", [join(logDir, "nats.log")]).includes("Server is ready"), 20_000)
  return d
}
