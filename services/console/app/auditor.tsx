import { useMutation } from "@tanstack/react-query"
import { Either } from "effect"
import { useState } from "react"
import { fromHex } from "../../../shared/audit/Bytes.js"
import { verifyConsistencySync } from "../../../shared/audit/Merkle.js"
import { audit, type CheckResult } from "../auditor/Verify.js"
import { get } from "./api.js"
import { Card, Empty, ErrorBox, PageHead, Query, Table, when } from "./ui.js"

interface Checkpoint {
  readonly origin: string
  readonly treeSize: number
  readonly rootHash: string
  readonly createdAt: string
}
interface Anchor {
  readonly id: string
  readonly treeSize: number
  readonly rootHex: string
  readonly provider: string
  readonly txId: string
  readonly status: string
  readonly confirmations: number | null
  readonly submittedAt: string | null
  readonly confirmedAt: string | null
}

const getRecord = (path: string) => get<Record<string, unknown>>(path)

const Verdict = ({ results }: { readonly results: ReadonlyArray<CheckResult> }) => {
  const ok = results.length > 0 && results.every((r) => r.ok)
  return (
    <div aria-live="polite">
      <p className={ok ? "verdict ok" : "verdict failed"} data-testid="verdict">
        {ok ? "Verified" : "FAILED"}
      </p>
      <ul className="checks">
        {results.map((r) => (
          <li key={r.name} className={r.ok ? "ok" : "failed"} data-check={r.name}>
            {r.ok ? "✔" : "✘"} <strong>{r.name}</strong>: {r.detail}
          </li>
        ))}
      </ul>
    </div>
  )
}

const VerifyEntry = () => {
  const [index, setIndex] = useState("0")
  const [from, setFrom] = useState("")
  const [key, setKey] = useState("")
  const run = useMutation({
    mutationFn: () =>
      audit({
        get: getRecord,
        index: Math.max(0, Math.floor(Number(index) || 0)),
        from: from.trim() === "" ? undefined : Number(from),
        verifierKey: key
      })
  })
  return (
    <Card title="Verify an entry and the log's consistency">
      <p className="muted">
        Fetches the signed checkpoint, the entry with its inclusion proof and a consistency proof, and recomputes every
        hash here in your browser (RFC 9162) with the same module the CLI and the services use.
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          run.mutate()
        }}
      >
        <label>
          Entry index
          <input name="index" type="number" min={0} value={index} onChange={(e) => setIndex(e.target.value)} />
        </label>
        <label>
          Consistency from size
          <input
            name="from"
            type="number"
            min={1}
            value={from}
            placeholder="half the tree"
            onChange={(e) => setFrom(e.target.value)}
          />
        </label>
        <label>
          Verifier key (optional)
          <input
            name="verifier"
            value={key}
            placeholder="origin+keyid+base64"
            onChange={(e) => setKey(e.target.value)}
          />
        </label>
        <button type="submit" disabled={run.isPending}>
          Verify
        </button>
      </form>
      <ErrorBox error={run.error} />
      {run.data === undefined ? null : <Verdict results={run.data} />}
    </Card>
  )
}

const CheckpointSelect = (p: {
  readonly label: string
  readonly sizes: ReadonlyArray<number>
  readonly value: string
  readonly onChange: (v: string) => void
}) => (
  <label>
    {p.label}
    <select value={p.value} onChange={(e) => p.onChange(e.target.value)}>
      {p.sizes.map((s) => (
        <option key={s} value={s}>
          size {s}
        </option>
      ))}
    </select>
  </label>
)

const VerifyBetween = ({ anchors }: { readonly anchors: ReadonlyArray<Anchor> }) => {
  const sizes = [...new Set(anchors.map((a) => a.treeSize))].sort((a, b) => a - b)
  const [from, setFrom] = useState(String(sizes[0] ?? ""))
  const [to, setTo] = useState(String(sizes[sizes.length - 1] ?? ""))
  const run = useMutation({
    mutationFn: async (): Promise<ReadonlyArray<CheckResult>> => {
      const a = anchors.find((x) => x.treeSize === Number(from))
      const b = anchors.find((x) => x.treeSize === Number(to))
      if (a === undefined || b === undefined) throw new Error("choose two anchored checkpoints")
      const proof = await get<{ proof: ReadonlyArray<string> }>(
        `/v1/audit/consistency?from=${a.treeSize}&to=${b.treeSize}`
      )
      const hexes = proof.proof.map((h) => fromHex(h) ?? new Uint8Array())
      const r = verifyConsistencySync(
        a.treeSize,
        b.treeSize,
        fromHex(a.rootHex) ?? new Uint8Array(),
        fromHex(b.rootHex) ?? new Uint8Array(),
        hexes
      )
      return [
        {
          name: "consistency",
          ok: Either.isRight(r),
          detail: Either.isRight(r)
            ? `the anchored tree of size ${a.treeSize} is a prefix of the anchored tree of size ${b.treeSize}`
            : r.left.reason
        }
      ]
    }
  })
  if (sizes.length < 2) return <Empty>Two anchored checkpoints are needed to compare them.</Empty>
  return (
    <form
      className="row"
      onSubmit={(e) => {
        e.preventDefault()
        run.mutate()
      }}
    >
      <CheckpointSelect label="From checkpoint" sizes={sizes} value={from} onChange={setFrom} />
      <CheckpointSelect label="To checkpoint" sizes={sizes} value={to} onChange={setTo} />
      <button type="submit">Verify between</button>
      <ErrorBox error={run.error} />
      {run.data === undefined ? null : <Verdict results={run.data} />}
    </form>
  )
}

export const AuditPage = () => (
  <>
    <PageHead
      title="Audit log"
      lead="The tamper-evident log of every scan, its signed checkpoints and their anchors on Cardano."
    />
    <div className="grid2">
      <Card title="Latest signed checkpoint">
        <Query<Checkpoint> path="/v1/audit/checkpoint" what="the checkpoint">
          {(c) => (
            <dl>
              <dt className="muted">Origin</dt>
              <dd className="mono">{c.origin}</dd>
              <dt className="muted">Tree size</dt>
              <dd data-testid="tree-size">{c.treeSize}</dd>
              <dt className="muted">Root hash</dt>
              <dd className="mono">{c.rootHash}</dd>
              <dt className="muted">Signed</dt>
              <dd>{when(c.createdAt)}</dd>
            </dl>
          )}
        </Query>
      </Card>
      <VerifyEntry />
    </div>
    <Card title="Checkpoints over time">
      <Query<{ anchors: ReadonlyArray<Anchor> }> path="/v1/chain/anchors?limit=50" what="anchors">
        {(d) =>
          d.anchors.length === 0 ? (
            <Empty>No checkpoint has been anchored yet.</Empty>
          ) : (
            <>
              <Table
                caption="Anchored checkpoints, newest first"
                head={["Tree size", "Transaction", "Status", "Confirmations", "Confirmed"]}
              >
                {d.anchors.map((a) => (
                  <tr key={a.id}>
                    <td>{a.treeSize}</td>
                    <td className="mono">{a.txId}</td>
                    <td>
                      <span className={a.status === "confirmed" ? "badge ok" : "badge warn"}>{a.status}</span>
                    </td>
                    <td>{a.confirmations ?? "—"}</td>
                    <td>{when(a.confirmedAt)}</td>
                  </tr>
                ))}
              </Table>
              <h2>Verify between two checkpoints</h2>
              <VerifyBetween anchors={d.anchors} />
            </>
          )
        }
      </Query>
    </Card>
  </>
)
