/**
 * The heap in ten lines: allocate records off the JS heap, read and write
 * them through typed views, grow, free, and look at the numbers.
 *
 * Run with `npx -y pnpm@10.34.9 example` from the repository root.
 */
import { Heap } from "@mmgr/heap";

const heap = Heap.create({ initialSize: 64 * 1024, maxSize: 16 << 20 });

// A point record: { x: f64, y: f64 }, 16 bytes.
const points: number[] = [];
for (let i = 0; i < 10_000; i++) {
  const p = heap.malloc(16);
  heap.f64[p >> 3] = i;
  heap.f64[(p >> 3) + 1] = i * i;
  points.push(p);
}
console.log("after 10,000 points:", heap.stats());

// A buffer handed to code that wants a Uint8Array.
const text = new TextEncoder().encode("hello from the arena");
const buf = heap.malloc(text.length);
heap.bytes(buf, text.length).set(text);
console.log(new TextDecoder().decode(heap.bytes(buf, text.length)));

// Free every other point; the holes are reused, neighbours coalesce.
for (let i = 0; i < points.length; i += 2) heap.free(points[i]);
const aligned = heap.memalign(4096, 1000);
console.log("4096-aligned:", aligned, aligned % 4096 === 0);

heap.check();
console.log("after frees:", heap.stats());

// With cache: true, a freed small block waits on a list of its size and the
// next malloc of that size takes it back at once (glibc's tcache).
const cached = Heap.create({ initialSize: 1 << 20, maxSize: 1 << 20, cache: true });
const node = cached.malloc(32);
cached.free(node);
console.log("cached:", cached.stats().cached, "bytes; reused:", cached.malloc(32) === node);
cached.releaseCache();
