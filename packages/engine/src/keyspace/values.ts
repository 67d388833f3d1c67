// The five Redis value types. A string value is a Bin (JS string of bytes); the collection types
// are classes with a `type` tag so a handler can check the type with one property read.

import type { Bin } from '../bytes.ts';
import { RList } from './list.ts';
import { RZSet } from './zset.ts';

export { RList, RZSet };

export class RHash {
  readonly type = 'hash' as const;
  readonly map = new Map<Bin, Bin>();
}

export class RSet {
  readonly type = 'set' as const;
  readonly members = new Set<Bin>();
}

export type RedisValue = Bin | RList | RHash | RSet | RZSet;
export type ValueType = 'string' | 'list' | 'hash' | 'set' | 'zset';

export function typeOfValue(v: RedisValue): ValueType {
  return typeof v === 'string' ? 'string' : v.type;
}
