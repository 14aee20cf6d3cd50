import { describe, expect, it } from "vitest";
import { messages, nextMessage, spawnWorker } from "../src/index.js";

const echo = new URL("./workers/echo.ts", import.meta.url);

describe("spawnWorker", () => {
  it("runs a TypeScript script with its data and the source condition, and messages come in order", async () => {
    const worker = spawnWorker(echo, { mode: "echo", n: 7 }, { execArgv: ["--no-warnings"] });
    const [first, second] = messages<unknown>(worker, 2);
    expect(await first).toEqual({
      workerData: { mode: "echo", n: 7, script: echo.href },
      execArgv: ["--conditions=@mmgr/source", "--no-warnings"],
    });
    expect(await second).toBe("done");
    await worker.terminate();
  });
});

describe("nextMessage", () => {
  it("rejects with the worker's error when the script throws", async () => {
    const worker = spawnWorker(echo, { mode: "throw" });
    await expect(nextMessage(worker)).rejects.toThrow("echo: told to throw");
  });

  it("rejects when the worker ends before posting", async () => {
    const worker = spawnWorker(echo, { mode: "quit" });
    await expect(nextMessage(worker)).rejects.toThrow(
      "worker exited with code 0 before posting message 1 of 1",
    );
  });
});

describe("messages", () => {
  it("rejects only the messages not received when the worker ends", async () => {
    const worker = spawnWorker(echo, { mode: "echo" });
    const [first, second, third] = messages<unknown>(worker, 3);
    await expect(first).resolves.toMatchObject({ workerData: { mode: "echo" } });
    await expect(second).resolves.toBe("done");
    await expect(third).rejects.toThrow("worker exited with code 0 before posting message 3 of 3");
  });
});
