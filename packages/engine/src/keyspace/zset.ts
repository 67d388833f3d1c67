// RZSet: sorted set = member → score map plus an ordered index. Placeholder, filled by the zset work.
import type { Bin } from '../bytes.ts';

export class RZSet {
  readonly type = 'zset' as const;
  readonly scores = new Map<Bin, number>();
  get size(): number {
    return this.scores.size;
  }
}
