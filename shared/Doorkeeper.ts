/**
 * A doorkeeper, as TinyLFU puts one in front of a cache: "was this key offered before, lately?", answered from a
 * fixed array of bits (a Bloom filter: three bits a key, ~10 bits per key of the window), so that a cache admits a
 * key only on its second offer. Under a long-tailed load — a scan of a garment nobody scanned lately is the usual
 * cold scan — most keys come once; kept, each would push out an entry that comes again and, in a process's heap,
 * be promoted to the old generation only to die there. The doorkeeper costs a hash of the key per offer and
 * allocates nothing per key.
 *
 * It forgets everything after `window` offers (a reset, TinyLFU's aging), so "lately" is the last `window` offers.
 * A key never offered reads as offered with a small probability (~2 % with the window full of distinct keys): a
 * one-time key is then admitted, as every key was without a doorkeeper.
 */
export class Doorkeeper {
  private readonly bits: Int32Array
  private readonly mask: number
  private offers = 0

  constructor(private readonly window: number) {
    if (!Number.isInteger(window) || window < 1) {
      throw new Error(`a doorkeeper's window is a whole number of offers above 0, not ${window}`)
    }
    let size = 1024
    while (size < window * 10) size *= 2
    this.bits = new Int32Array(size >>> 5)
    this.mask = size - 1
  }

  /** whether `key` was offered since the last reset; records it either way */
  offer(key: string): boolean {
    // two 32-bit hashes of the key's UTF-16 units (FNV-1a and a murmur-style mix); its three bits are
    // h1, h1 + h2 and h1 + 2·h2 (double hashing), h2 odd so that they differ
    let h1 = 0x811c9dc5
    let h2 = 0x9747b28c
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i)
      h1 = Math.imul(h1 ^ c, 0x01000193)
      h2 = Math.imul(h2 ^ c, 0x5bd1e995)
      h2 ^= h2 >>> 15
    }
    h2 |= 1
    let seen = true
    for (let k = 0; k < 3; k++) {
      const bit = (h1 + k * h2) & this.mask
      const word = bit >>> 5
      const m = 1 << (bit & 31)
      const w = this.bits[word] ?? 0
      if ((w & m) === 0) {
        seen = false
        this.bits[word] = w | m
      }
    }
    if (++this.offers >= this.window) this.reset()
    return seen
  }

  /** forgets every key */
  reset(): void {
    this.bits.fill(0)
    this.offers = 0
  }
}
