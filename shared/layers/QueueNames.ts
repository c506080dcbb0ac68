/**
 * The six queues of the guide, plus the dead-letter queue where exhausted jobs land. Apart from the BullMQ
 * layer so that configuration (QUEUE_CONCURRENCY_<QUEUE>) can name them without loading a driver.
 */
export const QueueNames = ["default", "scans", "blockchain", "audit", "notifications", "priority"] as const
export type QueueName = (typeof QueueNames)[number]
export const DeadLetterQueue = "dead-letter" as const
export type AnyQueueName = QueueName | typeof DeadLetterQueue
