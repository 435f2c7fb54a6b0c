/**
 * Command-line tokenizers matching LLVM's: GNU style (lld-link's default on a
 * non-Windows host) and Windows style (clang-cl's, and lld-link's with
 * --rsp-quoting=windows), for response files and the LINK variables.
 */

export type Quoting = 'gnu' | 'windows';

/** LLVM's TokenizeGNUCommandLine: whitespace splits; backslash escapes; '...' and "..." quote. */
export function tokenizeGnu(text: string): string[] {
  const out: string[] = [];
  let token = '';
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inToken) out.push(token);
      token = '';
      inToken = false;
      continue;
    }
    inToken = true;
    if (c === '\\') {
      // A backslash before a newline joins lines; otherwise it escapes the next character.
      if (i + 1 < text.length) token += text[++i] === '\n' ? '' : text[i];
      continue;
    }
    if (c === "'" || c === '"') {
      const quote = c;
      for (i++; i < text.length && text[i] !== quote; i++) {
        // LLVM lets a backslash escape the next character inside either quote.
        if (text[i] === '\\' && i + 1 < text.length) i++;
        token += text[i];
      }
      continue;
    }
    token += c;
  }
  if (inToken) out.push(token);
  return out;
}

/**
 * LLVM's TokenizeWindowsCommandLine (the MSVC rules): backslashes are literal
 * unless they precede a double quote; 2n backslashes + quote give n backslashes
 * and a quote toggle, 2n+1 give n backslashes and a literal quote; "" inside
 * quotes is a literal quote.
 */
export function tokenizeWindows(text: string): string[] {
  const out: string[] = [];
  let token = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!quoted && (c === ' ' || c === '\t' || c === '\r' || c === '\n')) {
      if (inToken) out.push(token);
      token = '';
      inToken = false;
      continue;
    }
    inToken = true;
    if (c === '\\') {
      let n = 0;
      while (text[i] === '\\') {
        n++;
        i++;
      }
      if (text[i] === '"') {
        token += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) token += '"';
        else quoted = !quoted;
      } else {
        token += '\\'.repeat(n);
        i--;
      }
      continue;
    }
    if (c === '"') {
      if (quoted && text[i + 1] === '"') {
        token += '"';
        i++;
      } else {
        quoted = !quoted;
      }
      continue;
    }
    token += c;
  }
  if (inToken) out.push(token);
  return out;
}

export function tokenize(text: string, quoting: Quoting): string[] {
  return quoting === 'windows' ? tokenizeWindows(text) : tokenizeGnu(text);
}

/** Quotes one argument so that tokenizeGnu gives it back unchanged. */
export function quoteGnu(arg: string): string {
  if (arg !== '' && /^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["\\$`])/g, '\\$1')}"`;
}
