// RList: a double-ended queue of Bin elements (Redis quicklist). Placeholder: the lists issue
// work replaces the array with a ring buffer so LPUSH is O(1).
import type { Bin } from '../bytes.ts';

export class RList {
  readonly type = 'list' as const;
  readonly items: Bin[] = [];
  get length(): number {
    return this.items.length;
  }
}
