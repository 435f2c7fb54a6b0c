/**
 * A light reading of an lld-link command line: which arguments are the
 * options hvci-build cares about, and which are input files. Everything else
 * passes through untouched.
 */

export interface LinkOption {
  /** Lower-case option name without prefix or value: 'merge', 'section', 'out'. */
  name: string;
  /** The text after the first ':' (or '=' for --opt=value), if any. */
  value: string | undefined;
  /** Position in the argument list. */
  index: number;
  raw: string;
}

export interface LinkArgs {
  args: string[];
  options: LinkOption[];
  inputs: string[];
}

const INPUT_EXT = /\.(obj|o|lib|a|res)$/i;

/**
 * lld-link accepts /opt and -opt in any case, with values after ':'. On a
 * Unix host "/home/x.obj" also starts with '/', so an argument counts as an
 * input when it names an object, library or resource file and has no ':'.
 */
export function readLinkArgs(args: readonly string[]): LinkArgs {
  const options: LinkOption[] = [];
  const inputs: string[] = [];
  args.forEach((raw, index) => {
    // lld-link's option parser skips empty arguments (a "" in a Windows-quoted response file).
    if (raw === '') return;
    const m = /^(?:--?|\/)([A-Za-z][\w.-]*)(?:[:=]([\s\S]*))?$/.exec(raw);
    const looksLikeInput = INPUT_EXT.test(raw) && !raw.slice(1).includes(':');
    if (m && !looksLikeInput) {
      options.push({ name: m[1]!.toLowerCase(), value: m[2], index, raw });
    } else if (!raw.startsWith('-')) {
      inputs.push(raw);
    }
  });
  return { args: [...args], options, inputs };
}

export function lastOption(parsed: LinkArgs, name: string): LinkOption | undefined {
  for (let i = parsed.options.length - 1; i >= 0; i--) {
    if (parsed.options[i]!.name === name) return parsed.options[i];
  }
  return undefined;
}

export function hasOption(parsed: LinkArgs, name: string): boolean {
  return lastOption(parsed, name) !== undefined;
}

/** lld-link's numbers: 0x hex, leading 0 octal, else decimal. */
export function parseLinkNumber(text: string): number | undefined {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  if (/^\d+$/.test(t)) return parseInt(t, 10);
  return undefined;
}
