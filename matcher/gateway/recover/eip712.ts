// EIP-712 digests for flat struct types (no nested structs or arrays), computed with
// precomputed type hashes and domain separators: one keccak per dynamic field plus one for
// the struct and one for the final digest. Checked against viem's hashTypedData in tests.
import { keccak256, type Keccak256 } from "./keccak";
import { hexToBytes } from "./hex";

export interface TypedField {
  name: string;
  type: string;
}

export interface Domain {
  name?: string;
  version?: string;
  chainId?: number | bigint;
  verifyingContract?: string;
  salt?: string;
}

export type FieldValue = string | number | bigint | boolean | Uint8Array;

const enc = new TextEncoder();
const TWO_256 = 1n << 256n;

function word(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let x = v < 0n ? TWO_256 + v : v;
  for (let i = 31; i >= 0 && x > 0n; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** `x` if it fits a (u)int of `bits` bits, else a RangeError naming `what`. */
export function checkInt(x: bigint, bits: number, signed: boolean, what: string): bigint {
  const lo = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const hi = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (x < lo || x > hi) throw new RangeError(`eip712: ${what} out of range`);
  return x;
}

function toBigInt(v: FieldValue, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^-?(0x[0-9a-fA-F]+|\d+)$/.test(v)) return BigInt(v);
  throw new TypeError(`eip712: ${what} is not an integer`);
}

/** Encode one field value as its 32-byte EIP-712 word. */
function encodeField(type: string, v: FieldValue, keccak: Keccak256, name: string): Uint8Array {
  if (type === "string") {
    if (typeof v !== "string") throw new TypeError(`eip712: ${name} must be a string`);
    return keccak(enc.encode(v));
  }
  if (type === "bytes") {
    const b = typeof v === "string" ? hexToBytes(v) : v instanceof Uint8Array ? v : null;
    if (!b) throw new TypeError(`eip712: ${name} must be bytes`);
    return keccak(b);
  }
  if (type === "bool") return word(v === true || v === 1 || v === "true" ? 1n : 0n);
  if (type === "address") {
    if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw new TypeError(`eip712: ${name} is no address`);
    const out = new Uint8Array(32);
    out.set(hexToBytes(v), 12);
    return out;
  }
  const bm = /^bytes(\d+)$/.exec(type);
  if (bm) {
    const n = Number(bm[1]);
    const b = typeof v === "string" ? hexToBytes(v) : v instanceof Uint8Array ? v : null;
    if (!b || b.length !== n) throw new TypeError(`eip712: ${name} must be ${n} bytes`);
    const out = new Uint8Array(32);
    out.set(b, 0);
    return out;
  }
  const im = /^(u?)int(\d+)$/.exec(type);
  if (im) {
    const bits = BigInt(im[2]);
    const x = toBigInt(v, name);
    const lo = im[1] ? 0n : -(1n << (bits - 1n));
    const hi = im[1] ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
    if (x < lo || x > hi) throw new RangeError(`eip712: ${name} out of range for ${type}`);
    return word(x);
  }
  throw new TypeError(`eip712: unsupported field type ${type}`);
}

type FieldEncoder = (v: FieldValue, out: Buffer, off: number) => void;

const U64_MAX = (1n << 64n) - 1n;

/** Write integer `x` (already range-checked) as a 32-byte two's complement word at `off`. */
export function writeWord(x: bigint, out: Buffer, off: number): void {
  if (x >= 0n && x <= U64_MAX) {
    out.fill(0, off, off + 24);
    out.writeBigUInt64BE(x, off + 24);
    return;
  }
  out.write((x < 0n ? TWO_256 + x : x).toString(16).padStart(64, "0"), off, 32, "hex");
}

/**
 * Encoders for the static types (address, bool, intN/uintN), type parsed once per hasher;
 * the same checks and answers as encodeField. Dynamic and bytesN fields use encodeField.
 */
function staticEncoder(type: string, name: string): FieldEncoder | null {
  if (type === "bool") {
    return (v, out, off) => {
      out.fill(0, off, off + 32);
      out[off + 31] = v === true || v === 1 || v === "true" ? 1 : 0;
    };
  }
  if (type === "address") {
    return (v, out, off) => {
      if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw new TypeError(`eip712: ${name} is no address`);
      out.fill(0, off, off + 12);
      out.write(v.slice(2), off + 12, 20, "hex");
    };
  }
  const im = /^(u?)int(\d+)$/.exec(type);
  if (!im) return null;
  const bits = BigInt(im[2]);
  const lo = im[1] ? 0n : -(1n << (bits - 1n));
  const hi = im[1] ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
  return (v, out, off) => {
    const x = toBigInt(v, name);
    if (x < lo || x > hi) throw new RangeError(`eip712: ${name} out of range for ${type}`);
    writeWord(x, out, off);
  };
}

export function encodeType(primaryType: string, fields: readonly TypedField[]): string {
  return `${primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function domainFields(domain: Domain): TypedField[] {
  const f: TypedField[] = [];
  if (domain.name !== undefined) f.push({ name: "name", type: "string" });
  if (domain.version !== undefined) f.push({ name: "version", type: "string" });
  if (domain.chainId !== undefined) f.push({ name: "chainId", type: "uint256" });
  if (domain.verifyingContract !== undefined) f.push({ name: "verifyingContract", type: "address" });
  if (domain.salt !== undefined) f.push({ name: "salt", type: "bytes32" });
  return f;
}

/** A struct type bound to a domain: `digest(values)` is the EIP-712 signing hash. */
export class TypedDataHasher {
  readonly typeHash: Uint8Array;
  readonly domainSeparator: Uint8Array;
  private readonly prefix: Uint8Array;
  /** Per field: an in-place encoder for static types (null: the general path). */
  private readonly encoders: (FieldEncoder | null)[];

  constructor(
    readonly primaryType: string,
    readonly fields: readonly TypedField[],
    domain: Domain,
    private readonly keccak: Keccak256 = keccak256,
  ) {
    this.typeHash = keccak(enc.encode(encodeType(primaryType, fields)));
    const df = domainFields(domain);
    const dTypeHash = keccak(enc.encode(encodeType("EIP712Domain", df)));
    const dv = domain as Record<string, FieldValue>;
    this.domainSeparator = keccak(
      concat([dTypeHash, ...df.map((f) => encodeField(f.type, dv[f.name] as FieldValue, keccak, f.name))]),
    );
    this.prefix = concat([new Uint8Array([0x19, 0x01]), this.domainSeparator]);
    this.encoders = fields.map((f) => staticEncoder(f.type, f.name));
  }

  structHash(values: Readonly<Record<string, FieldValue>>): Uint8Array {
    // one buffer for the whole encoding; static fields are written in place
    const buf = Buffer.allocUnsafe(32 * (this.fields.length + 1));
    buf.set(this.typeHash, 0);
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i];
      const v = values[f.name];
      if (v === undefined) throw new TypeError(`eip712: missing field ${f.name}`);
      const enc = this.encoders[i];
      if (enc !== null) enc(v, buf, 32 * (i + 1));
      else buf.set(encodeField(f.type, v, this.keccak, f.name), 32 * (i + 1));
    }
    return this.keccak(buf);
  }

  digest(values: Readonly<Record<string, FieldValue>>): Uint8Array {
    const buf = Buffer.allocUnsafe(66);
    buf.set(this.prefix, 0);
    buf.set(this.structHash(values), 34);
    return this.keccak(buf);
  }
}
