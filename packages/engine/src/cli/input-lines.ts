// Piped input, read the way redis-cli reads it when stdin is not a TTY (linenoiseNoTTY): bytes up
// to each "\n" form a line ("\r" stays and is a blank to sdssplitargs); a last line without "\n"
// still counts; nothing is decoded, so any byte reaches the command unchanged.

import type { Bin } from '../bytes.ts';

/** The lines of `input` as byte strings (Bin), without their "\n". */
export async function* readByteLines(input: AsyncIterable<string | Buffer>): AsyncGenerator<Bin> {
  // Pieces of the line still waiting for its "\n", kept as a list so a long line is joined once.
  let partial: Bin[] = [];
  for await (const chunk of input) {
    const text =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8').toString('latin1')
        : chunk.toString('latin1');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (partial.length > 0) {
        partial.push(piece);
        const line = partial.join('');
        partial = [];
        yield line;
      } else {
        yield piece;
      }
    }
    if (start < text.length) partial.push(text.slice(start));
  }
  if (partial.length > 0) yield partial.join('');
}
