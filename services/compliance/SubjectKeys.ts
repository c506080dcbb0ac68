/**
 * Per-subject keys in `subject_keys` (migration 0001): created on first use, stored wrapped under the PII
 * master key, erased by nulling the key (crypto-shredding — audit leaves stay byte-identical).
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Exit, Layer, Runtime, Schema } from "effect"
import { newSubjectKey } from "../../shared/audit/SubjectCipher.js"
import { unwrapSubjectKey, wrapSubjectKey } from "../../shared/crypto/Pii.js"
import { AuditStoreError } from "./AuditErrors.js"

export class SubjectKeys extends Context.Tag("brandme/compliance/SubjectKeys")<
  SubjectKeys,
  {
    /** Live keys for these subjects, creating missing ones; erased subjects are absent from the map. */
    readonly keysFor: (subjectIds: ReadonlyArray<string>) => Effect.Effect<Map<string, Uint8Array>, AuditStoreError>
    /** Looks keys up without creating any (for reading sealed entries). */
    readonly existingKeys: (
      subjectIds: ReadonlyArray<string>
    ) => Effect.Effect<Map<string, Uint8Array>, AuditStoreError>
    readonly erase: (subjectId: string) => Effect.Effect<void, AuditStoreError>
  }
>() {}

const KeyRow = Schema.Struct({ subject_id: Schema.String, key: Schema.NullOr(Schema.Uint8ArrayFromSelf) })
const decodeKeyRows = Schema.decodeUnknown(Schema.Array(KeyRow))

export const makeSubjectKeys = (masterKey: Uint8Array) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const fail = (operation: string) => (e: { readonly message: string }) =>
      new AuditStoreError({ operation, message: e.message })

    const read = (ids: ReadonlyArray<string>) =>
      sql`SELECT subject_id::text AS subject_id, key FROM subject_keys WHERE subject_id = ANY(${ids}::uuid[])`.pipe(
        Effect.flatMap(decodeKeyRows),
        Effect.mapError(fail("SubjectKeys.read")),
        Effect.map((rows) => {
          const out = new Map<string, Uint8Array>()
          for (const r of rows) {
            const key = r.key === null ? undefined : unwrapSubjectKey(masterKey, r.key)
            if (key !== undefined) out.set(r.subject_id, new Uint8Array(key))
          }
          return out
        })
      )

    const existingKeys = (ids: ReadonlyArray<string>) =>
      ids.length === 0 ? Effect.succeed(new Map<string, Uint8Array>()) : read(ids)

    const createAndRead = (unique: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        // Racing creators both insert; ON CONFLICT keeps the first, and everyone reads that one back.
        yield* sql`
          INSERT INTO subject_keys (subject_id, key)
          SELECT * FROM unnest(${unique}::uuid[], ${unique.map(() => Buffer.from(wrapSubjectKey(masterKey, newSubjectKey())))}::bytea[])
          ON CONFLICT (subject_id) DO NOTHING
        `.pipe(Effect.mapError(fail("SubjectKeys.create")))
        return yield* read(unique)
      }).pipe(Effect.withSpan("SubjectKeys.keysFor", { captureStackTrace: false }))

    /*
     * Concurrent callers are coalesced: while one create-and-read runs, the subjects asked for meanwhile
     * wait and go in the next one together — two statements per round instead of two per audit entry.
     * No key is cached between rounds, so an erasure is seen by the very next round.
     */
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    let waiting: Array<{
      readonly ids: ReadonlyArray<string>
      readonly resume: (e: Effect.Effect<Map<string, Uint8Array>, AuditStoreError>) => void
    }> = []
    let running = false
    const round = (): void => {
      if (running || waiting.length === 0) return
      running = true
      const batch = waiting
      waiting = []
      const unique = [...new Set(batch.flatMap((w) => w.ids))]
      runFork(createAndRead(unique)).addObserver((exit) => {
        for (const w of batch) {
          if (Exit.isFailure(exit)) {
            w.resume(Effect.failCause(exit.cause))
            continue
          }
          const mine = new Map<string, Uint8Array>()
          for (const id of w.ids) {
            const k = exit.value.get(id)
            if (k !== undefined) mine.set(id, k)
          }
          w.resume(Effect.succeed(mine))
        }
        running = false
        round()
      })
    }

    const keysFor = (ids: ReadonlyArray<string>) =>
      ids.length === 0
        ? Effect.succeed(new Map<string, Uint8Array>())
        : Effect.async<Map<string, Uint8Array>, AuditStoreError>((resume) => {
            waiting.push({ ids: [...new Set(ids.map((i) => i.toLowerCase()))], resume })
            if (!running) queueMicrotask(round)
          })

    const erase = (subjectId: string) =>
      sql`UPDATE subject_keys SET key = NULL, erased_at = now() WHERE subject_id = ${subjectId}::uuid AND key IS NOT NULL`.pipe(
        Effect.asVoid,
        Effect.mapError(fail("SubjectKeys.erase")),
        Effect.withSpan("SubjectKeys.erase")
      )

    return SubjectKeys.of({ keysFor, existingKeys, erase })
  })

export const subjectKeysLayer = (masterKey: Uint8Array) => Layer.effect(SubjectKeys, makeSubjectKeys(masterKey))
