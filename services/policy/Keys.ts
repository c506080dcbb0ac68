/**
 * Redis keys that are part of policy's public contract: the gateway reads the owner's consent
 * generation on every scan (one MGET with the garment's generation and the session) to key its
 * in-process cache, so a consent change is seen by every replica on its very next request.
 */
export const ownerGenerationKey = (ownerUserId: string): string => `policy:gen:owner:${ownerUserId}`
