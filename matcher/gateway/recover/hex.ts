// Hex helpers without allocation-heavy detours through Buffer parsing rules.
const HEX_RE = /^0x[0-9a-fA-F]*$/;

export function isHex(s: string, bytes?: number): boolean {
  return HEX_RE.test(s) && (s.length - 2) % 2 === 0 && (bytes === undefined || s.length === 2 + bytes * 2);
}

export function hexToBytes(s: string): Uint8Array {
  const h = s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s;
  return Buffer.from(h, "hex");
}

export function bytesToHex(b: Uint8Array): string {
  return "0x" + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}
