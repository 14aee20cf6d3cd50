/**
 * A worker of worker.test.ts: posts back its workerData and execArgv and
 * then "done" (mode "echo"), throws (mode "throw"), or ends without a
 * message (mode "quit").
 */
import { parentPort, workerData } from "node:worker_threads";

const { mode } = workerData as { mode: "echo" | "throw" | "quit" };
if (mode === "throw") throw new Error("echo: told to throw");
if (mode === "echo") {
  parentPort?.postMessage({ workerData, execArgv: process.execArgv });
  parentPort?.postMessage("done");
}
