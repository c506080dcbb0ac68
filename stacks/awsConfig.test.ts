import { describe, expect, it } from "vitest"
import { runStack } from "./offline/harness.js"

// The program refuses an AWS network plan whose data-service allow-list would also open the node subnets,
// before it creates anything (its own file: a failed run leaves the process-global Pulumi runtime behind).
describe("cloud aws: the network plan is checked when the program starts", () => {
  it("dataServicesCidr covering the whole VPC is refused, naming every subnet it opens", async () => {
    await expect(
      runStack("prod-aws", { configOverrides: { "brandme:dataServicesCidr": "10.30.0.0/16" } })
    ).rejects.toThrow(
      /cloud aws network config:\n {2}dataServicesCidr 10.30.0.0\/16 overlaps the node\/public subnet 10.30.0.0\/19/
    )
  }, 60_000)
})
