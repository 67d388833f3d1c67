// Reply printing exactly as redis-cli 7.0.15 prints RESP2 replies (src/redis-cli.c). Output is a
// byte string (Bin); the caller writes it as latin1 bytes so binary data survives unchanged.
//
// Two modes, chosen by redis-cli from isatty(stdout):
//   tty  (cliFormatReplyTTY)   OK | "quoted" | (integer) 5 | (nil) | (empty array) |
//                              (error) ERR ...
//                              arrays numbered "1) ", nested ones indented under their index;
//   raw  (cliFormatReplyRaw)   bytes as they are, integers as digits, nil as nothing, array
//                              elements joined by "\n" (nested arrays flattened), errors followed
//                              by "\n"; then one "\n" after the whole reply (config.cmd_delim).
// A few commands whose replies are human-readable text (INFO, LATENCY DOCTOR, ...) are printed
// "verbatim" in both modes: raw formatting without the trailing "\n" (cliSendCommand output_raw).
//
// hiredis turns both a nil bulk string ($-1) and a nil array (*-1) into REDIS_REPLY_NIL, so the two
// print identically. Statuses and errors are printed by redis-cli in TTY mode as C strings (%s,
// sdscat), i.e. cut at the first NUL byte; the raw mode uses their full length.

import type { Bin } from '../bytes.ts';
import { ErrorReply, NilArrayReply, StatusReply, type Reply } from '../reply.ts';

export type OutputMode = 'tty' | 'raw';

/** The bytes redis-cli prints for `reply` to the command `argv` (cliFormatReply). */
export function formatReply(reply: Reply, mode: OutputMode, argv: readonly Bin[] = []): Bin {
  if (isVerbatimCommand(argv)) return formatRaw(reply);
  return mode === 'tty' ? formatTty(reply, '') : `${formatRaw(reply)}\n`;
}

/** cliFormatReplyTTY(reply, prefix). */
export function formatTty(reply: Reply, prefix: string): Bin {
  if (reply === null || reply instanceof NilArrayReply) return '(nil)\n';
  if (typeof reply === 'string') return `${quoteBytes(reply)}\n`;
  if (typeof reply === 'number' || typeof reply === 'bigint')
    return `(integer) ${formatInteger(reply)}\n`;
  if (reply instanceof StatusReply) return `${cString(reply.status)}\n`;
  if (reply instanceof ErrorReply) return `(error) ${cString(reply.message)}\n`;
  if (reply.length === 0) return '(empty array)\n';
  // The index column is as wide as the largest index; nested replies are indented by that width
  // plus two (for ") "), and only their first line shares the parent's line.
  const width = String(reply.length).length;
  const childPrefix = prefix + ' '.repeat(width + 2);
  let out = '';
  for (let i = 0; i < reply.length; i++) {
    out += `${(i === 0 ? '' : prefix) + String(i + 1).padStart(width)}) `;
    out += formatTty(reply[i]!, childPrefix);
  }
  return out;
}

/** cliFormatReplyRaw(reply): no trailing newline (the caller adds config.cmd_delim). */
export function formatRaw(reply: Reply): Bin {
  if (reply === null || reply instanceof NilArrayReply) return '';
  if (typeof reply === 'string') return reply;
  if (typeof reply === 'number' || typeof reply === 'bigint') return formatInteger(reply);
  if (reply instanceof StatusReply) return reply.status;
  if (reply instanceof ErrorReply) return `${reply.message}\n`;
  let out = '';
  for (let i = 0; i < reply.length; i++) {
    if (i > 0) out += '\n'; // config.mb_delim
    out += formatRaw(reply[i]!);
  }
  return out;
}

/** sds.c sdscatrepr: the quoted form of a bulk string in TTY mode. */
export function quoteBytes(s: Bin): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c:
        out += '\\\\';
        break;
      case 0x22:
        out += '\\"';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x07:
        out += '\\a';
        break;
      case 0x08:
        out += '\\b';
        break;
      default:
        // isprint() in the C locale: 0x20..0x7e; everything else (including bytes >= 0x80) as \xHH.
        out += c >= 0x20 && c <= 0x7e ? s[i] : `\\x${c.toString(16).padStart(2, '0')}`;
    }
  }
  return `${out}"`;
}

/**
 * cliSendCommand's output_raw list: replies printed verbatim (raw, no trailing "\n") in every
 * mode. Names are compared like strcasecmp on C strings.
 */
export function isVerbatimCommand(argv: readonly Bin[]): boolean {
  if (argv.length === 0) return false;
  const argc = argv.length;
  const is = (i: number, name: string) => cString(argv[i]!).toLowerCase() === name;
  if (is(0, 'info') || is(0, 'lolwut')) return true;
  if (
    argc >= 2 &&
    is(0, 'debug') &&
    (is(1, 'htstats') || is(1, 'htstats-key') || is(1, 'client-eviction'))
  )
    return true;
  if (argc >= 2 && is(0, 'memory') && (is(1, 'malloc-stats') || is(1, 'doctor'))) return true;
  if (argc === 2 && is(0, 'cluster') && (is(1, 'nodes') || is(1, 'info'))) return true;
  if (argc >= 2 && is(0, 'client') && (is(1, 'list') || is(1, 'info'))) return true;
  if (argc === 3 && is(0, 'latency') && is(1, 'graph')) return true;
  if (argc === 2 && is(0, 'latency') && is(1, 'doctor')) return true;
  if (argc >= 2 && is(0, 'proxy') && is(1, 'info')) return true;
  return false;
}

/** A byte string as C code sees it through a char*: up to the first NUL. */
export function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul === -1 ? s : s.slice(0, nul);
}

function formatInteger(n: number | bigint): string {
  // %lld; integer replies are always integral, bigint only beyond 2^53.
  return typeof n === 'bigint' ? n.toString() : String(n);
}
