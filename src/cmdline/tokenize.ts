/**
 * Command-line tokenizers matching LLVM 19's (llvm/lib/Support/CommandLine.cpp):
 * Windows style (lld-link's default for response files on every host, the
 * LINK variables, .drectve, clang-cl's) and GNU style (lld-link's
 * --rsp-quoting=posix). Checked against lld-link-19 in test/tokenize.test.ts.
 */

export type Quoting = 'gnu' | 'windows';

const isGnuSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/**
 * LLVM's TokenizeGNUCommandLine: whitespace splits; a backslash escapes the
 * next character, a newline included (kept in the token), and a backslash at
 * the very end stays; '...' and "..." quote, with backslash escapes in both;
 * an empty token ("" alone) is dropped.
 */
export function tokenizeGnu(text: string): string[] {
  const out: string[] = [];
  let token = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      token += text[++i];
    } else if (c === "'" || c === '"') {
      for (i++; i < text.length && text[i] !== c; i++) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        token += text[i];
      }
    } else if (isGnuSpace(c)) {
      if (token !== '') out.push(token);
      token = '';
    } else {
      token += c;
    }
  }
  if (token !== '') out.push(token);
  return out;
}

const isWindowsSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\0';

/**
 * LLVM's TokenizeWindowsCommandLine (the MSVC rules). Backslashes are literal
 * unless a double quote follows: 2n of them give n backslashes and leave the
 * quote to act as a quote, 2n+1 give n backslashes and a literal quote. Inside
 * quotes "" is a literal quote, so "a\\""b" reads a\"b. An empty quoted
 * token ("") is kept.
 */
export function tokenizeWindows(text: string): string[] {
  const out: string[] = [];
  let token = '';
  let state: 'init' | 'unquoted' | 'quoted' = 'init';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (state === 'init' && isWindowsSpace(c)) continue;
    if (state !== 'quoted' && isWindowsSpace(c)) {
      out.push(token);
      token = '';
      state = 'init';
    } else if (c === '\\') {
      i = backslashes(text, i, (t) => (token += t));
      if (state === 'init') state = 'unquoted';
    } else if (c === '"') {
      if (state !== 'quoted') state = 'quoted';
      else if (text[i + 1] === '"') {
        token += '"';
        i++;
      } else state = 'unquoted';
    } else {
      token += c;
      if (state === 'init') state = 'unquoted';
    }
  }
  if (state !== 'init') out.push(token);
  return out;
}

/** LLVM's parseBackslash: consumes a run of backslashes at `i` (and an escaped quote); returns the last index consumed. */
function backslashes(text: string, i: number, append: (t: string) => void): number {
  let n = 0;
  while (text[i] === '\\') {
    n++;
    i++;
  }
  if (text[i] !== '"') {
    append('\\'.repeat(n));
    return i - 1;
  }
  append('\\'.repeat(Math.floor(n / 2)));
  if (n % 2 === 0) return i - 1; // the quote is a quote
  append('"');
  return i;
}

export function tokenize(text: string, quoting: Quoting): string[] {
  return quoting === 'windows' ? tokenizeWindows(text) : tokenizeGnu(text);
}

/** Quotes one argument so that tokenizeGnu gives it back unchanged. */
export function quoteGnu(arg: string): string {
  if (arg !== '' && /^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["\\$`])/g, '\\$1')}"`;
}
