import { EventEmitter } from "node:events";
import { Heap } from "@mmgr/heap";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  NGX_ALIGNMENT,
  NgxPool,
  SIZEOF_NGX_POOL_CLEANUP_T,
  SIZEOF_NGX_POOL_LARGE_T,
  SIZEOF_NGX_POOL_T,
} from "../src/index.js";

/** The parts of http.IncomingMessage and http.ServerResponse the README's handler uses. */
interface Req {
  url?: string;
}
class Res extends EventEmitter {
  status = 200;
  body: string | undefined;
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  end(body = ""): this {
    this.body = body;
    return this;
  }
}

/** The README's request handler, call for call (createServer(handler).listen(8080) aside). */
function readmeHandler(heap: Heap) {
  return (req: Req, res: Res) => {
    const pool = NgxPool.create(heap, 4096); // null when the heap is full
    if (pool === null) return void res.writeHead(503).end();
    res.on("close", () => pool.destroy()); // cleanups, then large blocks, then blocks
    const url = Buffer.from(req.url ?? "/");
    const p = pool.pnalloc(url.length); // a string: unaligned
    heap.u8.set(url, p);
    const body = pool.palloc(64 * 1024); // above max: a large allocation
    pool.cleanupAdd(0)!.handler = () => console.log(`${req.url}: ${pool.memAllocated} bytes`);
    res.end(`url at ${p}, body at ${body}\n`);
  };
}

const align = (n: number) => (n + NGX_ALIGNMENT - 1) & ~(NGX_ALIGNMENT - 1);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("README example", () => {
  it("serves a request from one pool and destroy gives all of it back", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const heap = Heap.create({ initialSize: 1 << 20, maxSize: 64 << 20 });
    const used0 = heap.stats().used;
    const res = new Res();
    readmeHandler(heap)({ url: "/hello" }, res);
    expect(res.status).toBe(200);
    const [, pStr, bodyStr] = /^url at (\d+), body at (\d+)\n$/.exec(res.body ?? "") ?? [];
    const p = Number(pStr);
    const bodyPtr = Number(bodyStr);
    // The first allocation at pool + 80: attach finds the live pool there.
    const live = NgxPool.attach(heap, p - SIZEOF_NGX_POOL_T);

    // max = size - 80 = 4016, so 64 KiB is a large allocation.
    expect(live.max).toBe(4096 - SIZEOF_NGX_POOL_T);
    expect(live.max).toBe(4016);
    // The URL, 6 bytes, unaligned.
    expect(Buffer.from(heap.u8.subarray(p, p + 6)).toString()).toBe("/hello");
    // The large link comes after it, 8-aligned, then the cleanup record.
    const link = align(p + 6);
    expect(link).toBe(live.offset + 88);
    const record = link + SIZEOF_NGX_POOL_LARGE_T;
    expect(live.largeList()).toEqual([bodyPtr]);
    expect(bodyPtr < live.offset || bodyPtr >= live.offset + 4096).toBe(true);
    expect(heap.usableSize(bodyPtr)).toBeGreaterThanOrEqual(64 * 1024);
    expect(live.stats()).toEqual({
      blocks: 1,
      currentBlock: 0,
      failed: [0],
      large: 1,
      largeLinks: 1,
      largeBytes: 64 * 1024,
      smallUsed: record + SIZEOF_NGX_POOL_CLEANUP_T - p,
      smallFree: live.offset + 4096 - (record + SIZEOF_NGX_POOL_CLEANUP_T),
      cleanups: 1,
      memAllocated: 4096 + 64 * 1024,
    });
    expect(log).not.toHaveBeenCalled();

    // The response closes: the cleanup runs first, while the large block is still held.
    res.emit("close");
    expect(log.mock.calls).toEqual([["/hello: 69632 bytes"]]);
    expect(live.destroyed).toBe(true);
    expect(heap.stats().used).toBe(used0);
    heap.check();
  });

  it("answers 503 when the heap is full (NgxPool.create returns null)", () => {
    const heap = Heap.create({ initialSize: 1 << 16, maxSize: 1 << 16 });
    expect(heap.malloc(heap.stats().largestFree)).not.toBe(0);
    const before = heap.stats();
    const res = new Res();
    readmeHandler(heap)({ url: "/hello" }, res);
    expect(res.status).toBe(503);
    expect(res.body).toBe("");
    expect(res.listenerCount("close")).toBe(0);
    expect(heap.stats()).toEqual(before);
  });
});
