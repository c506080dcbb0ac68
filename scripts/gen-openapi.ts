/** `npm run gen:openapi`: writes docs/openapi/<service>.json from each scan-path service's Api.ts. */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type OpenApiDocName, OpenApiDocs, renderOpenApi } from "../services/gateway/OpenApiDoc.js"

const dir = join(import.meta.dirname, "..", "docs", "openapi")
mkdirSync(dir, { recursive: true })
for (const name of Object.keys(OpenApiDocs) as Array<OpenApiDocName>) {
  writeFileSync(join(dir, `${name}.json`), renderOpenApi(name))
  console.log(`wrote docs/openapi/${name}.json`)
}
