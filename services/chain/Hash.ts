import { Serialization } from "@cardano-sdk/core"
import * as Crypto from "@cardano-sdk/crypto"

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"))

/** Blake2b-256 of exact bytes — the Cardano tx id (of the body bytes) and auxiliary data hash. */
export const blake2b256 = (bytes: Uint8Array): string =>
  // TxCBOR only brands the hex string as the HexBlob the SDK's hasher expects
  Crypto.blake2b.hash(Serialization.TxCBOR(toHex(bytes)), 32)
