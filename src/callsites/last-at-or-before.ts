/**
 * The index of the last of `count` ascending keys that is at or before `value`, or -1 when
 * none is: the one binary search the function table, the sweep's function starts, decoded
 * instructions and symbol tables all need.
 */
export function lastAtOrBefore(count: number, keyAt: (i: number) => number, value: number): number {
  let lo = 0;
  let hi = count - 1;
  let k = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (keyAt(mid) <= value) {
      k = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return k;
}
