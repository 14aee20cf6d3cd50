import { get, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Heap, type HeapStats } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { createServer } from "../examples/http-server.js";
import { SIZEOF_NGX_POOL_T } from "../src/index.js";

const HOST = "127.0.0.1"; // loopback only
const BLOCK = 4096; // the example's pool size
const LARGE = 64 * 1024; // the example's body buffer

/** One GET on its own connection (no keep-alive): status and body. */
function request(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: HOST, port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    }).on("error", reject);
  });
}

describe("examples/http-server.ts", () => {
  it("serves each request from its own pool and gives the heap back after each", async () => {
    const heap = Heap.create({ initialSize: 1 << 20, maxSize: 64 << 20 });
    const lines: string[] = [];
    const server = createServer(heap, (line) => lines.push(line));
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    try {
      const { address, port } = server.address() as AddressInfo;
      expect(address).toBe(HOST);
      const used0 = heap.stats().used;
      const paths = ["/hello", "/a/b?c=1", "/"];
      const urlAt: number[] = [];
      for (const path of paths) {
        // Added after the example's handler, so it runs right after it (the pool
        // still live) and its "close" listener after the one that destroys the pool.
        let during: HeapStats | undefined;
        let bytes: Uint8Array | undefined;
        const closed = new Promise<void>((resolve) => {
          server.once("request", (_req: IncomingMessage, res: ServerResponse) => {
            during = heap.stats();
            bytes = heap.u8.slice();
            res.on("close", resolve);
          });
        });
        const { status, body } = await request(port, path);
        await closed;
        expect(status).toBe(200);
        const m = /^url copied to (\d+), body buffer at (\d+)\n$/.exec(body);
        expect(m).not.toBeNull();
        const p = Number(m![1]);
        const large = Number(m![2]);
        urlAt.push(p);
        // While the request ran: one 4096-byte block and the 64 KiB large allocation.
        expect(during!.used - used0).toBeGreaterThanOrEqual(BLOCK + LARGE);
        expect(during!.allocations).toBe(2);
        expect(Buffer.from(bytes!.subarray(p, p + path.length)).toString()).toBe(path);
        expect(large < p - SIZEOF_NGX_POOL_T || large >= p - SIZEOF_NGX_POOL_T + BLOCK).toBe(true);
        // The cleanup ran at destroy, before the large allocation was freed.
        expect(lines.at(-1)).toBe(`GET ${path}: ${BLOCK + LARGE} bytes`);
        // destroy() gave everything back.
        expect(heap.stats().used).toBe(used0);
        expect(heap.stats().allocations).toBe(0);
        heap.check();
      }
      expect(lines).toHaveLength(paths.length);
      // The same memory serves every request.
      expect(urlAt).toEqual([urlAt[0], urlAt[0], urlAt[0]]);
    } finally {
      await new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      );
    }
  });
});
