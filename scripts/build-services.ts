/** `npm run build` (after tsc): the services' entry point bundled, dist/services/main.js and its chunks. */
import { bundleServices } from "./ops/ServiceBundle.js"

const b = await bundleServices(process.cwd(), "dist")
console.log(`wrote dist/services/main.js and ${b.files - 1} chunks (${Math.round(b.bytes / 1024)} KiB)`)
