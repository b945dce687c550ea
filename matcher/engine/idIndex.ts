// Values by sequential id: the engine's live orders (OrderIndex).

/** Slots of the smallest ring (a power of two, and a multiple of 32 for the bits). */
const MIN_CAP = 4096;

/**
 * Values by id, for ids given out in increasing order (1, 2, 3, ...: the engine's orders): a ring of
 * slots indexed by id beats a Map (no hashing, no rehash as it grows). The ring holds the ids of a
 * window [lo, hi): slot `id & (cap - 1)`, and a bit per slot in `bits`, so a lookup reads the slot
 * (has() the bit) straight from the ring's array. At a million resting orders that read is a
 * main-memory miss. Measured against the alternatives (bench:matcher-ab, engine at 1M resting):
 * ~10% faster than pages of 4,096 ids (page object, its array, then the slot) and than pages of
 * 16,384 held straight in a page table.
 * Memory follows the live values: when a new id does not fit in the window, the ring doubles while it
 * is more than a quarter full, and otherwise the window moves up and the few values it leaves behind
 * (long-resting orders among dead ids) move to a Map of their own (`old`); at a removal, a ring less
 * than a 32nd full halves. So it holds fewer than 8 slots per value after it grows, and at most 32
 * after a removal (or the smallest ring).
 * The price is a pause when the ring doubles: allocating the new array (its memory is touched as it
 * is filled) takes ~14 ms at 2M slots. It doubles only when the live values outgrow a quarter of it,
 * so about once per doubling of the resting orders, like the old generation's own growth.
 * Any id may be asked for (a hostile command's NaN, fraction, negative or string reads as absent);
 * set() takes safe integers at or above the window's start, or ids already held.
 */
export class IdIndex<T> {
  private slots: (T | undefined)[];
  /**
   * Bit (id & mask) set while that id's slot holds a value: the lists that drop dead ids lazily (level
   * queues, account lists) tell dead from live without reading the slots (a cache line per 512 ids,
   * against one per 8 slots).
   */
  private bits: Int32Array;
  private mask: number;
  /** the window: ring slots hold ids in [lo, hi) only (hi - lo <= cap); ids below lo are in `old` */
  private lo = 0;
  private hi = 0;
  /** values in the ring */
  private inRing = 0;
  /** values left below the window (ascending ids: moved there in id order) */
  private readonly old = new Map<number, T>();
  size = 0;

  /** minCap: the smallest ring (a power of two, at least 32; tests give small ones to reach growth soon) */
  constructor(private readonly minCap = MIN_CAP) {
    if (!(minCap >= 32 && (minCap & (minCap - 1)) === 0))
      throw new RangeError(`minCap ${minCap} is not a power of two >= 32`);
    this.slots = new Array<T | undefined>(minCap).fill(undefined);
    this.bits = new Int32Array(minCap >> 5);
    this.mask = minCap - 1;
  }

  get(id: number): T | undefined {
    if (typeof id !== "number") return undefined; // a hostile "5" must not coerce to 5
    if (id >= this.lo && id < this.hi) return Math.floor(id) === id ? this.slots[id & this.mask] : undefined;
    return this.old.size === 0 ? undefined : this.old.get(id);
  }

  /** Whether a value has this id (get(id) !== undefined, from the bits). */
  has(id: number): boolean {
    if (typeof id !== "number") return false;
    if (id >= this.lo && id < this.hi) {
      if (Math.floor(id) !== id) return false;
      const i = id & this.mask;
      return (this.bits[i >> 5] & (1 << (i & 31))) !== 0;
    }
    return this.old.size !== 0 && this.old.has(id);
  }

  set(id: number, o: T): void {
    if (!Number.isSafeInteger(id)) throw new RangeError(`id ${id} is not a safe integer`);
    if (this.size === 0) this.lo = this.hi = id; // nothing held: the window starts here
    if (id < this.lo) {
      if (!this.old.has(id))
        throw new RangeError(`id ${id} is below the index's window (ids are set in increasing order)`);
      this.old.set(id, o);
      return;
    }
    if (id >= this.hi) {
      if (id - this.lo >= this.slots.length) this.makeRoom(id);
      this.hi = id + 1;
    }
    const i = id & this.mask;
    if (this.slots[i] === undefined) {
      this.inRing++;
      this.size++;
      this.bits[i >> 5] |= 1 << (i & 31);
    }
    this.slots[i] = o;
  }

  delete(id: number): void {
    if (typeof id !== "number") return;
    if (id >= this.lo && id < this.hi) {
      if (Math.floor(id) !== id) return;
      const i = id & this.mask;
      if (this.slots[i] === undefined) return;
      this.slots[i] = undefined;
      this.bits[i >> 5] &= ~(1 << (i & 31));
      this.size--;
      this.inRing--;
    } else if (this.old.size !== 0 && this.old.delete(id)) this.size--;
    else return;
    if (this.inRing * 32 < this.slots.length && this.slots.length > this.minCap) this.shrink();
  }

  /** Room in the window for `id` (>= hi): a bigger ring while it is over a quarter full, else the window moves up. */
  private makeRoom(id: number): void {
    while ((this.inRing + 1) * 4 > this.slots.length && id - this.lo >= this.slots.length) this.double();
    if (id - this.lo >= this.slots.length) this.moveLo(id + 1 - this.slots.length);
  }

  /**
   * The ring doubled. A slot's offset in the new ring is its offset in the old one, in one half or the
   * other, so the halves are copies of the old ring with what belongs to the other half cleared: built
   * with concat, fill and typed-array set, not a loop per id (a loop over 1M ids runs in the
   * interpreter here: ~18 ms, against ~14 for the concat, most of it the new array's memory).
   */
  private double(): void {
    const cap = this.slots.length;
    const words = cap >> 5;
    const r = this.lo & this.mask; // the window's ids [lo, lo + cap - r) sit at offsets [r, cap) ...
    const upper = ((this.lo - r) / cap) & 1; // ... and go to this half; ids at offsets [0, r) to the other
    const slots = this.slots.concat(this.slots);
    slots.fill(undefined, upper * cap, upper * cap + r);
    slots.fill(undefined, (1 - upper) * cap + r, (2 - upper) * cap);
    this.slots = slots;
    const old = this.bits;
    const bits = new Int32Array(2 * words);
    const rw = r >> 5;
    const low = (1 << (r & 31)) - 1; // in word rw, the bits of offsets below r (none when r is a word's first)
    bits.set(old.subarray(rw, words), upper * words + rw);
    bits[upper * words + rw] &= ~low;
    bits.set(old.subarray(0, rw), (1 - upper) * words);
    bits[(1 - upper) * words + rw] = old[rw] & low;
    this.bits = bits;
    this.mask = 2 * cap - 1;
  }

  /** The ring halved until it is at least a 16th full (or the smallest): room to grow again before it must. */
  private shrink(): void {
    let cap = this.slots.length;
    while (cap > this.minCap && this.inRing * 16 < cap) cap >>= 1;
    if (this.hi - this.lo > cap) this.moveLo(this.hi - cap);
    const slots = new Array<T | undefined>(cap).fill(undefined);
    const bits = new Int32Array(cap >> 5);
    const mask = cap - 1;
    const old = this.bits;
    const base = this.lo & this.mask;
    // the values found through the bits, a word at a time: the ring is nearly empty
    for (let w = 0; w < old.length; w++) {
      for (let b = old[w]; b !== 0; b &= b - 1) {
        const at = (w << 5) | (31 - Math.clz32(b & -b));
        const id = this.lo + ((at - base) & this.mask);
        const i = id & mask;
        slots[i] = this.slots[at];
        bits[i >> 5] |= 1 << (i & 31);
      }
    }
    this.slots = slots;
    this.bits = bits;
    this.mask = mask;
  }

  /** The window starts at `to` (> lo): the values of ids [lo, to) move to `old`. */
  private moveLo(to: number): void {
    const slots = this.slots;
    const mask = this.mask;
    const end = Math.min(to, this.hi);
    for (let id = this.lo; id < end && this.inRing > 0; id++) {
      const i = id & mask;
      if ((i & 31) === 0 && this.bits[i >> 5] === 0) {
        id += 31; // a whole empty word
        continue;
      }
      const o = slots[i];
      if (o === undefined) continue;
      this.old.set(id, o);
      slots[i] = undefined;
      this.bits[i >> 5] &= ~(1 << (i & 31));
      this.inRing--;
    }
    this.lo = to;
    if (this.hi < to) this.hi = to;
  }

  /** Slots held (memory: the ring and the values left below it). */
  get slotsHeld(): number {
    return this.slots.length + this.old.size;
  }

  /** The values in id order. */
  *values(): IterableIterator<T> {
    yield* this.old.values();
    for (let id = this.lo; id < this.hi; id++) {
      const o = this.slots[id & this.mask];
      if (o !== undefined) yield o;
    }
  }
}
