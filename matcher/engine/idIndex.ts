// Values by sequential id in paged arrays: the engine's live orders (OrderIndex) and its trades
// waiting for settlement.

const PAGE_BITS = 12;
export const PAGE = 1 << PAGE_BITS; // ids per page
/** Page number of an id (exact for every id below 2^53: `& (PAGE - 1)` is id mod PAGE). */
export function pageOf(id: number): number {
  return (id - (id & (PAGE - 1))) / PAGE;
}

/** PAGE slots of an IdIndex, how many of them hold a value, and which (a bit per slot). */
class IndexPage<T> {
  readonly slots: (T | undefined)[] = new Array<T | undefined>(PAGE).fill(undefined);
  /**
   * Bit i set while slot i holds a value: 512 bytes a page against 16 KB of slots, so the lists
   * that drop dead ids lazily (level queues, account lists) tell dead from live without reading the
   * slots, which at a million resting orders sit in main memory (~150 ns a read).
   */
  readonly bits = new Int32Array(PAGE >> 5);
  live = 0;
}

/**
 * Values by id, for ids given out in increasing order (1, 2, 3, ...: the engine's orders, and its
 * trades waiting for settlement): arrays indexed by id beat a Map (no hashing, no rehash as it
 * grows). The slots come in pages of 4,096 ids: a page is dropped as soon as its last value is
 * deleted, so memory follows the live values, not every id ever given out (one long-lived value
 * keeps only its own page, and the page table grows by one entry per 4,096 ids). Any id may be
 * asked for (a hostile command's NaN, fraction, negative or string reads as absent); set() takes safe
 * integers at or above the first page held.
 */
export class IdIndex<T> {
  /** pages[k] holds ids of page basePage + k (undefined once dropped) */
  private pages: (IndexPage<T> | undefined)[] = [];
  private basePage = 0;
  size = 0;

  get(id: number): T | undefined {
    if (typeof id !== "number") return undefined; // a hostile "5" must not coerce to 5
    const k = pageOf(id) - this.basePage;
    if (!(k >= 0)) return undefined; // an id of a dropped page (or NaN)
    const p = this.pages[k];
    return p === undefined ? undefined : p.slots[id & (PAGE - 1)];
  }

  /** Whether a value has this id (get(id) !== undefined, from the page's bits). */
  has(id: number): boolean {
    if (typeof id !== "number") return false;
    const k = pageOf(id) - this.basePage;
    if (!(k >= 0)) return false;
    const p = this.pages[k];
    if (p === undefined) return false;
    const i = id & (PAGE - 1);
    return (p.bits[i >> 5] & (1 << (i & 31))) !== 0;
  }

  set(id: number, o: T): void {
    const pg = pageOf(id);
    let k = pg - this.basePage;
    if (k < 0) throw new RangeError(`id ${id} is below the index's first page (ids are set in increasing order)`);
    if (k >= this.pages.length) {
      // the last page, kept while new ids went there, is dropped if it emptied meanwhile
      const last = this.pages.length - 1;
      if (last >= 0 && (this.pages[last] as IndexPage<T>).live === 0) this.drop(last);
      if (this.pages.length === 0) this.basePage = pg; // nothing held: the table starts here
      k = pg - this.basePage;
      while (this.pages.length <= k) this.pages.push(undefined);
    }
    let p = this.pages[k];
    if (p === undefined) {
      p = new IndexPage<T>();
      this.pages[k] = p;
    }
    const i = id & (PAGE - 1);
    if (p.slots[i] === undefined) {
      p.live++;
      this.size++;
      p.bits[i >> 5] |= 1 << (i & 31);
    }
    p.slots[i] = o;
  }

  delete(id: number): void {
    if (typeof id !== "number") return;
    const k = pageOf(id) - this.basePage;
    const pages = this.pages;
    const p = pages[k];
    if (p === undefined) return;
    const i = id & (PAGE - 1);
    if (p.slots[i] === undefined) return;
    p.slots[i] = undefined;
    p.bits[i >> 5] &= ~(1 << (i & 31));
    this.size--;
    if (--p.live > 0) return;
    // the last page stays (new ids go there, set() drops it later if still empty); another is dropped
    if (k < pages.length - 1) this.drop(k);
  }

  /** Free page k; leading free pages leave the table. */
  private drop(k: number): void {
    const pages = this.pages;
    pages[k] = undefined;
    if (k !== 0) return;
    let n = 0;
    while (n < pages.length && pages[n] === undefined) n++;
    this.pages = pages.slice(n);
    this.basePage += n;
  }

  /** Pages allocated (memory held: 4,096 slots each). */
  get pagesHeld(): number {
    let n = 0;
    for (const p of this.pages) if (p !== undefined) n++;
    return n;
  }

  /** The values in id order. */
  *values(): IterableIterator<T> {
    for (const p of this.pages) if (p !== undefined) for (const o of p.slots) if (o !== undefined) yield o;
  }
}
