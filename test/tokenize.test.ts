import { describe, expect, it } from 'vitest';
import { quoteGnu, tokenizeGnu, tokenizeWindows } from '../src/cmdline/tokenize.js';

describe('response file tokenizers (as LLVM reads them)', () => {
  it('Windows rules: quotes group, backslashes are literal unless before a quote', () => {
    expect(tokenizeWindows('/out:"a b.sys" c.obj')).toEqual(['/out:a b.sys', 'c.obj']);
    expect(tokenizeWindows('C:\\dir\\x.obj "C:\\dir with space\\\\" y')).toEqual(['C:\\dir\\x.obj', 'C:\\dir with space\\', 'y']);
    expect(tokenizeWindows('a\\"b "c""d"')).toEqual(['a"b', 'c"d']);
    expect(tokenizeWindows("'x y'")).toEqual(["'x", "y'"]);
    expect(tokenizeWindows('one\r\ntwo\tthree')).toEqual(['one', 'two', 'three']);
  });

  it('GNU rules: single and double quotes, backslash escapes', () => {
    expect(tokenizeGnu(`'a b' "c \\"d\\"" e\\ f`)).toEqual(['a b', 'c "d"', 'e f']);
    expect(tokenizeGnu('x\\\ny')).toEqual(['xy']);
  });

  it('quoteGnu round-trips through tokenizeGnu', () => {
    const args = ['/out:a b.sys', 'plain.obj', 'q"uote', "it's", 'back\\slash', '$HOME', ''];
    expect(tokenizeGnu(args.map(quoteGnu).join('\n'))).toEqual(args);
  });
});
