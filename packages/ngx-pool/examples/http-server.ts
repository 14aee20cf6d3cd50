// A request-scoped nginx pool in a Node HTTP handler: everything the request
// allocates lives in one pool, and one destroy() gives it all back.
// Run: npx tsx examples/http-server.ts, then curl localhost:8080/hello

import { createServer as createHttpServer, type Server } from "node:http";
import { pathToFileURL } from "node:url";
import { Heap } from "@mmgr/heap";
import { NgxPool } from "../src/index.js";

/**
 * The server, not yet listening: each request gets its own pool from `heap`,
 * and `log` is given a line by the pool's cleanup when the response closes.
 */
export function createServer(heap: Heap, log: (line: string) => void = console.log): Server {
  return createHttpServer((req, res) => {
    const pool = NgxPool.create(heap, 4096); // request_pool_size's default
    if (pool === null) {
      res.writeHead(503).end(); // the heap is full: as ngx_create_pool returning NULL
      return;
    }
    res.on("close", () => pool.destroy()); // runs the cleanups, frees large blocks, then blocks
    const url = Buffer.from(req.url ?? "/");
    const p = pool.pnalloc(url.length); // a string: no alignment needed
    heap.u8.set(url, p);
    const body = pool.palloc(64 * 1024); // above max (4016): a large allocation
    const cleanup = pool.cleanupAdd(0)!;
    cleanup.handler = () => log(`${req.method} ${req.url}: ${pool.memAllocated} bytes`);
    res.end(`url copied to ${p}, body buffer at ${body}\n`);
  });
}

// Run as a script (not imported): serve on port 8080.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  createServer(Heap.create({ initialSize: 1 << 20, maxSize: 64 << 20 })).listen(8080);
}
