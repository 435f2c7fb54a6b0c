import { REFUSED_FLAG_META } from '../problems.js';
import { parseArgs } from 'node:util';
import { RULES, RULES_BY_ID } from '../rules/index.js';
import { EXIT, UsageError } from './errors.js';
import { EXPLAIN_HELP, RULES_HELP } from './help.js';
import { didYouMean, optionError } from './suggest.js';

const RULES_OPTIONS = { format: { type: 'string', short: 'f' }, help: { type: 'boolean', short: 'h' } } as const;

export function rulesCommand(args: string[]): number {
  let values;
  try {
    values = parseArgs({ args, strict: true, options: RULES_OPTIONS }).values;
  } catch (err) {
    throw optionError(err, RULES_OPTIONS);
  }
  if (values.help) {
    process.stdout.write(RULES_HELP);
    return EXIT.ok;
  }
  const format = values.format ?? 'text';
  if (format === 'json') {
    // The rules' metadata as data, for scripts; explanations stay with \`explain\` and SARIF.
    const rules = RULES.map(({ meta: m }) => ({
      id: m.id,
      name: m.name,
      defaultSeverity: m.defaultSeverity,
      summary: m.summary,
      reference: m.reference,
      securitySeverity: m.securitySeverity,
    }));
    process.stdout.write(JSON.stringify(rules, null, 2) + '\n');
    return EXIT.ok;
  }
  if (format !== 'text') throw new UsageError(`rules --format must be text or json, not '${format}'`);
  const width = Math.max(...RULES.map((r) => r.meta.id.length));
  const lines = RULES.map((r) => `${r.meta.id.padEnd(width)}  ${r.meta.defaultSeverity.padEnd(7)}  ${r.meta.summary}`);
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

export function explainCommand(args: string[]): number {
  if (args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(EXPLAIN_HELP);
    return EXIT.ok;
  }
  if (args.length !== 1) throw new UsageError(`usage: hvci-build explain <rule>`);
  // link-flag-refused is not an image rule: the wrappers report a refused link flag under it.
  const m = RULES_BY_ID.get(args[0]!)?.meta ?? (args[0] === REFUSED_FLAG_META.id ? REFUSED_FLAG_META : undefined);
  if (!m) throw new UsageError(`unknown rule '${args[0]}'${didYouMean(args[0]!, [...RULES_BY_ID.keys()])} (see hvci-build rules)`);
  process.stdout.write(
    [
      `${m.id} (${m.name}), default severity: ${m.defaultSeverity}`,
      '',
      m.summary,
      '',
      wrap(m.explanation),
      '',
      'How to fix:',
      wrap(m.fix),
      '',
      `Reference: ${m.reference}`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

function wrap(text: string, width = 78): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
