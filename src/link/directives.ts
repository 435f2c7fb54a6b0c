import { tokenizeWindows } from '../cmdline/tokenize.js';
import { readLinkArgs } from './args.js';

/** A /MERGE or /SECTION an object asks for in its .drectve section. */
export interface DirectiveFlag {
  /** The object file, as the command line names it. */
  file: string;
  name: 'merge' | 'section';
  value: string;
  raw: string;
}

/** The /MERGE and /SECTION flags in an object's .drectve text (lld-link always tokenizes it the Windows way). */
export function directiveFlags(file: string, text: string): DirectiveFlag[] {
  const out: DirectiveFlag[] = [];
  for (const opt of readLinkArgs(tokenizeWindows(text)).options) {
    if ((opt.name === 'merge' || opt.name === 'section') && opt.value !== undefined) {
      out.push({ file, name: opt.name, value: opt.value, raw: opt.raw });
    }
  }
  return out;
}
