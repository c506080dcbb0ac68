import { Layer } from "effect"
import { DatabaseLive } from "./Database.js"
import { NatsLive } from "./Nats.js"
import { QueuesLive } from "./Queues.js"
import { RedisLive } from "./Redis.js"

/**
 * The external systems of one process, provided once at the process edge. In the all-in-one
 * process every service shares them (one pool, one set of connections).
 */
export const InfraLive = (processName: string) =>
  Layer.mergeAll(DatabaseLive(processName), RedisLive(processName), NatsLive(processName), QueuesLive(processName))
