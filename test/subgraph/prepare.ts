// Shared by the subgraph tests (mocha runs them in one process): compile the contracts, write the
// test manifest from the fixture deployment and the fresh ABI, run `graph codegen`. Done once.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT, SUBGRAPH_DIR, writeManifest } from "../../subgraph/scripts/manifest";
import { compileAs } from "./wasmHost";
import { MATH_HARNESS } from "./wasmMath";

export const run = promisify(execFile);
export const FIXTURE = path.join(__dirname, "fixtures/deployment.json");
export const MANIFEST = path.join(SUBGRAPH_DIR, "subgraph.test.yaml");
export const E2E_HARNESS = "subgraph/tests/e2eHarness.ts";

function graphBin(): string {
  const pkg = require.resolve("@graphprotocol/graph-cli/package.json", { paths: [ROOT] });
  return path.join(path.dirname(pkg), "bin/run.js");
}

/** Runs graph-cli in subgraph/; on failure the error carries its whole output. */
export async function graph(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(process.execPath, [graphBin(), ...args], {
      cwd: SUBGRAPH_DIR,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`graph ${args.join(" ")} failed:\n${err.stdout ?? ""}${err.stderr ?? ""}\n${err.message}`, {
      cause: e,
    });
  }
}

let prepared: Promise<void> | undefined;

export function prepareSubgraph(): Promise<void> {
  prepared ??= (async () => {
    // The ABI always comes from freshly compiled artifacts (a no-op when nothing changed).
    const hardhat = require.resolve("hardhat/internal/cli/cli", { paths: [ROOT] });
    await run(process.execPath, [hardhat, "compile", "--quiet"], { cwd: ROOT });
    // allowMissing: build.test.ts checks the handlers itself, with a message that says what to add.
    writeManifest({ deployment: FIXTURE, out: MANIFEST, allowMissing: true });
    await graph("codegen", path.basename(MANIFEST), "--output-dir", "generated");
    // The wasm test harnesses need generated/; start compiling them now, alongside graph build.
    void compileAs(E2E_HARNESS).catch(() => undefined);
    void compileAs(MATH_HARNESS).catch(() => undefined);
  })();
  return prepared;
}
