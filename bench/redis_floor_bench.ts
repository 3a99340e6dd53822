// The floor a distributed executor on Redis Streams has to beat: a raw
// node-redis loop with its consumers in other processes, and BullMQ (an
// ioredis connection, concurrency 16, workers in other processes) as the
// peer users would otherwise pick.
//
//   deno task bench bench/redis_floor_bench.ts
//
// Each iteration starts its own redis-server (persistence off, 127.0.0.1)
// and consumer processes, warms them up with 200 round trips, and times only
// the work:
// - latency: 1,000 sequential round trips of one task, one consumer;
// - throughput: 5,000 tasks at once over 2 consumers.
//
// The raw loop, per task: the submitter XADDs the task and, on a connection
// of its own, XREAD BLOCKs the reply stream; the consumer XREADGROUP BLOCKs
// for a batch, then XADDs the replies and XACKs the batch in one pipelined
// write (bench/fixtures/redis_raw_consumer.ts).
import {
  bench,
  bullmq,
  burst,
  LATENCY,
  perSecond,
  perTrip,
  raw,
  THROUGHPUT,
  trips,
} from "./_redis.ts";

bench(LATENCY, raw, 1, trips, perTrip, true);
bench(LATENCY, bullmq, 1, trips, perTrip);
bench(THROUGHPUT, raw, 2, burst, perSecond, true);
bench(THROUGHPUT, bullmq, 2, burst, perSecond);
