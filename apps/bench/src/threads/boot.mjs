// Starts a worker of the workers section: registers tsx in this thread (a
// worker does not inherit the parent's --import hooks on Node 20), then
// loads worker.ts.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
