/*-------------------------------------------------------------------------
 *
 * worker.ts
 *	  Runs a TypeScript worker of the tests on the workspace's sources, and
 *	  waits for its messages.
 *
 * A Worker cannot load a .ts file by itself: spawnWorker starts boot.mjs,
 * which registers tsx in the new thread and then imports the script named
 * in workerData. The `@mmgr/source` condition makes every workspace package
 * the worker imports resolve to its src/index.ts, so no build is needed.
 *
 * A worker that throws, or ends before it has posted what a test waits
 * for, rejects the promises of nextMessage and messages instead of leaving
 * the test to time out.
 *
 *-------------------------------------------------------------------------
 */

import { Worker, type WorkerOptions } from "node:worker_threads";

const BOOT = new URL("./boot.mjs", import.meta.url);

/** Resolves every `@mmgr/*` package to its TypeScript source. */
const SOURCE_CONDITION = "--conditions=@mmgr/source";

/** Options of spawnWorker: a Worker's, but for workerData, which is spawnWorker's `data`. */
export type SpawnOptions = Omit<WorkerOptions, "workerData">;

/**
 * Starts a worker that runs the TypeScript module at `script` (a file URL,
 * as `new URL("./workers/churn.ts", import.meta.url)` gives), with `data`
 * as its workerData and workspace packages resolved to their sources.
 *
 * @param data - the worker's workerData (a `script` field is added); none by default
 * @param options - passed to the Worker; an `execArgv` is added after the source condition
 */
export function spawnWorker(script: URL, data: object = {}, options: SpawnOptions = {}): Worker {
  return new Worker(BOOT, {
    ...options,
    workerData: { ...data, script: script.href },
    execArgv: [SOURCE_CONDITION, ...(options.execArgv ?? [])],
  });
}

/**
 * The next `count` messages of `worker`, in order, as promises. Those not
 * yet received are rejected when the worker throws (with its error) or
 * exits. Listens only until the last one is settled.
 */
export function messages<T>(worker: Worker, count: number): Promise<T>[] {
  const waiting: { resolve: (m: T) => void; reject: (e: unknown) => void }[] = [];
  const all = Array.from(
    { length: count },
    () => new Promise<T>((resolve, reject) => waiting.push({ resolve, reject })),
  );
  let next = 0;
  const stop = () => {
    worker.off("message", onMessage);
    worker.off("error", onError);
    worker.off("exit", onExit);
  };
  const fail = (e: unknown) => {
    for (const w of waiting.slice(next)) w.reject(e);
    next = count;
    stop();
  };
  const onMessage = (m: T) => {
    waiting[next++].resolve(m);
    if (next === count) stop();
  };
  const onError = (e: Error) => fail(e);
  const onExit = (code: number) =>
    fail(
      new Error(`worker exited with code ${code} before posting message ${next + 1} of ${count}`),
    );
  if (count > 0) {
    worker.on("message", onMessage);
    worker.once("error", onError);
    worker.once("exit", onExit);
  }
  return all;
}

/**
 * The next message of `worker`; rejected when the worker throws or exits
 * first.
 */
export function nextMessage<T>(worker: Worker): Promise<T> {
  return messages<T>(worker, 1)[0];
}
