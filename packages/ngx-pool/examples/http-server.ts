// A request-scoped nginx pool in a Node HTTP handler: everything the request
// allocates lives in one pool, and one destroy() gives it all back.
// Run: npx tsx examples/http-server.ts, then curl localhost:8080/hello

import { createServer } from "node:http";
import { Heap } from "@mmgr/heap";
import { NgxPool } from "../src/index.js";

const heap = Heap.create({ initialSize: 1 << 20, maxSize: 64 << 20 });

createServer((req, res) => {
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
  const log = pool.cleanupAdd(0)!;
  log.handler = () => console.log(`${req.method} ${req.url}: ${pool.memAllocated} bytes`);
  res.end(`url copied to ${p}, body buffer at ${body}\n`);
}).listen(8080);
