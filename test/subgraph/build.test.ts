// The subgraph matches the contracts: the manifest is generated from the compiled Exchange ABI and a
// deployment file, every event in that ABI has a handler, and `graph codegen` + `graph build` succeed
// (so a contract change that breaks the mappings fails npm test).
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import {
  EXCHANGE_ARTIFACT,
  EXTENSION_ARTIFACT,
  HANDLERS,
  SUBGRAPH_DIR,
  abiEvents,
  eventSignature,
  readExchangeAbi,
  schemaEntities,
  writeManifest,
} from "../../subgraph/scripts/manifest";
import { FIXTURE, MANIFEST, graph, prepareSubgraph } from "./prepare";

const BUILD_DIR = "build/ci"; // under build/, which lint and git ignore

interface Manifest {
  specVersion: string;
  dataSources: {
    network: string;
    source: { address: string; abi: string; startBlock: number };
    mapping: {
      entities: string[];
      abis: { name: string; file: string }[];
      eventHandlers: { event: string; handler: string }[];
    };
  }[];
}

describe("subgraph: manifest, codegen and build against the compiled contracts", function () {
  this.timeout(240_000);
  let manifest: Manifest;

  before(async () => {
    await prepareSubgraph();
    manifest = parse(fs.readFileSync(MANIFEST, "utf8")) as Manifest;
  });

  it("takes network, address and start block from the deployment file, the ABI from the artifacts", () => {
    const ds = manifest.dataSources[0];
    expect(manifest.dataSources).to.have.length(1);
    expect(ds.network).to.equal("sepolia");
    expect(ds.source.address.toLowerCase()).to.equal("0x5e1f0c8b5dbb0a3e1f2f6c1d1a2b3c4d5e6f7081");
    expect(ds.source.startBlock).to.equal(5123456);
    const copied = JSON.parse(fs.readFileSync(path.join(SUBGRAPH_DIR, ds.mapping.abis[0].file), "utf8"));
    // one address, one ABI: the Exchange's own items, then the extension's (whose events it emits)
    expect(copied).to.deep.equal(readExchangeAbi());
    const names = (file: string) =>
      (JSON.parse(fs.readFileSync(file, "utf8")).abi as { type: string; name?: string }[])
        .filter((x) => x.type === "event")
        .map((x) => x.name);
    const copiedEvents = new Set(abiEvents(copied).map((e) => e.name));
    for (const n of [...names(EXCHANGE_ARTIFACT), ...names(EXTENSION_ARTIFACT)])
      expect(copiedEvents.has(n), `event ${n} in the manifest's ABI`).to.equal(true);
    expect(ds.mapping.entities).to.deep.equal(schemaEntities());
    expect(
      writeManifest({ deployment: FIXTURE, out: MANIFEST, graphNetwork: "mainnet", allowMissing: true }).network,
    ).to.equal("mainnet");
    writeManifest({ deployment: FIXTURE, out: MANIFEST, allowMissing: true });
  });

  it("has an event handler for every event in the compiled Exchange ABI", () => {
    const handled = new Map(manifest.dataSources[0].mapping.eventHandlers.map((h) => [h.event, h.handler]));
    const missing = abiEvents(readExchangeAbi())
      .map(eventSignature)
      .filter((sig) => !handled.has(sig));
    expect(
      missing,
      `Exchange events without a subgraph handler: add each to HANDLERS in subgraph/scripts/manifest.ts, ` +
        `write the handler in subgraph/src/mappings/ and export it from subgraph/src/exchange.ts`,
    ).to.deep.equal([]);
    expect(handled.size).to.equal(abiEvents(readExchangeAbi()).length);
  });

  it("refuses a manifest with an unhandled event or a handler for an event that is gone", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "subgraph-abi-"));
    const abi = readExchangeAbi();
    const withNew = path.join(dir, "new.json");
    fs.writeFileSync(withNew, JSON.stringify({ abi: [...abi, { type: "event", name: "Unheard", inputs: [] }] }));
    expect(() => writeManifest({ deployment: FIXTURE, out: MANIFEST, artifact: withNew })).to.throw(
      /without a subgraph handler: .*\bUnheard\b/,
    );
    const withoutDeposit = path.join(dir, "old.json");
    fs.writeFileSync(withoutDeposit, JSON.stringify({ abi: abi.filter((x) => x.name !== "Deposit") }));
    expect(() => writeManifest({ deployment: FIXTURE, out: MANIFEST, artifact: withoutDeposit })).to.throw(
      /no longer emits: Deposit/,
    );
    expect(HANDLERS.Deposit).to.equal("handleDeposit");
    // the refused runs above wrote nothing over the real ABI copy
    writeManifest({ deployment: FIXTURE, out: MANIFEST, allowMissing: true });
  });

  it("graph codegen (in before) and graph build succeed, and the wasm exports every handler", async () => {
    await graph("build", path.basename(MANIFEST), "--output-dir", BUILD_DIR);
    const wasm = fs.readFileSync(path.join(SUBGRAPH_DIR, BUILD_DIR, "Exchange/Exchange.wasm"));
    const exported = new Set(WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name));
    for (const h of manifest.dataSources[0].mapping.eventHandlers) {
      expect(exported.has(h.handler), `handler ${h.handler} is not exported by subgraph/src/exchange.ts`).to.equal(
        true,
      );
    }
  });
});
