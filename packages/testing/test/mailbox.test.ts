import { describe, expect, it } from "vitest";
import { MAILBOX_SLOTS, Mailbox } from "../src/index.js";

describe("Mailbox", () => {
  it("gives back what was put, oldest first, and 0 when empty", () => {
    const box = new Mailbox(Mailbox.create());
    expect(box.take()).toBe(0);
    expect(box.put(8)).toBe(true);
    expect(box.put(24)).toBe(true);
    expect(box.take()).toBe(8);
    expect(box.take()).toBe(24);
    expect(box.take()).toBe(0);
  });

  it("refuses a put when MAILBOX_SLOTS pointers wait, and takes one again after a take, across the ring's end", () => {
    const buffer = Mailbox.create();
    expect(buffer.byteLength).toBe((2 + MAILBOX_SLOTS) * 4);
    const box = new Mailbox(buffer);
    for (let i = 1; i <= MAILBOX_SLOTS; i++) expect(box.put(i * 8)).toBe(true);
    expect(box.put(99_999)).toBe(false);
    expect(box.take()).toBe(8);
    expect(box.put(1_000_000)).toBe(true); // into slot 0 again
    for (let i = 2; i <= MAILBOX_SLOTS; i++) expect(box.take()).toBe(i * 8);
    expect(box.take()).toBe(1_000_000);
    expect(box.take()).toBe(0);
  });

  it("is shared by every handle on its buffer", () => {
    const buffer = Mailbox.create();
    const sender = new Mailbox(buffer);
    const receiver = new Mailbox(buffer);
    sender.put(4096);
    expect(receiver.take()).toBe(4096);
    expect(sender.take()).toBe(0);
  });
});
