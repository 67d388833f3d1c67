// The six Redis value types. A string value is a Bin (JS string of bytes); the collection types
// are classes with a `type` tag so a handler can check the type with one property read.

import type { Bin } from '../bytes.ts';
import { RList } from './list.ts';
import { SetMembers } from './set.ts';
import { RStream } from './stream.ts';
import { RZSet } from './zset.ts';

export { RList, RStream, RZSet, SetMembers };

/**
 * Hash value: field → value. A Map iterates in insertion order and keeps a field's position when
 * its value is overwritten, which is exactly the order of Redis 7.0's listpack encoding (used up
 * to 128 fields of at most 64 bytes); Redis's hashtable order is random, so any order is right
 * there.
 */
export class RHash {
  readonly type = 'hash' as const;
  readonly map: Map<Bin, Bin>;
  constructor(map: Map<Bin, Bin> = new Map()) {
    this.map = map;
  }
  get size(): number {
    return this.map.size;
  }
  /** Redis hashTypeDup (COPY). */
  clone(): RHash {
    return new RHash(new Map(this.map));
  }
}

/** Set value. `members` has the Set<Bin> API plus O(1) random access (see keyspace/set.ts). */
export class RSet {
  readonly type = 'set' as const;
  readonly members: SetMembers;
  constructor(members: SetMembers = new SetMembers()) {
    this.members = members;
  }
  get size(): number {
    return this.members.size;
  }
  /** OBJECT ENCODING: 'intset' or 'hashtable' (Redis 7.0 has no listpack sets). */
  get encoding(): 'intset' | 'hashtable' {
    return this.members.encoding;
  }
  /** Redis setTypeDup (COPY): same members, same encoding. */
  clone(): RSet {
    return new RSet(this.members.clone());
  }
}

export type RedisValue = Bin | RList | RHash | RSet | RZSet | RStream;
export type ValueType = 'string' | 'list' | 'hash' | 'set' | 'zset' | 'stream';

export function typeOfValue(v: RedisValue): ValueType {
  return typeof v === 'string' ? 'string' : v.type;
}
