import { loadConfig } from "./config.js"
import { brandme } from "./program.js"

// Pulumi entry point (Pulumi.yaml `main: stacks/`): the default export's result becomes the stack outputs.
export default async () => brandme(loadConfig())
