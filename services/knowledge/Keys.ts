/**
 * Redis keys that are part of knowledge's public contract. Whoever changes what a scan of a garment
 * shows (a facet update here; an ownership claim or transfer in identity) INCRs the garment's
 * generation, so every replica's caches keyed by it miss on their very next scan.
 */
export const garmentGenerationKey = (garmentId: string): string => `knowledge:gen:garment:${garmentId}`
export const garmentMetadataKey = (garmentId: string): string => `knowledge:garment:${garmentId}`
export const garmentRefKey = (gtin: string, serial: string): string => `knowledge:ref:${gtin}:${serial}`
