import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * GitHub Actions expressions (`${{ … }}` and `if:`), as far as the project's action and
 * workflow use them: contexts, literals, == != < > <= >= ! && || and parentheses, and the
 * functions below. Anything else throws, so the test fails instead of guessing.
 */
export type Value = string | number | boolean | null | { [key: string]: Value } | Value[];

export interface ExpressionContext {
  contexts: { [name: string]: Value };
  /** 'success' until a step fails without continue-on-error. */
  jobStatus: 'success' | 'failure';
  workspace: string;
}

type Token = { kind: 'str' | 'num' | 'name' | 'op'; text: string };

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  const re = /'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)\b|([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*)|(==|!=|<=|>=|&&|\|\||[!<>(),])/y;
  let at = 0;
  for (;;) {
    while (/\s/.test(expr[at] ?? '')) at++;
    if (at >= expr.length) return out;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (!m) throw new Error(`expression: cannot read '${expr.slice(at)}' in '${expr}'`);
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ kind: 'str', text: m[1].replaceAll("''", "'") });
    else if (m[2] !== undefined) out.push({ kind: 'num', text: m[2] });
    else if (m[3] !== undefined) out.push({ kind: 'name', text: m[3] });
    else out.push({ kind: 'op', text: m[4]! });
  }
}

export function evaluate(expr: string, ctx: ExpressionContext): Value {
  const tokens = tokenize(expr);
  let k = 0;
  const next = (): Token | undefined => tokens[k];
  const take = (text?: string): Token => {
    const t = tokens[k++];
    if (!t || (text !== undefined && t.text !== text)) throw new Error(`expression: expected ${text ?? 'more'} in '${expr}'`);
    return t;
  };

  const or = (): Value => {
    let left = and();
    while (next()?.text === '||') {
      take();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): Value => {
    let left = compare();
    while (next()?.text === '&&') {
      take();
      const right = compare();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const compare = (): Value => {
    let left = unary();
    while (['==', '!=', '<', '>', '<=', '>='].includes(next()?.text ?? '') && next()!.kind === 'op') {
      const op = take().text;
      const right = unary();
      left = compareValues(op, left, right);
    }
    return left;
  };
  const unary = (): Value => {
    if (next()?.text === '!' && next()!.kind === 'op') {
      take();
      return !truthy(unary());
    }
    return primary();
  };
  const primary = (): Value => {
    const t = take();
    if (t.kind === 'str') return t.text;
    if (t.kind === 'num') return Number(t.text);
    if (t.kind === 'op' && t.text === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t.kind !== 'name') throw new Error(`expression: unexpected '${t.text}' in '${expr}'`);
    if (t.text === 'true' || t.text === 'false') return t.text === 'true';
    if (t.text === 'null') return null;
    if (next()?.text === '(') {
      take('(');
      const args: Value[] = [];
      while (next()?.text !== ')') {
        args.push(or());
        if (next()?.text === ',') take(',');
      }
      take(')');
      return call(t.text, args, ctx);
    }
    return lookup(t.text, ctx);
  };

  const value = or();
  if (k !== tokens.length) throw new Error(`expression: unexpected '${tokens[k]!.text}' in '${expr}'`);
  return value;
}

/** A string with `${{ … }}` in it: each replaced by its value as a string. */
export function interpolate(text: string, ctx: ExpressionContext): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expr: string) => toText(evaluate(expr, ctx)));
}

/** `if:` holds a bare expression or one in `${{ }}`; with no status function, success() is implied. */
export function condition(text: string, ctx: ExpressionContext): boolean {
  const m = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(text);
  const expr = m ? m[1]! : text;
  const withStatus = /\b(success|failure|always|cancelled)\s*\(/.test(expr) ? expr : `success() && (${expr})`;
  return truthy(evaluate(withStatus, ctx));
}

export function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export const truthy = (v: Value): boolean => !(v === false || v === null || v === 0 || v === '' || Number.isNaN(v));

function lookup(path: string, ctx: ExpressionContext): Value {
  const [head, ...rest] = path.split('.');
  if (!(head! in ctx.contexts)) throw new Error(`expression: no context '${head}' (${path})`);
  let v: Value = ctx.contexts[head!]!;
  for (const part of rest) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    const key: string | undefined = Object.keys(v).find((name) => name.toLowerCase() === part.toLowerCase());
    v = key === undefined ? null : v[key]!;
  }
  return v;
}

function compareValues(op: string, a: Value, b: Value): boolean {
  // GitHub compares strings case-insensitively, and a string with a number as a number.
  let x: string | number | boolean | null = typeof a === 'object' && a !== null ? JSON.stringify(a) : a;
  let y: string | number | boolean | null = typeof b === 'object' && b !== null ? JSON.stringify(b) : b;
  if (typeof x !== typeof y) {
    x = toNumber(x);
    y = toNumber(y);
  } else if (typeof x === 'string' && typeof y === 'string') {
    x = x.toLowerCase();
    y = y.toLowerCase();
  }
  switch (op) {
    case '==': return x === y;
    case '!=': return x !== y;
    case '<': return (x as number) < (y as number);
    case '>': return (x as number) > (y as number);
    case '<=': return (x as number) <= (y as number);
    default: return (x as number) >= (y as number);
  }
}

function toNumber(v: string | number | boolean | null): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  return v.trim() === '' ? 0 : Number(v);
}

function call(name: string, args: Value[], ctx: ExpressionContext): Value {
  const text = (i: number): string => toText(args[i] ?? null);
  switch (name.toLowerCase()) {
    case 'success': return ctx.jobStatus === 'success';
    case 'failure': return ctx.jobStatus === 'failure';
    case 'always': return true;
    case 'cancelled': return false;
    case 'contains': return Array.isArray(args[0]) ? args[0].some((v) => compareValues('==', v, args[1] ?? null)) : text(0).toLowerCase().includes(text(1).toLowerCase());
    case 'startswith': return text(0).toLowerCase().startsWith(text(1).toLowerCase());
    case 'endswith': return text(0).toLowerCase().endsWith(text(1).toLowerCase());
    case 'format': return text(0).replace(/\{(\d+)\}/g, (_, n: string) => text(Number(n) + 1));
    case 'hashfiles': {
      // Plain paths only: enough to ask whether a report exists; a glob would need a real matcher.
      if (args.some((a) => /[*?[]/.test(toText(a)))) throw new Error(`expression: hashFiles with a glob (${args.join(', ')})`);
      return args.some((a) => existsSync(join(ctx.workspace, toText(a)))) ? 'present' : '';
    }
    default: throw new Error(`expression: function ${name}() is not supported by the test runner`);
  }
}
