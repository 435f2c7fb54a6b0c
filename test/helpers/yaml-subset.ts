/**
 * The YAML that action.yml and the init workflow are written in, and no more: block mappings
 * and sequences, plain and quoted scalars, `|` / `|-` block scalars, `[a, b]` flow sequences and
 * comments. Anything else (anchors, tags, flow mappings, folded or multi-line plain scalars)
 * throws, so the test that runs a file fails instead of running a misread one. Scalars stay
 * strings, as the runner hands them to expressions and scripts.
 */
export type Yaml = string | null | Yaml[] | { [key: string]: Yaml };

interface Line {
  no: number;
  indent: number;
  text: string;
}

const KEY = /^([A-Za-z0-9_][A-Za-z0-9_./-]*|'[^']*'|"[^"]*"):(?: +|$)/;

export function parseYamlSubset(source: string, file = 'yaml'): Yaml {
  const raw = source.replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  const fail = (no: number, what: string): never => {
    throw new Error(`${file}:${no + 1}: ${what} (outside the YAML subset the test runner reads)`);
  };

  /** The next line with content, comments stripped; blank and comment lines are skipped. */
  function peek(): Line | undefined {
    for (; i < raw.length; i++) {
      const line = raw[i]!;
      if (/^\s*(#.*)?$/.test(line)) continue;
      if (/^ *\t/.test(line)) fail(i, 'a tab in the indentation');
      const indent = line.length - line.trimStart().length;
      return { no: i, indent, text: stripComment(line.slice(indent)) };
    }
    return undefined;
  }

  function block(indent: number): Yaml {
    const line = peek();
    if (!line || line.indent < indent) return null;
    return isItem(line.text) ? sequence(line.indent) : mapping(line.indent);
  }

  function mapping(indent: number, first?: Line): { [key: string]: Yaml } {
    const out: { [key: string]: Yaml } = {};
    let line: Line | undefined = first ?? peek();
    while (line && line.indent === indent && !isItem(line.text)) {
      const m = KEY.exec(line.text) ?? fail(line.no, `not a 'key: value' line: ${line.text}`);
      const key = unquote(m[1]!, line.no);
      if (key in out) fail(line.no, `duplicate key '${key}'`);
      const rest = line.text.slice(m[0].length);
      i = line.no + 1;
      if (rest === '') {
        const next = peek();
        if (next && next.indent > indent) out[key] = block(next.indent);
        else if (next && next.indent === indent && isItem(next.text)) out[key] = sequence(indent);
        else out[key] = null;
      } else if (/^[|>]/.test(rest)) {
        out[key] = blockScalar(rest, indent, line.no);
      } else {
        out[key] = scalar(rest, line.no);
      }
      line = peek();
    }
    if (line && line.indent > indent) fail(line.no, 'unexpected indentation');
    return out;
  }

  function sequence(indent: number): Yaml[] {
    const out: Yaml[] = [];
    let line = peek();
    while (line && line.indent === indent && isItem(line.text)) {
      const content = line.text.slice(1).trimStart();
      const inner = indent + (line.text.length - content.length);
      if (content === '') {
        i = line.no + 1;
        const next = peek();
        out.push(next && next.indent > indent ? block(next.indent) : null);
      } else if (KEY.test(content)) {
        // `- key: value`: a mapping whose keys line up with this first one.
        out.push(mapping(inner, { no: line.no, indent: inner, text: content }));
      } else {
        i = line.no + 1;
        out.push(scalar(content, line.no));
      }
      line = peek();
    }
    return out;
  }

  /** `|` keeps one final newline, `|-` none; the lines are taken raw (a # is text there). */
  function blockScalar(header: string, parent: number, no: number): string {
    if (header !== '|' && header !== '|-') fail(no, `block scalar '${header}'`);
    const lines: string[] = [];
    let j = no + 1;
    let indent = -1;
    for (; j < raw.length; j++) {
      const line = raw[j]!;
      if (line.trim() === '') {
        lines.push('');
        continue;
      }
      const own = line.length - line.trimStart().length;
      if (own <= parent) break;
      if (indent < 0) indent = own;
      if (own < indent) fail(j, 'a block scalar line indented less than its first line');
      lines.push(line.slice(indent));
    }
    i = j;
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const text = lines.join('\n');
    return header === '|' && text !== '' ? `${text}\n` : text;
  }

  function scalar(text: string, no: number): Yaml {
    if (/^[&*!{>|%@`]/.test(text)) fail(no, `unsupported value '${text}'`);
    if (text.startsWith('[')) {
      if (!text.endsWith(']')) fail(no, 'a flow sequence over several lines');
      const body = text.slice(1, -1).trim();
      return body === '' ? [] : body.split(',').map((item) => scalar(item.trim(), no));
    }
    if (text.startsWith("'") || text.startsWith('"')) return unquote(text, no);
    return text === '~' || text === 'null' ? null : text;
  }

  function unquote(text: string, no: number): string {
    if (text.startsWith("'")) {
      if (!/^'(?:[^']|'')*'$/.test(text)) fail(no, `unterminated quote: ${text}`);
      return text.slice(1, -1).replaceAll("''", "'");
    }
    if (text.startsWith('"')) {
      if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) fail(no, `unterminated quote: ${text}`);
      return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', '"': '"', '\\': '\\' })[c] ?? fail(no, `escape \\${c}`));
    }
    return text;
  }

  const doc = block(0);
  const rest = peek();
  if (rest) fail(rest.no, 'unexpected line');
  return doc;
}

const isItem = (text: string): boolean => text === '-' || text.startsWith('- ');

/** Drops a ` # comment`, but not a # inside quotes or a word (`a#b`). */
function stripComment(text: string): string {
  let quote = '';
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (quote) {
      if (c === "'" && quote === "'" && text[k + 1] === "'") k++; // '' inside single quotes
      else if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') k++;
    } else if (c === "'" || c === '"') {
      // A quote opens a quoted scalar only at the start of a value.
      if (k === 0 || /[:\-[,] *$/.test(text.slice(0, k))) quote = c;
    } else if (c === '#' && (k === 0 || text[k - 1] === ' ')) {
      return text.slice(0, k).trimEnd();
    }
  }
  return text.trimEnd();
}
