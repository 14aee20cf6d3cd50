// Starts a TypeScript worker of the tests: registers tsx in this thread, then
// imports the script whose URL spawnWorker put in workerData.script.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.script);
