/**
 * autocannon in its own process over a list of requests (`autocannonOver` in Processes.ts starts it):
 * `node --import tsx shared/testing/LoadRunner.ts <url> <seconds> <requests.json>`, where the file is a
 * JSON array of `{ body, authorization? }`. The 50 connections take the requests in order from one shared
 * cursor (wrapping at the end), each a JSON POST. Prints autocannon's JSON result.
 */
import { readFileSync } from "node:fs"
import autocannon from "autocannon"

interface LoadRequest {
  readonly body: string
  readonly authorization?: string
}

const [url, seconds, file] = process.argv.slice(2)
if (url === undefined || seconds === undefined || file === undefined) {
  process.stderr.write("usage: LoadRunner.ts <url> <seconds> <requests.json>\n")
  process.exit(2)
}
const list: ReadonlyArray<LoadRequest> = JSON.parse(readFileSync(file, "utf8"))
if (list.length === 0) throw new Error(`${file} holds no requests`)
const plain = { "content-type": "application/json" }
const headers = list.map((r) => (r.authorization === undefined ? plain : { ...plain, authorization: r.authorization }))
let next = 0

autocannon(
  {
    url,
    connections: 50,
    duration: Number(seconds),
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const i = next
          next = (next + 1) % list.length
          return { ...req, method: "POST", body: list[i]!.body, headers: headers[i]! }
        }
      }
    ]
  },
  (err, result) => {
    if (err !== null && err !== undefined) {
      process.stderr.write(`autocannon failed: ${String(err)}\n`)
      process.exit(1)
    }
    process.stdout.write(JSON.stringify(result))
  }
)
