import { Context } from "effect"
import type { DatabaseService } from "./Database.js"
import type { NatsService } from "./Nats.js"
import type { QueuesService } from "./Queues.js"
import type { RedisService } from "./Redis.js"

/**
 * The tags of the external systems, apart from their drivers: code that only asks whether a system is
 * present (health checks) loads no Postgres, Redis, NATS or BullMQ client. Each driver's module
 * re-exports its tag, so services import it from there as before.
 */
export class Database extends Context.Tag("brandme/Database")<Database, DatabaseService>() {}
export class Redis extends Context.Tag("brandme/Redis")<Redis, RedisService>() {}
export class Nats extends Context.Tag("brandme/Nats")<Nats, NatsService>() {}
export class Queues extends Context.Tag("brandme/Queues")<Queues, QueuesService>() {}
