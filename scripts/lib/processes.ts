// Child-process supervision for `npm start`: start services, prefix their output, wait for
// them to be ready, and stop them all (in reverse order) on Ctrl-C or when one dies.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";

export interface Service {
  name: string;
  child: ChildProcess;
}

const services: Service[] = [];
let stopping = false;

function prefixLines(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WriteStream): void {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      out.write(`[${name}] ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
}

/**
 * Start a long-running service; if it exits while we are not stopping, stop everything.
 * With `logFile`, its output goes to that file instead of the console (for chatty services).
 */
export function startService(
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  logFile?: string,
): Service {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  if (logFile) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    const out = createWriteStream(logFile, { flags: "a" });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
  } else {
    prefixLines(name, child.stdout!, process.stdout);
    prefixLines(name, child.stderr!, process.stderr);
  }
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.error(`[start] ${name} exited (${signal ?? code}); stopping the exchange`);
    void stopAll(1);
  });
  const svc = { name, child };
  services.push(svc);
  return svc;
}

/** Run a command to completion, with prefixed output; rejects with its exit code. */
export function runStep(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    prefixLines(name, child.stdout!, process.stdout);
    prefixLines(name, child.stderr!, process.stderr);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${name} failed with exit code ${code}`))));
  });
}

/** One JSON-RPC call; throws with the node's error message. */
export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method} failed: ${body.error.message}`);
  return body.result as T;
}

/** Poll a JSON-RPC endpoint until it answers eth_chainId. */
export async function waitForRpc(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await rpc<string>(url, "eth_chainId");
      return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`no JSON-RPC answer from ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function stopAll(code = 0): Promise<never> {
  stopping = true;
  for (const svc of [...services].reverse()) {
    if (svc.child.exitCode !== null || svc.child.signalCode !== null) continue;
    svc.child.kill("SIGTERM");
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        svc.child.kill("SIGKILL");
        resolve();
      }, 5_000);
      svc.child.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  process.exit(code);
}

export function stopOnSignals(): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      console.log(`\n[start] ${sig}: stopping`);
      void stopAll(0);
    });
  }
}

/** Poll an HTTP URL until it answers 200. */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
