import { RULES, RULES_BY_ID } from '../rules/index.js';
import { EXIT, UsageError } from './errors.js';

export function rulesCommand(args: string[]): number {
  if (args.length > 0) throw new UsageError(`'rules' takes no arguments`);
  const width = Math.max(...RULES.map((r) => r.meta.id.length));
  const lines = RULES.map((r) => `${r.meta.id.padEnd(width)}  ${r.meta.defaultSeverity.padEnd(7)}  ${r.meta.summary}`);
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

export function explainCommand(args: string[]): number {
  if (args.length !== 1) throw new UsageError(`usage: hvci-build explain <rule>`);
  const rule = RULES_BY_ID.get(args[0]!);
  if (!rule) throw new UsageError(`unknown rule '${args[0]}' (see hvci-build rules)`);
  const m = rule.meta;
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
