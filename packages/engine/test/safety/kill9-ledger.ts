// Which acknowledgements of a kill -9 run the contract guarantees, derived from the child's IPC
// messages alone (kill9-child.ts), in the order they arrived.
//
// An acknowledged command is guaranteed when its turn was flushed under `appendfsync always`
// while the AOF was ON (FAULTS.md §2): write + fdatasync happened before its reply. The loaded
// state is a prefix of the commands, so the check is "prefix > the highest guaranteed index".
//
// DESIGN: commands run synchronously, in submission order, when submitted; a configuration
// change reported as issued at `at` therefore ran after every command < at and before every
// command >= at. What the messages cannot tell is which commands shared its turn, so each rule
// takes the conservative side:
//   appendfsync everysec|no, appendonly no   end the guarantee when ISSUED: a command acked
//       later may have shared the change's turn, whose flush ran under the new setting;
//   appendfsync always (AOF on)              starts it when REPLIED, for commands >= at only:
//       they ran after the change, so their turns flushed under always;
//   appendonly yes                           AOF in WAIT_REWRITE: its writes go to a temp INCR
//       that no manifest names yet, so nothing is guaranteed until that first rewrite is done.
//       Then the new base holds every command that ran before the rewrite started (including
//       those run while the AOF was off) and the temp INCR, now named by the manifest, every
//       later one, each fsynced before its reply if the policy was always throughout. So at
//       'done' every acknowledgement seen so far becomes guaranteed, and all later ones are.
// Acknowledgements while the AOF is off or turning on are allowed to be lost (Redis: only a
// prefix is promised); they are counted apart.

import type { FsyncPolicy } from '@aofkv/engine';
import type { ChildMessage } from './kill9-child.ts';

export type AofPhase = 'on' | 'off' | 'wait-rewrite';

export class AckLedger {
  policy: FsyncPolicy;
  aof: AofPhase = 'on';
  /** Lowest command index whose acknowledgement is guaranteed now; Infinity: none is. */
  private guaranteedFrom: number;
  /** The pending `appendfsync always`: its `at`. */
  private alwaysAt: number | null = null;
  /** The policy changed while the first rewrite after `appendonly yes` ran. */
  private policyChangedWhileTurningOn = false;
  maxAcked = -1;
  maxGuaranteed = -1;
  /** Acknowledgements received while the AOF was off or turning on (not guaranteed). */
  ackedWhileAofNotOn = 0;

  constructor(policy: FsyncPolicy) {
    this.policy = policy;
    this.guaranteedFrom = policy === 'always' ? 0 : Infinity;
  }

  get guaranteed(): boolean {
    return this.guaranteedFrom !== Infinity;
  }

  observe(message: ChildMessage): void {
    switch (message.kind) {
      case 'acked':
        this.ack(message.index);
        return;
      case 'toggle':
        if (message.phase === 'issued') this.issued(message.option, message.value, message.at);
        else this.replied(message.option, message.value, message.ok);
        return;
      case 'rewrite':
        if (message.event === 'done' && this.aof === 'wait-rewrite') this.turnedOn();
        return;
      default:
        return;
    }
  }

  private ack(index: number): void {
    this.maxAcked = Math.max(this.maxAcked, index);
    if (this.aof !== 'on') this.ackedWhileAofNotOn++;
    if (index >= this.guaranteedFrom) this.maxGuaranteed = Math.max(this.maxGuaranteed, index);
  }

  private issued(option: string, value: string, at: number): void {
    if (option === 'appendfsync') {
      if (this.aof === 'wait-rewrite') this.policyChangedWhileTurningOn = true;
      if (value === 'always') this.alwaysAt = at;
      else this.guaranteedFrom = Infinity;
    } else if (option === 'appendonly') {
      this.guaranteedFrom = Infinity;
      if (value === 'no') {
        this.aof = 'off';
      } else if (this.aof === 'off') {
        this.aof = 'wait-rewrite';
        this.policyChangedWhileTurningOn = false;
      }
    }
  }

  private replied(option: string, value: string, ok: boolean): void {
    if (option === 'appendfsync' && ok) {
      this.policy = value as FsyncPolicy;
      if (value === 'always' && this.aof === 'on' && this.alwaysAt !== null) {
        this.guaranteedFrom = Math.min(this.guaranteedFrom, this.alwaysAt);
      }
      this.alwaysAt = null;
    } else if (option === 'appendonly' && value === 'yes' && !ok) {
      // "Unable to turn on AOF": the engine went back to off.
      this.aof = 'off';
    }
  }

  /** The first rewrite after `appendonly yes` is done: the AOF is on again. */
  private turnedOn(): void {
    this.aof = 'on';
    if (this.policy !== 'always' || this.policyChangedWhileTurningOn) return;
    this.guaranteedFrom = 0;
    this.maxGuaranteed = this.maxAcked;
  }
}
