/**
 * The five work queues, plus the dead-letter queue where exhausted jobs land. (The guide's sixth, `priority`,
 * had no producer and went; urgency within a queue is a job's BullMQ priority, set per task in Routing.ts.)
 * Apart from the BullMQ layer so that configuration (QUEUE_CONCURRENCY_<QUEUE>) can name them without loading
 * a driver.
 */
export const QueueNames = ["default", "scans", "blockchain", "audit", "notifications"] as const
export type QueueName = (typeof QueueNames)[number]
export const DeadLetterQueue = "dead-letter" as const
export type AnyQueueName = QueueName | typeof DeadLetterQueue
