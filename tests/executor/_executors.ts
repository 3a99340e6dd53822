// The executors that share one behaviour, for parametrised tests.
import {
  type Executor,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
} from "../../mod.ts";

export interface ExecutorKind {
  name: string;
  make(options?: { maxWorkers?: number }): Executor;
}

export const executors: ExecutorKind[] = [
  { name: "ThreadPoolExecutor", make: (o) => new ThreadPoolExecutor(o) },
  { name: "ProcessPoolExecutor", make: (o) => new ProcessPoolExecutor(o) },
  // With a heap limit, threads are node:worker_threads Workers.
  {
    name: "ThreadPoolExecutor (memoryLimit)",
    make: (o) => new ThreadPoolExecutor({ ...o, memoryLimit: 1024 }),
  },
];
