// Test entry (AssemblyScript) for test/subgraph/mappings.test.ts: every handler of src/exchange.ts,
// plus what a test host needs to build ethereum events and read entities without knowing memory
// layouts. The host (the test) implements graph-node's store, log, typeConversion, crypto and bigInt.
import { Address, BigInt, Bytes, Entity, Value, ValueKind, ethereum } from "@graphprotocol/graph-ts";

export * from "../src/exchange";

export function allocBytes(len: i32): Uint8Array {
  return new Uint8Array(len);
}

export function stringFromUtf16(b: Uint8Array): string {
  return String.UTF16.decode(b.buffer);
}

export function newParams(): Array<ethereum.EventParam> {
  return new Array<ethereum.EventParam>(0);
}

export function pushParam(params: Array<ethereum.EventParam>, name: string, value: ethereum.Value): void {
  params.push(new ethereum.EventParam(name, value));
}

export function newValues(): Array<ethereum.Value> {
  return new Array<ethereum.Value>(0);
}

export function pushValue(values: Array<ethereum.Value>, value: ethereum.Value): void {
  values.push(value);
}

export function valueAddress(b: Uint8Array): ethereum.Value {
  return ethereum.Value.fromAddress(changetype<Address>(b));
}

export function valueFixedBytes(b: Uint8Array): ethereum.Value {
  return ethereum.Value.fromFixedBytes(changetype<Bytes>(b));
}

export function valueUint(b: Uint8Array): ethereum.Value {
  return ethereum.Value.fromUnsignedBigInt(changetype<BigInt>(b));
}

export function valueInt(b: Uint8Array): ethereum.Value {
  return ethereum.Value.fromSignedBigInt(changetype<BigInt>(b));
}

export function valueBool(v: bool): ethereum.Value {
  return ethereum.Value.fromBoolean(v);
}

export function valueBytes(b: Uint8Array): ethereum.Value {
  return ethereum.Value.fromBytes(changetype<Bytes>(b));
}

export function valueString(s: string): ethereum.Value {
  return ethereum.Value.fromString(s);
}

export function valueArray(values: Array<ethereum.Value>): ethereum.Value {
  return ethereum.Value.fromArray(values);
}

export function valueTuple(values: Array<ethereum.Value>): ethereum.Value {
  return ethereum.Value.fromTuple(changetype<ethereum.Tuple>(values));
}

export function newEvent(
  address: Uint8Array,
  logIndex: Uint8Array,
  blockHash: Uint8Array,
  blockNumber: Uint8Array,
  timestamp: Uint8Array,
  txHash: Uint8Array,
  txFrom: Uint8Array,
  params: Array<ethereum.EventParam>,
): ethereum.Event {
  const zero = BigInt.zero();
  const z32 = Bytes.fromHexString("0x" + "00".repeat(32));
  const block = new ethereum.Block(
    changetype<Bytes>(blockHash),
    z32,
    z32,
    Address.zero(),
    z32,
    z32,
    z32,
    changetype<BigInt>(blockNumber),
    zero,
    zero,
    changetype<BigInt>(timestamp),
    zero,
    zero,
    null,
    null,
  );
  const tx = new ethereum.Transaction(
    changetype<Bytes>(txHash),
    zero,
    changetype<Address>(txFrom),
    changetype<Address>(address),
    zero,
    zero,
    zero,
    Bytes.empty(),
    zero,
  );
  return new ethereum.Event(
    changetype<Address>(address),
    changetype<BigInt>(logIndex),
    changetype<BigInt>(logIndex),
    null,
    block,
    tx,
    params,
    null,
  );
}

/** A copy, as graph-node hands out and takes in: later changes to one do not show in the other. */
export function cloneEntity(e: Entity): Entity {
  const c = new Entity();
  for (let i = 0; i < e.entries.length; i++) c.set(e.entries[i].key, e.entries[i].value);
  return c;
}

function valueJson(v: Value): string {
  switch (v.kind) {
    case ValueKind.STRING:
      return JSON_string(v.toString());
    case ValueKind.INT:
      return v.toI32().toString();
    case ValueKind.INT8:
    case ValueKind.TIMESTAMP:
      return JSON_string(v.toI64().toString());
    case ValueKind.BOOL:
      return v.toBoolean() ? "true" : "false";
    case ValueKind.NULL:
      return "null";
    case ValueKind.BYTES:
      return JSON_string(v.toBytes().toHexString());
    case ValueKind.BIGINT:
      return JSON_string(v.toBigInt().toString());
    case ValueKind.ARRAY: {
      const a = v.toArray();
      const parts = new Array<string>(0);
      for (let i = 0; i < a.length; i++) parts.push(valueJson(a[i]));
      return "[" + parts.join(",") + "]";
    }
    default:
      return JSON_string("unsupported kind " + v.kind.toString());
  }
}

function JSON_string(s: string): string {
  return '"' + s.replaceAll("\\", "\\\\").replaceAll('"', '\\"') + '"';
}

/** The entity as JSON: BigInts and Bytes as strings, with a "__kinds" map of each field's value kind. */
export function entityJson(e: Entity): string {
  const fields = new Array<string>(0);
  const kinds = new Array<string>(0);
  for (let i = 0; i < e.entries.length; i++) {
    const key = JSON_string(e.entries[i].key);
    fields.push(key + ":" + valueJson(e.entries[i].value));
    kinds.push(key + ":" + e.entries[i].value.kind.toString());
  }
  fields.push('"__kinds":{' + kinds.join(",") + "}");
  return "{" + fields.join(",") + "}";
}
