import { describe, expect, it } from "vitest"
import { isPlain } from "../../../shared/PlainJson.js"
import { Decision } from "../../../shared/domain/Scan.js"
import { FacetsView, Garment, ResolveRequest, ResolvedGarment } from "../../knowledge/Api.js"
import { Answer } from "./Cache.js"
import { ScanEventFields } from "./Scans.js"

describe("the cold scan's messages", () => {
  // encoderOf/jsonEncoderOf send these as built (the receiver decodes them): a transformation added to one
  // would make its encoded form differ from the value, and these must then go back to being encoded
  it("are plain data, so they are sent as built and validated where they arrive", () => {
    for (const s of [Answer, Decision, FacetsView, Garment, ResolveRequest, ResolvedGarment, ScanEventFields])
      expect(isPlain(s)).toBe(true)
  })
})
