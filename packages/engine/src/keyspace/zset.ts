// DESIGN: RZSet is Redis's sorted set (t_zset.c): a Map member → score plus an ordered index by
// (score, member bytes). Redis indexes with a skip list with span counts (zskiplist); in JS a skip
// list costs several cache misses per step (node → array object → backing store, boxed doubles),
// so the index here is the equivalent order-statistic B+tree: leaves hold up to LEAF_CAP entries
// in parallel arrays (scores unboxed and contiguous), inner nodes hold up to INNER_CAP children
// with the entry count of each subtree (Redis's spans) and a lower-bound key per child. Rank,
// score and lex positions are found by one descent (O(log n)), ranges are then walked along the
// linked leaves (O(m)); nothing is ever sorted per call.
//
// Separator keys are lower bounds only: deleting an entry never rewrites them, so a separator may
// name a key that is gone. Every descent that must land on the leaf holding a key therefore picks
// the last child whose separator is <= the key.
//
// Redis keeps small sorted sets in a listpack, which stores integral scores as integers, so -0
// becomes 0 there while the skiplist keeps -0 (ZADD z -0 m → ZSCORE "0" on a small set, "-0" on a
// big one). `listpack` mirrors the encoding Redis 7.0 would use, so that this normalisation, the
// lex-range algorithms (below) and OBJECT ENCODING match: a set starts as a listpack, converts when
// it would exceed 128 entries or gets a member longer than 64 bytes (zsetAdd), and only a stored
// result converts back (convertToListpackIfFits, Redis zsetConvertToListpackIfNeeded).
//
// The descent scratch state is module-level: the engine is single-threaded and no method calls
// user code while it is in use, so nothing is allocated per insert, delete or lookup.

import type { Bin } from '../bytes.ts';

/** Redis zset-max-listpack-entries / zset-max-listpack-value defaults (not configurable here). */
export const ZSET_MAX_LISTPACK_ENTRIES = 128;
export const ZSET_MAX_LISTPACK_VALUE = 64;

const LEAF_CAP = 64;
const INNER_CAP = 64;
/** Below this many entries (children) a node is merged into a sibling when they fit together. */
const LEAF_MIN = LEAF_CAP / 4;
const INNER_MIN = INNER_CAP / 4;
/** Fill of the nodes built by clone(): room to grow before the first splits. */
const BULK_FILL = (LEAF_CAP * 3) / 4;

/** A score interval (Redis zrangespec); `minex`/`maxex` make a bound exclusive. */
export interface ScoreRange {
  readonly min: number;
  readonly max: number;
  readonly minex: boolean;
  readonly maxex: boolean;
}

/** One end of a lex interval (Redis zlexrangespec item): "-" (kind -1), "+" (kind 1) or [x / (x. */
export interface LexBound {
  readonly kind: -1 | 0 | 1;
  readonly value: Bin;
  readonly ex: boolean;
}

export interface LexRange {
  readonly min: LexBound;
  readonly max: LexBound;
}

/** A member and its score. */
export interface ZEntry {
  readonly member: Bin;
  readonly score: number;
}

/** Called per entry; returning `false` (exactly) stops the walk, any other value continues. */
export type ZVisitor = (member: Bin, score: number) => unknown;

class Leaf {
  readonly leaf = true as const;
  n = 0;
  /** Parallel arrays, dense in [0, n): plain arrays of numbers are stored as unboxed doubles. */
  readonly scores: number[] = [];
  readonly members: Bin[] = [];
  prev: Leaf | null = null;
  next: Leaf | null = null;
}

class Inner {
  readonly leaf = false as const;
  n = 0;
  readonly children: BNode[] = [];
  /** Entries in each child's subtree (Redis's spans). */
  readonly sizes: number[] = [];
  /** Lower bound of each child's keys; index 0 is kept for when the node is split or merged. */
  readonly sepScores: number[] = [];
  readonly sepMembers: Bin[] = [];
}

type BNode = Leaf | Inner;

// ---- descent predicates -------------------------------------------------------------------------
// A descent finds the boundary of a predicate that is true for a prefix of the order. The mode and
// target live in module variables so the hot paths allocate no closures.

const KEY_LE = 0; // (score, member) <= target key
const SCORE_LT = 1; // score < target score
const SCORE_LE = 2; // score <= target score
const LEX_BELOW_MIN = 3; // member does not satisfy the lex minimum
const LEX_LE_MAX = 4; // member satisfies the lex maximum

let mode = KEY_LE;
let tScore = 0;
let tMember: Bin = '';
let tBound: LexBound = { kind: -1, value: '', ex: true };

/** Redis zslLexValueGteMin / zslLexValueLteMax. */
function lexGteMin(value: Bin, min: LexBound): boolean {
  if (min.kind !== 0) return min.kind < 0;
  return min.ex ? value > min.value : value >= min.value;
}
function lexLteMax(value: Bin, max: LexBound): boolean {
  if (max.kind !== 0) return max.kind > 0;
  return max.ex ? value < max.value : value <= max.value;
}

/** Redis sdscmplex on two bounds: "-" sorts before every string, "+" after every string. */
function compareLexBounds(a: LexBound, b: LexBound): number {
  if (a.kind !== 0 || b.kind !== 0) return a.kind === b.kind ? 0 : a.kind < b.kind ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

function pred(score: number, member: Bin): boolean {
  switch (mode) {
    case KEY_LE:
      return score < tScore || (score === tScore && member <= tMember);
    case SCORE_LT:
      return score < tScore;
    case SCORE_LE:
      return score <= tScore;
    case LEX_BELOW_MIN:
      return !lexGteMin(member, tBound);
    default:
      return lexLteMax(member, tBound);
  }
}

// Result of the last descent: the inner nodes passed and the child index taken in each, the leaf,
// the position in it and the global rank of that position.
const pathNodes: Inner[] = [];
const pathIdx: number[] = [];
let pathLen = 0;
let foundLeaf: Leaf = new Leaf();
let foundPos = 0;
let foundRank = 0;

function pushPath(node: Inner, idx: number): void {
  if (pathLen === pathNodes.length) {
    pathNodes.push(node);
    pathIdx.push(idx);
  } else {
    pathNodes[pathLen] = node;
    pathIdx[pathLen] = idx;
  }
  pathLen++;
}

export class RZSet implements Iterable<[Bin, number]> {
  readonly type = 'zset' as const;
  private readonly dict = new Map<Bin, number>();
  private root: BNode = new Leaf();
  private firstLeaf: Leaf;
  private lastLeaf: Leaf;
  /** Which encoding Redis would use for this set (see DESIGN). */
  private listpack: boolean;

  /** `listpack` false builds a skiplist-encoded set (Redis createZsetObject). */
  constructor(listpack = true) {
    this.listpack = listpack;
    this.firstLeaf = this.root as Leaf;
    this.lastLeaf = this.firstLeaf;
  }

  get size(): number {
    return this.dict.size;
  }

  /** The encoding OBJECT ENCODING would report in Redis 7.0. */
  get encoding(): 'listpack' | 'skiplist' {
    return this.listpack ? 'listpack' : 'skiplist';
  }

  /** Members in insertion order, through an iterator that survives changes (ZSCAN). */
  stableMembers(): MapIterator<Bin> {
    return this.dict.keys();
  }

  score(member: Bin): number | undefined {
    return this.dict.get(member);
  }

  has(member: Bin): boolean {
    return this.dict.has(member);
  }

  /**
   * Insert `member` or move it to `score` (Redis zsetAdd without flags: the caller decides
   * NX/XX/GT/LT). Returns true when the member is new. An unchanged score (-0 equals 0, as in C) is
   * a no-op.
   */
  add(member: Bin, score: number): boolean {
    const cur = this.dict.get(member);
    if (this.listpack) {
      if (
        cur === undefined &&
        (this.dict.size + 1 > ZSET_MAX_LISTPACK_ENTRIES || member.length > ZSET_MAX_LISTPACK_VALUE)
      ) {
        this.listpack = false; // zsetAdd converts before inserting, so the new score keeps its sign
      } else if (score === 0) {
        score = 0; // a listpack stores integral scores as integers (zzlInsertAt): -0 is lost
      }
    }
    if (cur === undefined) {
      this.insertKey(score, member);
      this.dict.set(member, score);
      return true;
    }
    if (cur !== score) {
      this.moveKey(member, cur, score);
      this.dict.set(member, score);
    }
    return false;
  }

  delete(member: Bin): boolean {
    const score = this.dict.get(member);
    if (score === undefined) return false;
    this.locateKey(score, member);
    this.removeRun(foundLeaf, foundPos, 1);
    return true;
  }

  /** 0-based rank (ascending, or descending when `reverse`), -1 if absent (Redis zslGetRank). */
  rank(member: Bin, reverse = false): number {
    const score = this.dict.get(member);
    if (score === undefined) return -1;
    this.locateKey(score, member);
    return reverse ? this.size - 1 - foundRank : foundRank;
  }

  /** The entry at 0-based ascending rank, or undefined (Redis zslGetElementByRank). */
  at(rank: number): ZEntry | undefined {
    if (rank < 0 || rank >= this.size) return undefined;
    this.descendRank(rank);
    return { member: foundLeaf.members[foundPos]!, score: foundLeaf.scores[foundPos]! };
  }

  first(): ZEntry | undefined {
    return this.at(0);
  }

  last(): ZEntry | undefined {
    return this.at(this.size - 1);
  }

  /**
   * Visit `count` entries starting at ascending rank `from`, walking up the order, or down it when
   * `reverse`; stops at either end or when `fn` returns false. The visitor must not modify this
   * set.
   */
  visit(from: number, count: number, reverse: boolean, fn: ZVisitor): void {
    if (count <= 0 || from < 0 || from >= this.size) return;
    this.descendRank(from);
    let leaf: Leaf | null = foundLeaf;
    let pos = foundPos;
    while (leaf !== null && count-- > 0) {
      if (fn(leaf.members[pos]!, leaf.scores[pos]!) === false) return;
      if (reverse) {
        if (--pos < 0) {
          leaf = leaf.prev;
          if (leaf !== null) pos = leaf.n - 1;
        }
      } else if (++pos >= leaf.n) {
        leaf = leaf.next;
        pos = 0;
      }
    }
  }

  // ---- score ranges ---------------------------------------------------------------------------

  /** Number of entries below the range's minimum: the first rank of the range. */
  scoreRangeStart(range: ScoreRange): number {
    mode = range.minex ? SCORE_LE : SCORE_LT;
    tScore = range.min;
    this.descend();
    return foundRank;
  }

  /** Number of entries at or below the range's maximum: one past its last rank. */
  scoreRangeEnd(range: ScoreRange): number {
    mode = range.maxex ? SCORE_LT : SCORE_LE;
    tScore = range.max;
    this.descend();
    return foundRank;
  }

  countInScoreRange(range: ScoreRange): number {
    return Math.max(0, this.scoreRangeEnd(range) - this.scoreRangeStart(range));
  }

  /**
   * Visit a score range in order (or reverse order), skipping `offset` entries first and visiting
   * at most `limit` (Redis genericZrangebyscoreCommand): a negative offset skips everything, a
   * negative limit means no limit. The offset is skipped by rank, not by walking.
   */
  visitScoreRange(
    range: ScoreRange,
    offset: number,
    limit: number,
    reverse: boolean,
    fn: ZVisitor,
  ): void {
    const lo = this.scoreRangeStart(range);
    const hi = this.scoreRangeEnd(range);
    if (offset < 0 || limit === 0) return;
    const available = hi - lo - offset;
    if (available <= 0) return;
    const count = limit < 0 ? available : Math.min(limit, available);
    this.visit(reverse ? hi - 1 - offset : lo + offset, count, reverse, fn);
  }

  /** Remove the entries of a score range; returns how many (zslDeleteRangeByScore). */
  deleteScoreRange(range: ScoreRange): number {
    return this.deleteRankRange(this.scoreRangeStart(range), this.scoreRangeEnd(range));
  }

  // ---- lex ranges -----------------------------------------------------------------------------
  // Lex ranges assume every score is equal; with mixed scores Redis's answer is unspecified but
  // deterministic for a listpack, so we reproduce its algorithms rather than the intended result:
  // both encodings first test the range against the two extreme members (zzlIsInLexRange /
  // zslIsInLexRange), a listpack is then scanned linearly from one end (it never exceeds 128
  // entries), a skiplist is searched by descent (O(log n)); both then walk while each member
  // still satisfies the far bound. Redis's skiplist descent depends on random node levels, so
  // mixed-score skiplist answers cannot be reproduced: ours is the binary-search answer.

  /** Visit a lex range like visitScoreRange (Redis genericZrangebylexCommand). */
  visitLexRange(
    range: LexRange,
    offset: number,
    limit: number,
    reverse: boolean,
    fn: ZVisitor,
  ): void {
    if (offset < 0 || limit === 0) return;
    const start = reverse ? this.lexLastRank(range) : this.lexFirstRank(range, true);
    if (start < 0) return;
    const from = reverse ? start - offset : start + offset;
    let remaining = limit; // negative: no limit
    this.visit(from, this.size, reverse, (member, score) => {
      if (remaining-- === 0) return false;
      if (reverse ? !lexGteMin(member, range.min) : !lexLteMax(member, range.max)) return false;
      fn(member, score);
      return true;
    });
  }

  /** Redis zlexcountCommand: a walk on a listpack, a rank difference on a skiplist. */
  countInLexRange(range: LexRange): number {
    const first = this.lexFirstRank(range, true);
    if (first < 0) return 0;
    if (this.listpack) return this.lexRunLength(first, range);
    const last = this.lexLastRank(range);
    // With mixed scores this can even be negative, as in Redis.
    return last < 0 ? this.size - first : last + 1 - first;
  }

  /**
   * Remove the entries of a lex range; returns how many (zzlDeleteRangeByLex /
   * zslDeleteRangeByLex).
   */
  deleteLexRange(range: LexRange): number {
    // The skiplist variant skips the extreme-members test, the listpack one does not.
    const first = this.lexFirstRank(range, this.listpack);
    if (first < 0) return 0;
    return this.deleteRankRange(first, first + this.lexRunLength(first, range));
  }

  // ---- removal by rank, pops ------------------------------------------------------------------

  /**
   * Remove the entries with ascending ranks in [lo, hi); returns how many (zslDeleteRangeByRank).
   */
  deleteRankRange(lo: number, hi: number): number {
    if (lo < 0) lo = 0;
    if (hi > this.size) hi = this.size;
    let remaining = hi - lo;
    if (remaining <= 0) return 0;
    const total = remaining;
    while (remaining > 0) {
      this.descendRank(lo);
      const k = Math.min(remaining, foundLeaf.n - foundPos);
      this.removeRun(foundLeaf, foundPos, k);
      remaining -= k;
    }
    return total;
  }

  /** Remove and return the lowest entry (ZPOPMIN). */
  popMin(): ZEntry | undefined {
    return this.popAt(0);
  }

  /** Remove and return the highest entry (ZPOPMAX). */
  popMax(): ZEntry | undefined {
    return this.popAt(this.size - 1);
  }

  /** Redis zsetConvertToListpackIfNeeded: used by commands that build a set and store it. */
  convertToListpackIfFits(): void {
    if (this.listpack || this.size > ZSET_MAX_LISTPACK_ENTRIES) return;
    for (const member of this.dict.keys()) if (member.length > ZSET_MAX_LISTPACK_VALUE) return;
    this.listpack = true;
    for (let leaf: Leaf | null = this.firstLeaf; leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.n; i++) {
        if (leaf.scores[i] === 0 && Object.is(leaf.scores[i], -0)) {
          leaf.scores[i] = 0; // the listpack stores 0 for -0
          this.dict.set(leaf.members[i]!, 0);
        }
      }
    }
  }

  /** An independent copy with the same encoding (COPY: Redis zsetDup). O(n): built bottom-up. */
  clone(): RZSet {
    const copy = new RZSet(this.listpack);
    for (const [member, score] of this.dict) copy.dict.set(member, score);
    if (this.size === 0) return copy;
    let level: BNode[] = [];
    let sizes: number[] = [];
    let prev: Leaf | null = null;
    let leaf = new Leaf();
    const flush = (): void => {
      leaf.prev = prev;
      if (prev !== null) prev.next = leaf;
      else copy.firstLeaf = leaf;
      prev = leaf;
      level.push(leaf);
      sizes.push(leaf.n);
    };
    this.forEach((member, score) => {
      if (leaf.n === BULK_FILL) {
        flush();
        leaf = new Leaf();
      }
      leaf.members.push(member);
      leaf.scores.push(score);
      leaf.n++;
    });
    flush();
    copy.lastLeaf = leaf;
    while (level.length > 1) [level, sizes] = buildParents(level, sizes);
    copy.root = level[0]!;
    return copy;
  }

  /** Entries as [member, score] in ascending order (AOF rewrite, DUMP). */
  *[Symbol.iterator](): IterableIterator<[Bin, number]> {
    for (let leaf: Leaf | null = this.firstLeaf; leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.n; i++) yield [leaf.members[i]!, leaf.scores[i]!];
    }
  }

  entries(): IterableIterator<[Bin, number]> {
    return this[Symbol.iterator]();
  }

  /** Zero-allocation ascending walk over every entry. The visitor must not modify this set. */
  forEach(fn: ZVisitor): void {
    for (let leaf: Leaf | null = this.firstLeaf; leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.n; i++) fn(leaf.members[i]!, leaf.scores[i]!);
    }
  }

  /** Check every structural invariant; throws on the first violation. For tests. */
  assertValid(): void {
    const leaves: Leaf[] = [];
    const count = checkNode(this.root, null, null, leaves);
    if (count !== this.size) throw new Error(`tree holds ${count} entries, dict ${this.size}`);
    if (leaves[0] !== this.firstLeaf || leaves[leaves.length - 1] !== this.lastLeaf)
      throw new Error('end leaves');
    let prevScore = -Infinity;
    let prevMember: Bin | null = null;
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!;
      if (leaf.prev !== (leaves[i - 1] ?? null) || leaf.next !== (leaves[i + 1] ?? null))
        throw new Error('leaf links');
      if (leaf.n === 0 && leaves.length > 1) throw new Error('empty leaf');
      for (let j = 0; j < leaf.n; j++) {
        const s = leaf.scores[j]!;
        const m = leaf.members[j]!;
        if (prevMember !== null && !(prevScore < s || (prevScore === s && prevMember < m)))
          throw new Error('order');
        if (!Object.is(this.dict.get(m), s)) throw new Error(`dict score of ${m}`);
        prevScore = s;
        prevMember = m;
      }
    }
  }

  // ---- tree internals -------------------------------------------------------------------------

  /** Descend by the current predicate: leaf and position of its first false entry, and its rank. */
  private descend(): void {
    let node = this.root;
    let rank = 0;
    pathLen = 0;
    while (!node.leaf) {
      let lo = 1;
      let hi = node.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (pred(node.sepScores[mid]!, node.sepMembers[mid]!)) lo = mid + 1;
        else hi = mid;
      }
      const idx = lo - 1;
      for (let j = 0; j < idx; j++) rank += node.sizes[j]!;
      pushPath(node, idx);
      node = node.children[idx]!;
    }
    let lo = 0;
    let hi = node.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(node.scores[mid]!, node.members[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    foundLeaf = node;
    foundPos = lo;
    foundRank = rank + lo;
  }

  /** Descend to the entry at `rank` (0 <= rank < size). */
  private descendRank(rank: number): void {
    let node = this.root;
    let left = rank;
    pathLen = 0;
    while (!node.leaf) {
      let idx = 0;
      while (idx < node.n - 1 && left >= node.sizes[idx]!) left -= node.sizes[idx++]!;
      pushPath(node, idx);
      node = node.children[idx]!;
    }
    foundLeaf = node;
    foundPos = left;
    foundRank = rank;
  }

  /** Descend to an existing key: foundLeaf/foundPos/foundRank point at it. */
  private locateKey(score: number, member: Bin): void {
    mode = KEY_LE;
    tScore = score;
    tMember = member;
    this.descend();
    foundPos--;
    foundRank--;
  }

  /** Redis zslInsert: the key is not present. */
  private insertKey(score: number, member: Bin): void {
    mode = KEY_LE; // "<=" so a stale separator equal to the key still routes to the right child
    tScore = score;
    tMember = member;
    this.descend();
    const leaf = foundLeaf;
    const pos = foundPos;
    for (let i = leaf.n; i > pos; i--) {
      leaf.scores[i] = leaf.scores[i - 1]!;
      leaf.members[i] = leaf.members[i - 1]!;
    }
    leaf.scores[pos] = score;
    leaf.members[pos] = member;
    leaf.n++;
    for (let d = 0; d < pathLen; d++) pathNodes[d]!.sizes[pathIdx[d]!]!++;
    if (leaf.n > LEAF_CAP) this.splitLeaf(leaf);
  }

  /**
   * Redis zslUpdateScore: in place when the order is kept inside the leaf, else remove and
   * reinsert.
   */
  private moveKey(member: Bin, oldScore: number, score: number): void {
    this.locateKey(oldScore, member);
    const leaf = foundLeaf;
    const pos = foundPos;
    if (pos > 0 && pos < leaf.n - 1) {
      const ps = leaf.scores[pos - 1]!;
      const ns = leaf.scores[pos + 1]!;
      const afterPrev = ps < score || (ps === score && leaf.members[pos - 1]! < member);
      const beforeNext = score < ns || (score === ns && member < leaf.members[pos + 1]!);
      if (afterPrev && beforeNext) {
        leaf.scores[pos] = score;
        return;
      }
    }
    this.removeRun(leaf, pos, 1, false);
    this.insertKey(score, member);
  }

  private popAt(rank: number): ZEntry | undefined {
    if (rank < 0 || rank >= this.size) return undefined;
    this.descendRank(rank);
    const entry = { member: foundLeaf.members[foundPos]!, score: foundLeaf.scores[foundPos]! };
    this.removeRun(foundLeaf, foundPos, 1);
    return entry;
  }

  /**
   * Remove `k` entries of `leaf` from `pos` on, using the path of the last descent (which must have
   * ended in `leaf`), and drop them from the dict unless `keepDict`.
   */
  private removeRun(leaf: Leaf, pos: number, k: number, dropFromDict = true): void {
    if (dropFromDict) for (let i = pos; i < pos + k; i++) this.dict.delete(leaf.members[i]!);
    for (let i = pos + k; i < leaf.n; i++) {
      leaf.scores[i - k] = leaf.scores[i]!;
      leaf.members[i - k] = leaf.members[i]!;
    }
    leaf.n -= k;
    leaf.scores.length = leaf.n;
    leaf.members.length = leaf.n;
    for (let d = 0; d < pathLen; d++) pathNodes[d]!.sizes[pathIdx[d]!]! -= k;
    this.rebalanceAfterRemoval();
  }

  /**
   * Split an overfull leaf in two and register the right half in the parent (path of the last
   * descent).
   */
  private splitLeaf(leaf: Leaf): void {
    const right = new Leaf();
    const half = leaf.n >>> 1;
    for (let i = half; i < leaf.n; i++) {
      right.scores.push(leaf.scores[i]!);
      right.members.push(leaf.members[i]!);
    }
    right.n = leaf.n - half;
    leaf.n = half;
    leaf.scores.length = half;
    leaf.members.length = half;
    right.prev = leaf;
    right.next = leaf.next;
    if (leaf.next !== null) leaf.next.prev = right;
    else this.lastLeaf = right;
    leaf.next = right;
    this.insertChild(pathLen - 1, leaf, right, half, right.n, right.scores[0]!, right.members[0]!);
  }

  /**
   * Put `right` after `left` in the inner node at path depth `depth` (a new root when depth < 0),
   * with `sep` as its lower bound; split that node if it overflows.
   */
  private insertChild(
    depth: number,
    left: BNode,
    right: BNode,
    leftSize: number,
    rightSize: number,
    sepScore: number,
    sepMember: Bin,
  ): void {
    if (depth < 0) {
      const root = new Inner();
      root.children.push(left, right);
      root.sizes.push(leftSize, rightSize);
      root.sepScores.push(0, sepScore);
      root.sepMembers.push('', sepMember);
      root.n = 2;
      this.root = root;
      return;
    }
    const node = pathNodes[depth]!;
    const at = pathIdx[depth]! + 1;
    node.children.splice(at, 0, right);
    node.sizes.splice(at, 0, rightSize);
    node.sepScores.splice(at, 0, sepScore);
    node.sepMembers.splice(at, 0, sepMember);
    node.sizes[at - 1] = leftSize;
    node.n++;
    if (node.n > INNER_CAP) this.splitInner(depth);
  }

  private splitInner(depth: number): void {
    const node = pathNodes[depth]!;
    const half = node.n >>> 1;
    const right = new Inner();
    for (let i = half; i < node.n; i++) {
      right.children.push(node.children[i]!);
      right.sizes.push(node.sizes[i]!);
      right.sepScores.push(node.sepScores[i]!);
      right.sepMembers.push(node.sepMembers[i]!);
    }
    right.n = node.n - half;
    node.n = half;
    node.children.length = half;
    node.sizes.length = half;
    node.sepScores.length = half;
    node.sepMembers.length = half;
    this.insertChild(
      depth - 1,
      node,
      right,
      sumSizes(node),
      sumSizes(right),
      right.sepScores[0]!,
      right.sepMembers[0]!,
    );
  }

  /**
   * After a removal along the last descent's path: merge underfull nodes into a sibling, bottom-up.
   */
  private rebalanceAfterRemoval(): void {
    let child: BNode = foundLeaf;
    for (let d = pathLen - 1; d >= 0; d--) {
      const parent = pathNodes[d]!;
      const idx = pathIdx[d]!;
      if (nodeCount(child) < (child.leaf ? LEAF_MIN : INNER_MIN) && parent.n > 1) {
        const li = idx > 0 ? idx - 1 : idx; // merge the pair (li, li + 1) into li
        const left = parent.children[li]!;
        const right = parent.children[li + 1]!;
        const cap = child.leaf ? LEAF_CAP : INNER_CAP;
        if (nodeCount(left) + nodeCount(right) <= cap) {
          if (left.leaf) this.mergeLeaves(left, right as Leaf);
          else
            mergeInners(
              left,
              right as Inner,
              parent.sepScores[li + 1]!,
              parent.sepMembers[li + 1]!,
            );
          parent.sizes[li]! += parent.sizes[li + 1]!;
          removeChild(parent, li + 1);
        } else if (left.leaf) {
          balanceLeaves(parent, li, left, right as Leaf);
        } else {
          balanceInners(parent, li, left, right as Inner);
        }
      }
      child = parent;
    }
    const root = this.root;
    if (!root.leaf && root.n === 1) this.root = root.children[0]!; // the tree gets shorter
  }

  private mergeLeaves(left: Leaf, right: Leaf): void {
    for (let i = 0; i < right.n; i++) {
      left.scores.push(right.scores[i]!);
      left.members.push(right.members[i]!);
    }
    left.n += right.n;
    left.next = right.next;
    if (right.next !== null) right.next.prev = left;
    else this.lastLeaf = left;
  }

  /** Rank of the first lex-range member, or -1 (zzlFirstInLexRange / zslFirstInLexRange). */
  private lexFirstRank(range: LexRange, checkOverlap: boolean): number {
    if (checkOverlap && !this.lexOverlaps(range)) return -1;
    const { min, max } = range;
    let rank = -1;
    if (this.listpack) {
      let r = 0;
      this.scan(false, (member) => {
        if (!lexGteMin(member, min)) {
          r++;
          return true;
        }
        if (lexLteMax(member, max)) rank = r;
        return false;
      });
      return rank;
    }
    mode = LEX_BELOW_MIN;
    tBound = min;
    this.descend();
    const r = foundRank;
    if (r >= this.size) return -1;
    this.descendRank(r);
    return lexLteMax(foundLeaf.members[foundPos]!, max) ? r : -1;
  }

  /** Rank of the last lex-range member, or -1 (zzlLastInLexRange / zslLastInLexRange). */
  private lexLastRank(range: LexRange): number {
    if (!this.lexOverlaps(range)) return -1;
    const { min, max } = range;
    let rank = -1;
    if (this.listpack) {
      let r = this.size - 1;
      this.scan(true, (member) => {
        if (!lexLteMax(member, max)) {
          r--;
          return true;
        }
        if (lexGteMin(member, min)) rank = r;
        return false;
      });
      return rank;
    }
    mode = LEX_LE_MAX;
    tBound = max;
    this.descend();
    const r = foundRank - 1;
    if (r < 0) return -1;
    this.descendRank(r);
    return lexGteMin(foundLeaf.members[foundPos]!, min) ? r : -1;
  }

  /** Redis zslIsInLexRange: the range is not empty and overlaps [first member, last member]. */
  private lexOverlaps(range: LexRange): boolean {
    const { min, max } = range;
    const cmp = compareLexBounds(min, max);
    if (cmp > 0 || (cmp === 0 && (min.ex || max.ex))) return false;
    if (this.size === 0) return false;
    const last = this.lastLeaf;
    return lexGteMin(last.members[last.n - 1]!, min) && lexLteMax(this.firstLeaf.members[0]!, max);
  }

  /**
   * How many members from rank `from` on satisfy the range's maximum, up to the first that does
   * not.
   */
  private lexRunLength(from: number, range: LexRange): number {
    let count = 0;
    this.visitWhile(from, (member) => {
      if (!lexLteMax(member, range.max)) return false;
      count++;
      return true;
    });
    return count;
  }

  /** Walk from one end while `fn` returns true (listpack-style linear scans). */
  private scan(fromEnd: boolean, fn: (member: Bin) => boolean): void {
    if (fromEnd) {
      for (let leaf: Leaf | null = this.lastLeaf; leaf !== null; leaf = leaf.prev) {
        for (let i = leaf.n - 1; i >= 0; i--) if (!fn(leaf.members[i]!)) return;
      }
    } else {
      for (let leaf: Leaf | null = this.firstLeaf; leaf !== null; leaf = leaf.next) {
        for (let i = 0; i < leaf.n; i++) if (!fn(leaf.members[i]!)) return;
      }
    }
  }

  /** Walk up the order from rank `from` while `fn` returns true. */
  private visitWhile(from: number, fn: (member: Bin) => boolean): void {
    if (from < 0 || from >= this.size) return;
    this.descendRank(from);
    let pos = foundPos;
    for (let leaf: Leaf | null = foundLeaf; leaf !== null; leaf = leaf.next, pos = 0) {
      for (; pos < leaf.n; pos++) if (!fn(leaf.members[pos]!)) return;
    }
  }
}

// ---- helpers on nodes ---------------------------------------------------------------------------

function nodeCount(node: BNode): number {
  return node.n;
}

function sumSizes(node: Inner): number {
  let total = 0;
  for (let i = 0; i < node.n; i++) total += node.sizes[i]!;
  return total;
}

/**
 * Append `right`'s children to `left`; `sep` (right's bound in the parent) becomes their first
 * bound.
 */
function mergeInners(left: Inner, right: Inner, sepScore: number, sepMember: Bin): void {
  for (let i = 0; i < right.n; i++) {
    left.children.push(right.children[i]!);
    left.sizes.push(right.sizes[i]!);
    left.sepScores.push(i === 0 ? sepScore : right.sepScores[i]!);
    left.sepMembers.push(i === 0 ? sepMember : right.sepMembers[i]!);
  }
  left.n += right.n;
}

/**
 * Even out two sibling leaves (children li and li + 1 of `parent`) when one is underfull and they
 * do not fit in one: entries move across and the right leaf's bound becomes its new first key.
 */
function balanceLeaves(parent: Inner, li: number, left: Leaf, right: Leaf): void {
  if (left.n < right.n) {
    const k = (right.n - left.n) >>> 1;
    for (let i = 0; i < k; i++) {
      left.scores.push(right.scores[i]!);
      left.members.push(right.members[i]!);
    }
    right.scores.splice(0, k);
    right.members.splice(0, k);
    left.n += k;
    right.n -= k;
    parent.sizes[li]! += k;
    parent.sizes[li + 1]! -= k;
  } else {
    const k = (left.n - right.n) >>> 1;
    right.scores.unshift(...left.scores.slice(left.n - k, left.n));
    right.members.unshift(...left.members.slice(left.n - k, left.n));
    left.n -= k;
    left.scores.length = left.n;
    left.members.length = left.n;
    right.n += k;
    parent.sizes[li]! -= k;
    parent.sizes[li + 1]! += k;
  }
  parent.sepScores[li + 1] = right.scores[0]!;
  parent.sepMembers[li + 1] = right.members[0]!;
}

/**
 * balanceLeaves for inner nodes: children move with their bounds, rotating through the parent's.
 */
function balanceInners(parent: Inner, li: number, left: Inner, right: Inner): void {
  let moved = 0;
  if (left.n < right.n) {
    const k = (right.n - left.n) >>> 1;
    for (let i = 0; i < k; i++) {
      left.children.push(right.children[i]!);
      left.sizes.push(right.sizes[i]!);
      left.sepScores.push(i === 0 ? parent.sepScores[li + 1]! : right.sepScores[i]!);
      left.sepMembers.push(i === 0 ? parent.sepMembers[li + 1]! : right.sepMembers[i]!);
      moved += right.sizes[i]!;
    }
    parent.sepScores[li + 1] = right.sepScores[k]!;
    parent.sepMembers[li + 1] = right.sepMembers[k]!;
    right.children.splice(0, k);
    right.sizes.splice(0, k);
    right.sepScores.splice(0, k);
    right.sepMembers.splice(0, k);
    left.n += k;
    right.n -= k;
    parent.sizes[li]! += moved;
    parent.sizes[li + 1]! -= moved;
  } else {
    const k = (left.n - right.n) >>> 1;
    const from = left.n - k;
    right.sepScores[0] = parent.sepScores[li + 1]!; // the old first child keeps its bound
    right.sepMembers[0] = parent.sepMembers[li + 1]!;
    right.children.unshift(...left.children.slice(from, left.n));
    right.sizes.unshift(...left.sizes.slice(from, left.n));
    right.sepScores.unshift(...left.sepScores.slice(from, left.n));
    right.sepMembers.unshift(...left.sepMembers.slice(from, left.n));
    for (let i = from; i < left.n; i++) moved += left.sizes[i]!;
    left.n = from;
    left.children.length = from;
    left.sizes.length = from;
    left.sepScores.length = from;
    left.sepMembers.length = from;
    right.n += k;
    parent.sepScores[li + 1] = right.sepScores[0]!;
    parent.sepMembers[li + 1] = right.sepMembers[0]!;
    parent.sizes[li]! -= moved;
    parent.sizes[li + 1]! += moved;
  }
}

function removeChild(node: Inner, at: number): void {
  node.children.splice(at, 1);
  node.sizes.splice(at, 1);
  node.sepScores.splice(at, 1);
  node.sepMembers.splice(at, 1);
  node.n--;
}

/** One level of clone()'s bottom-up build: group nodes under new parents. */
function buildParents(level: BNode[], sizes: number[]): [BNode[], number[]] {
  const parents: BNode[] = [];
  const parentSizes: number[] = [];
  const fill = (INNER_CAP * 3) / 4;
  for (let i = 0; i < level.length; i += fill) {
    const node = new Inner();
    let total = 0;
    for (let j = i; j < Math.min(i + fill, level.length); j++) {
      const child = level[j]!;
      node.children.push(child);
      node.sizes.push(sizes[j]!);
      node.sepScores.push(firstScore(child));
      node.sepMembers.push(firstMember(child));
      total += sizes[j]!;
    }
    node.n = node.children.length;
    parents.push(node);
    parentSizes.push(total);
  }
  return [parents, parentSizes];
}

function firstScore(node: BNode): number {
  return node.leaf ? node.scores[0]! : node.sepScores[0]!;
}

function firstMember(node: BNode): Bin {
  return node.leaf ? node.members[0]! : node.sepMembers[0]!;
}

/** assertValid's recursive part: sizes, bounds and fill; collects the leaves in order. */
function checkNode(
  node: BNode,
  lowScore: number | null,
  lowMember: Bin | null,
  leaves: Leaf[],
): number {
  if (node.leaf) {
    if (node.scores.length !== node.n || node.members.length !== node.n)
      throw new Error('leaf arrays');
    if (node.n > LEAF_CAP) throw new Error('leaf overflow');
    if (lowScore !== null && node.n > 0) {
      const s = node.scores[0]!;
      const m = node.members[0]!;
      if (!(lowScore < s || (lowScore === s && lowMember! <= m)))
        throw new Error('separator above a key');
    }
    leaves.push(node);
    return node.n;
  }
  if (node.n < 1 || node.n > INNER_CAP || node.children.length !== node.n)
    throw new Error('inner fill');
  let total = 0;
  for (let i = 0; i < node.n; i++) {
    const lo = i === 0 ? lowScore : node.sepScores[i]!;
    const lm = i === 0 ? lowMember : node.sepMembers[i]!;
    if (i > 0 && leaves.length > 0) {
      const prev = leaves[leaves.length - 1]!;
      if (prev.n > 0) {
        const s = prev.scores[prev.n - 1]!;
        const m = prev.members[prev.n - 1]!;
        if (!(s < lo! || (s === lo && m < lm!))) throw new Error('separator below a key');
      }
    }
    const count = checkNode(node.children[i]!, lo, lm, leaves);
    if (count !== node.sizes[i]) throw new Error('subtree size');
    total += count;
  }
  return total;
}
