// Values by sequential id: the engine's live orders (OrderIndex). PAGE and pageOf also page the trades
// waiting for settlement (pendingTrades.ts).

const PAGE_BITS = 12;
export const PAGE = 1 << PAGE_BITS; // ids per page
/** Page number of an id (exact for every id below 2^53: `& (PAGE - 1)` is id mod PAGE). */
export function pageOf(id: number): number {
  return (id - (id & (PAGE - 1))) / PAGE;
}

/** Slots of the smallest ring (a power of two, and a multiple of 32 for the bits). */
const MIN_CAP = 4096;

/**
 * Values by id, for ids given out in increasing order (1, 2, 3, ...: the engine's orders): a ring of
 * slots indexed by id beats a Map (no hashing, no rehash as it grows). The ring holds the ids of a
 * window [lo, hi): slot `id & (cap - 1)`, and a bit per slot in `bits`, so a lookup is one read of a
 * slot (and has() one of a bit) with nothing to follow first. At a million resting orders that read
 * is a main-memory miss; the paged index this replaces put two more misses before it (the page
 * object, then its array), one after the other, so batched lookups stalled on each in turn.
 * Memory follows the live values: when a new id does not fit in the window, the ring doubles while it
 * is more than an eighth full, and otherwise the window moves up and the few values it leaves behind
 * (long-resting orders among dead ids) move to a Map of their own (`old`); at a removal, a ring less
 * than a 32nd full halves. So it holds fewer than 16 slots per value after it grows, and at most 32
 * after a removal (or MIN_CAP).
 * Any id may be asked for (a hostile command's NaN, fraction, negative or string reads as absent);
 * set() takes safe integers at or above the window's start, or ids already held.
 */
export class IdIndex<T> {
  private slots: (T | undefined)[] = new Array<T | undefined>(MIN_CAP).fill(undefined);
  /**
   * Bit (id & mask) set while that id's slot holds a value: the lists that drop dead ids lazily (level
   * queues, account lists) tell dead from live without reading the slots (a cache line per 512 ids,
   * against one per 8 slots).
   */
  private bits = new Int32Array(MIN_CAP >> 5);
  private mask = MIN_CAP - 1;
  /** the window: ring slots hold ids in [lo, hi) only (hi - lo <= cap); ids below lo are in `old` */
  private lo = 0;
  private hi = 0;
  /** values in the ring */
  private inRing = 0;
  /** values left below the window (ascending ids: moved there in id order) */
  private readonly old = new Map<number, T>();
  size = 0;

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
    if (this.inRing * 32 < this.slots.length && this.slots.length > MIN_CAP) this.shrink();
  }

  /** Room in the window for `id` (>= hi): a bigger ring while it is over an eighth full, else the window moves up. */
  private makeRoom(id: number): void {
    let cap = this.slots.length;
    while ((this.inRing + 1) * 8 > cap && id - this.lo >= cap) cap *= 2;
    if (cap !== this.slots.length) this.resize(cap);
    if (id - this.lo >= cap) this.moveLo(id + 1 - cap);
  }

  /** The ring halved until it is at least a 16th full (or MIN_CAP): room to grow again before it must. */
  private shrink(): void {
    let cap = this.slots.length;
    while (cap > MIN_CAP && this.inRing * 16 < cap) cap >>= 1;
    this.resize(cap);
  }

  /** The window starts at `to` (> lo): the values of ids [lo, to) move to `old`. */
  private moveLo(to: number): void {
    const slots = this.slots;
    const mask = this.mask;
    const end = Math.min(to, this.hi);
    for (let id = this.lo; id < end && this.inRing > 0; id++) {
      const i = id & mask;
      const o = slots[i];
      if (o === undefined) {
        if ((i & 31) === 0 && this.bits[i >> 5] === 0) id += 31; // a whole empty word
        continue;
      }
      this.old.set(id, o);
      slots[i] = undefined;
      this.bits[i >> 5] &= ~(1 << (i & 31));
      this.inRing--;
    }
    this.lo = to;
    if (this.hi < to) this.hi = to;
  }

  /** A ring of `cap` slots holding the same values (the window shrinks to fit: what it leaves moves to `old`). */
  private resize(cap: number): void {
    if (this.hi - this.lo > cap) this.moveLo(this.hi - cap);
    const slots = new Array<T | undefined>(cap).fill(undefined);
    const bits = new Int32Array(cap >> 5);
    const mask = cap - 1;
    for (let id = this.lo; id < this.hi; id++) {
      const o = this.slots[id & this.mask];
      if (o === undefined) continue;
      const i = id & mask;
      slots[i] = o;
      bits[i >> 5] |= 1 << (i & 31);
    }
    this.slots = slots;
    this.bits = bits;
    this.mask = mask;
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
