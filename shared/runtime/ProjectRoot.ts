import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/**
 * The project root (where package.json and the `.env.*` files live) above a module: the nearest ancestor
 * directory holding a package.json. The same answer from the sources (tsx), from tsc's one-to-one dist/ and
 * from the bundled services (dist/services/main.js and its chunks), wherever the module's code ended up.
 */
export const rootAbove = (moduleUrl: string): string => {
  const start = dirname(fileURLToPath(moduleUrl))
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`)
  }
}
