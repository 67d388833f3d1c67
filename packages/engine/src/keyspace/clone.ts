// Deep copy of a value for COPY (Redis copyCommand: dupStringObject, listTypeDup, setTypeDup,
// zsetDup, hashTypeDup, streamDup). The copy must share no mutable state with the source,
// because either key may be modified afterwards. Each collection type owns its internal layout
// (ring buffer, intset, skiplist-like index ...), so it also owns how to duplicate it: we delegate
// to its clone().

import type { RedisValue } from './values.ts';

export function cloneValue(value: RedisValue): RedisValue {
  // Strings are immutable JS strings: sharing them is a copy.
  if (typeof value === 'string') return value;
  switch (value.type) {
    case 'list':
      return value.clone();
    case 'hash':
      return value.clone();
    case 'set':
      return value.clone();
    case 'zset':
      return value.clone();
    case 'stream':
      return value.clone();
  }
}
