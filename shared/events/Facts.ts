import { Either, Schema } from "effect"
import { parseErrorBody } from "../http/Validation.js"

const decoder = new TextDecoder()

/**
 * A NATS fact's bytes decoded by its schema: the fact, or what is wrong with it in words a person reads at a
 * glance (`garmentId: is missing`, `not JSON`) — never the input itself. A reader logs the problem and drops the
 * message: redelivering it cannot make it valid.
 */
export const factDecoder = <A, I>(schema: Schema.Schema<A, I, never>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (data: Uint8Array): Either.Either<A, string> => {
    let json: unknown
    try {
      json = JSON.parse(decoder.decode(data))
    } catch {
      return Either.left("not JSON")
    }
    return Either.mapLeft(decode(json), (e) => parseErrorBody(e).message)
  }
}
