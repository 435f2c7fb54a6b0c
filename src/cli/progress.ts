/** Progress on a terminal for long runs: nothing unless the stream is a TTY and the run is large. */
export function progressReporter(stream: NodeJS.WriteStream): { update: (done: number, total: number) => void; done: () => void } | undefined {
  if (!stream.isTTY) return undefined;
  let shown = false;
  let last = 0;
  return {
    update(done, total) {
      if (total < 100) return;
      const now = Date.now();
      if (done !== total && now - last < 100) return;
      last = now;
      shown = true;
      stream.write(`\rchecking ${done}/${total}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
