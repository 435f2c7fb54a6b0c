/**
 * Reads the make-style dependency file clang writes with -MD -MF: the target,
 * a colon, then the prerequisites; backslash-newline continues a line and a
 * backslash escapes a space in a path.
 */
export function parseDepfile(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const colon = joined.search(/:(\s|$)/);
  if (colon < 0) return [];
  const body = joined.slice(colon + 1);
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && (body[i + 1] === ' ' || body[i + 1] === '#')) {
      current += body[++i];
    } else if (c === '$' && body[i + 1] === '$') {
      current += '$';
      i++;
    } else if (/\s/.test(c)) {
      if (current) out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current) out.push(current);
  return out;
}
