import { type Layer, Logger } from "effect"

/**
 * The warnings a test's Effect code logs, as their text: `layer` adds a logger that keeps them in `warnings`
 * (beside the default logger), for tests that assert what a reader says about bad input.
 */
export const captureWarnings = (): { readonly warnings: Array<string>; readonly layer: Layer.Layer<never> } => {
  const warnings: Array<string> = []
  const layer = Logger.add(
    Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
    })
  )
  return { warnings, layer }
}
