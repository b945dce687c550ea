// A REST + WebSocket client for traders and bots speaking the gateway's fapi dialect
// (Aster v3 style auth): every signed request carries user, signer, a microsecond nonce
// and an EIP-712 signature (domain "AsterSignTransaction" by default, type
// Message{string msg}) over the exact bytes sent. Orders also carry the EIP-712 Order of
// sdk/eip712.ts signed by the account or its agent. Also: a local order book kept from a
// REST snapshot plus the diff stream by Binance's procedure, with gap detection.
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import WebSocket from "ws";
import { ORDER_FIELDS, DOMAIN_NAME, DOMAIN_VERSION } from "./eip712";
import { parseUnits } from "./units";

type Hex = `0x${string}`;
const enc = new TextEncoder();

function hex(b: Uint8Array): Hex {
  return `0x${Buffer.from(b).toString("hex")}`;
}
function unhex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h.replace(/^0x/, ""), "hex"));
}
function word(v: bigint): Uint8Array {
  return unhex(v.toString(16).padStart(64, "0"));
}
function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface SigningDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: string;
}

export const DEFAULT_AUTH_DOMAIN: SigningDomain = {
  name: "AsterSignTransaction",
  version: "1",
  chainId: 1666,
  verifyingContract: "0x0000000000000000000000000000000000000000",
};

function domainSeparator(d: SigningDomain): Uint8Array {
  const th = keccak_256(
    enc.encode("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
  );
  return keccak_256(
    cat(
      th,
      keccak_256(enc.encode(d.name)),
      keccak_256(enc.encode(d.version)),
      word(BigInt(d.chainId)),
      word(BigInt(d.verifyingContract)),
    ),
  );
}

/** Signs request messages and orders with one secp256k1 key (low-s, v = 27/28). */
export class Signer {
  readonly address: Hex;
  private readonly pk: Uint8Array;
  private readonly authPrefix: Uint8Array;
  private readonly orderPrefix: Uint8Array;
  private static readonly MSG_TYPEHASH = keccak_256(enc.encode("Message(string msg)"));
  private static readonly ORDER_TYPEHASH = keccak_256(
    enc.encode(`Order(${ORDER_FIELDS.map((f) => `${f.type} ${f.name}`).join(",")})`),
  );

  constructor(privateKey: Hex, authDomain: SigningDomain, exchange: { chainId: number; address: string }) {
    this.pk = unhex(privateKey);
    const pub = secp256k1.getPublicKey(this.pk, false);
    this.address = hex(keccak_256(pub.subarray(1)).subarray(12));
    this.authPrefix = cat(new Uint8Array([0x19, 0x01]), domainSeparator(authDomain));
    this.orderPrefix = cat(
      new Uint8Array([0x19, 0x01]),
      domainSeparator({
        name: DOMAIN_NAME,
        version: DOMAIN_VERSION,
        chainId: exchange.chainId,
        verifyingContract: exchange.address,
      }),
    );
  }

  signDigest(digest: Uint8Array): Hex {
    const s = secp256k1.sign(digest, this.pk, { lowS: true });
    const out = new Uint8Array(65);
    out.set(s.toCompactRawBytes(), 0);
    out[64] = 27 + s.recovery;
    return hex(out);
  }

  messageDigest(msg: string): Uint8Array {
    return keccak_256(cat(this.authPrefix, keccak_256(cat(Signer.MSG_TYPEHASH, keccak_256(enc.encode(msg))))));
  }

  signMessage(msg: string): Hex {
    return this.signDigest(this.messageDigest(msg));
  }

  orderDigest(o: {
    account: string;
    market: number;
    isBuy: boolean;
    reduceOnly: boolean;
    price: bigint;
    size: bigint;
    nonce: bigint;
    expiry: bigint;
  }): Uint8Array {
    const s = keccak_256(
      cat(
        Signer.ORDER_TYPEHASH,
        word(BigInt(o.account)),
        word(BigInt(o.market)),
        word(o.isBuy ? 1n : 0n),
        word(o.reduceOnly ? 1n : 0n),
        word(o.price),
        word(o.size),
        word(o.nonce),
        word(o.expiry),
      ),
    );
    return keccak_256(cat(this.orderPrefix, s));
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    msg: string,
  ) {
    super(`${status} ${code} ${msg}`);
  }
}

export interface ClientOptions {
  baseUrl: string;
  privateKey: Hex;
  /** The account this key acts for (default: the key's own address; else it must be an agent). */
  user?: Hex;
  authDomain?: SigningDomain;
  exchange?: { chainId: number; address: string };
  /** /fapi/v3 by default. */
  prefix?: string;
}

export interface NewOrder {
  symbol: string;
  side: "BUY" | "SELL";
  type: string;
  quantity: string;
  /** The signed limit (for market-type orders: the worst acceptable price). */
  price: string;
  timeInForce?: string;
  stopPrice?: string;
  reduceOnly?: boolean;
  closePosition?: boolean;
  activationPrice?: string;
  callbackRate?: string;
  workingType?: string;
  newClientOrderId?: string;
  selfTradePreventionMode?: string;
  /** Market id of `symbol` (from exchangeInfo `marketId`). */
  marketId: number;
  expiry?: bigint;
}

export class Client {
  readonly signer: Signer;
  readonly user: Hex;
  private lastNonce = 0n;
  private orderNonce = 0n;
  readonly prefix: string;

  constructor(readonly opts: ClientOptions) {
    this.signer = new Signer(
      opts.privateKey,
      opts.authDomain ?? DEFAULT_AUTH_DOMAIN,
      opts.exchange ?? { chainId: 31337, address: "0x0000000000000000000000000000000000000000" },
    );
    this.user = (opts.user ?? this.signer.address).toLowerCase() as Hex;
    this.prefix = opts.prefix ?? "/fapi/v3";
  }

  /** Strictly increasing microsecond nonce. */
  nonce(): bigint {
    const n = BigInt(Date.now()) * 1000n;
    this.lastNonce = n > this.lastNonce ? n : this.lastNonce + 1n;
    return this.lastNonce;
  }

  nextOrderNonce(): bigint {
    return this.orderNonce++;
  }

  /** The exact signed query/body string for `params` (in the given order) plus auth fields. */
  signParams(params: Record<string, string | number | boolean | undefined>): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.append(k, String(v));
    qs.append("user", this.user);
    qs.append("signer", this.signer.address);
    qs.append("nonce", this.nonce().toString());
    const payload = qs.toString();
    return `${payload}&signature=${this.signer.signMessage(payload)}`;
  }

  async public<T = unknown>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.append(k, String(v));
    const q = qs.toString();
    return this.send<T>("GET", `${this.prefix}${path}${q ? `?${q}` : ""}`);
  }

  async signed<T = unknown>(
    method: string,
    path: string,
    params: Record<string, string | number | boolean | undefined> = {},
  ): Promise<T> {
    const body = this.signParams(params);
    if (method === "GET") return this.send<T>(method, `${this.prefix}${path}?${body}`);
    return this.send<T>(method, `${this.prefix}${path}`, body);
  }

  async send<T>(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.opts.baseUrl}${path}`, {
      method,
      body,
      headers: body !== undefined ? { "content-type": "application/x-www-form-urlencoded", ...headers } : headers,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : {};
    if (!res.ok) throw new ApiError(res.status, json.code ?? 0, json.msg ?? text);
    return json as T;
  }

  /** Order parameters including its EIP-712 Order signature. */
  orderParams(o: NewOrder): Record<string, string | boolean | undefined> {
    const orderNonce = this.nextOrderNonce();
    const expiry = o.expiry ?? BigInt(Math.floor(Date.now() / 1000) + 86_400);
    const digest = this.signer.orderDigest({
      account: this.user,
      market: o.marketId,
      isBuy: o.side === "BUY",
      reduceOnly: Boolean(o.reduceOnly || o.closePosition),
      price: parseUnits(o.price, 6),
      size: parseUnits(o.quantity, 8),
      nonce: orderNonce,
      expiry,
    });
    return {
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      timeInForce: o.timeInForce,
      quantity: o.quantity,
      price: o.price,
      stopPrice: o.stopPrice,
      reduceOnly: o.reduceOnly,
      closePosition: o.closePosition,
      activationPrice: o.activationPrice,
      callbackRate: o.callbackRate,
      workingType: o.workingType,
      newClientOrderId: o.newClientOrderId,
      selfTradePreventionMode: o.selfTradePreventionMode,
      orderNonce: orderNonce.toString(),
      expiry: expiry.toString(),
      orderSignature: this.signer.signDigest(digest),
    };
  }

  placeOrder(o: NewOrder): Promise<Record<string, unknown>> {
    return this.signed("POST", "/order", this.orderParams(o));
  }

  cancelOrder(symbol: string, orderId: number): Promise<Record<string, unknown>> {
    return this.signed("DELETE", "/order", { symbol, orderId });
  }

  async listenKey(): Promise<string> {
    return (await this.signed<{ listenKey: string }>("POST", "/listenKey")).listenKey;
  }

  wsUrl(path: string): string {
    return this.opts.baseUrl.replace(/^http/, "ws") + path;
  }

  /** Open /ws/<streams> (raw) or /stream?streams= (combined). */
  connect(streams: string[], combined = false): WebSocket {
    return new WebSocket(this.wsUrl(combined ? `/stream?streams=${streams.join("/")}` : `/ws/${streams.join("/")}`));
  }
}

export interface DepthDiff {
  e: string;
  U: number;
  u: number;
  pu: number;
  b: [string, string][];
  a: [string, string][];
}

/**
 * A local order book by Binance's documented procedure: buffer diff events, load the REST
 * snapshot, drop events with u < lastUpdateId, the first applied event must have
 * U <= lastUpdateId <= u, then every event's pu must equal the previous u (else: gap).
 */
export class LocalBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  lastUpdateId = -1;
  synced = false;
  gap = false;
  private buffer: DepthDiff[] = [];

  onDiff(ev: DepthDiff): void {
    if (!this.synced) {
      this.buffer.push(ev);
      return;
    }
    this.apply(ev);
  }

  loadSnapshot(s: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] }): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of s.bids) this.bids.set(p, q);
    for (const [p, q] of s.asks) this.asks.set(p, q);
    this.lastUpdateId = s.lastUpdateId;
    this.synced = true;
    let first = true;
    for (const ev of this.buffer) {
      if (ev.u < s.lastUpdateId) continue;
      if (first) {
        first = false;
        if (!(ev.U <= s.lastUpdateId + 1 && ev.u >= s.lastUpdateId)) {
          this.gap = true;
          break;
        }
        this.applyLevels(ev);
        this.lastUpdateId = ev.u;
        continue;
      }
      this.apply(ev);
    }
    this.buffer = [];
  }

  private apply(ev: DepthDiff): void {
    if (ev.u <= this.lastUpdateId) return;
    if (ev.pu !== this.lastUpdateId) {
      this.gap = true;
      return;
    }
    this.applyLevels(ev);
    this.lastUpdateId = ev.u;
  }

  private applyLevels(ev: DepthDiff): void {
    for (const [p, q] of ev.b)
      if (Number(q) === 0) this.bids.delete(p);
      else this.bids.set(p, q);
    for (const [p, q] of ev.a)
      if (Number(q) === 0) this.asks.delete(p);
      else this.asks.set(p, q);
  }

  sorted(): { bids: [string, string][]; asks: [string, string][] } {
    return {
      bids: [...this.bids].sort((x, y) => Number(y[0]) - Number(x[0])),
      asks: [...this.asks].sort((x, y) => Number(x[0]) - Number(y[0])),
    };
  }
}
