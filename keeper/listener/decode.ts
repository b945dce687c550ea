// Exchange logs decoded as viem's parseEventLogs(exchangeAbi, strict) decodes them, with a fast path for
// FillSettled (hundreds per settled batch): fixed words read directly and addresses checksummed with the
// native keccak (cached). test/keeper/listenerDecode.test.ts checks it against viem.
import { getAbiItem, parseEventLogs, toEventSelector, type AbiEvent, type Address, type Hex } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { keccakBytes } from "../keccak";
import type { DecodedLog } from "./events";

const FILL_SETTLED = toEventSelector(getAbiItem({ abi: exchangeAbi, name: "FillSettled" }) as AbiEvent);

const checksums = new Map<string, Address>();

/** EIP-55 checksum of a 20-byte address (= viem getAddress), cached. */
export function checksumAddress(lower: string): Address {
  let a = checksums.get(lower);
  if (a) return a;
  const hex = lower.slice(2);
  const h = keccakBytes(Buffer.from(hex, "ascii"));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = i % 2 === 0 ? h[i >> 1] >> 4 : h[i >> 1] & 0x0f;
    out += nibble >= 8 ? hex[i].toUpperCase() : hex[i];
  }
  a = out as Address;
  if (checksums.size > 100_000) checksums.clear();
  checksums.set(lower, a);
  return a;
}

const word = (data: string, i: number) => data.slice(2 + 64 * i, 2 + 64 * (i + 1));
const int64 = (w: string) => BigInt.asIntN(64, BigInt(`0x${w.slice(48)}`));

interface RawLog {
  address: Address;
  topics: Hex[];
  data: Hex;
  removed?: boolean;
}

/** A FillSettled log, or undefined when it is not one in the expected shape (the general path decodes it). */
function fastFillSettled(l: RawLog): DecodedLog | undefined {
  if (l.topics.length !== 4 || l.topics[0] !== FILL_SETTLED || l.data.length !== 2 + 64 * 8) return undefined;
  const d = l.data.toLowerCase();
  const t = l.topics.map((x) => x.toLowerCase());
  // the words must hold exactly what their types allow, as viem's strict decoding requires
  if (!/^0{48}/.test(t[1].slice(2)) || !/^0{24}/.test(t[2].slice(2)) || !/^0{24}/.test(t[3].slice(2))) return undefined;
  const market = word(d, 2);
  const isBuy = word(d, 3);
  if (!/^0{56}/.test(market) || !/^0{63}[01]$/.test(isBuy) || !/^0{48}/.test(word(d, 4)) || !/^0{48}/.test(word(d, 5)))
    return undefined;
  for (const i of [6, 7]) {
    const w = word(d, i);
    if (!/^(0{48}[0-7]|f{48}[89a-f])/.test(w)) return undefined; // int64 sign-extended
  }
  return {
    ...(l as object),
    eventName: "FillSettled",
    args: {
      batch: BigInt(`0x${t[1].slice(2)}`),
      maker: checksumAddress(`0x${t[2].slice(26)}`),
      taker: checksumAddress(`0x${t[3].slice(26)}`),
      makerOrderHash: `0x${word(d, 0)}`,
      takerOrderHash: `0x${word(d, 1)}`,
      market: Number(BigInt(`0x${market}`)),
      takerIsBuy: isBuy.endsWith("1"),
      size: BigInt(`0x${word(d, 4)}`),
      price: BigInt(`0x${word(d, 5)}`),
      makerFee: int64(word(d, 6)),
      takerFee: int64(word(d, 7)),
    },
  } as unknown as DecodedLog;
}

/** = parseEventLogs({ abi: exchangeAbi, logs, strict: true }), in order. */
export function decodeExchangeLogs(logs: readonly unknown[]): DecodedLog[] {
  const out: DecodedLog[] = [];
  let rest: unknown[] = [];
  const flush = () => {
    if (rest.length) out.push(...(parseEventLogs({ abi: exchangeAbi, logs: rest as never, strict: true }) as never[]));
    rest = [];
  };
  for (const l of logs) {
    const f = fastFillSettled(l as RawLog);
    if (f) {
      flush();
      out.push(f);
    } else rest.push(l);
  }
  flush();
  return out;
}
