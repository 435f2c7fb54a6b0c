import { describe, expect, it } from 'vitest';
import { condition, evaluate, interpolate, type ExpressionContext } from './helpers/actions-expressions.js';
import { parseYamlSubset } from './helpers/yaml-subset.js';

// The runner that action.test.ts and init-workflow.test.ts rely on: what it reads must be what
// GitHub reads, and what it cannot read must stop the test.
describe('the YAML subset reader', () => {
  it('reads mappings, sequences of mappings, quoted and block scalars, flow sequences, comments', () => {
    const doc = parseYamlSubset(
      [
        'name: x # a comment',
        'on: [push, pull_request]',
        'steps:',
        '- uses: a/b@v1',
        '  with:',
        "    q: 'it''s # not a comment'",
        '    d: "tab\\there"',
        '- run: |',
        '    echo "a # b" # stays: block scalars are raw',
        '',
        '    exit 0',
        '  if: always()',
        'empty:',
        'strip: |-',
        '  last',
      ].join('\n'),
    );
    expect(doc).toEqual({
      name: 'x',
      on: ['push', 'pull_request'],
      steps: [
        { uses: 'a/b@v1', with: { q: "it's # not a comment", d: 'tab\there' } },
        { run: 'echo "a # b" # stays: block scalars are raw\n\nexit 0\n', if: 'always()' },
      ],
      empty: null,
      strip: 'last',
    });
  });

  it('refuses what it does not read, naming the line', () => {
    for (const [text, line] of [
      ['a: &anchor 1', 1],
      ['a:\n  b: >\n    folded', 2],
      ['a: {b: 1}', 1],
      ['a:\n\tb: 1', 2],
      ['a: 1\na: 2', 2],
      ['a: [1,\n  2]', 1],
    ] as const) {
      expect(() => parseYamlSubset(text, 'f.yml'), text).toThrow(new RegExp(`^f\\.yml:${line}: `));
    }
  });
});

describe('expressions', () => {
  const ctx: ExpressionContext = {
    contexts: { inputs: { 'upload-sarif': 'True', command: 'build' }, github: { event: { pull_request: null } }, steps: {} },
    jobStatus: 'failure',
    workspace: '/nonexistent',
  };

  it('compare strings case-insensitively, return operands from && and ||, read missing properties as null', () => {
    expect(evaluate("inputs.upload-sarif == 'true'", ctx)).toBe(true);
    expect(evaluate("inputs.command == 'build' && 'yes' || 'no'", ctx)).toBe('yes');
    expect(evaluate('github.event.pull_request.head.repo.full_name', ctx)).toBe(null);
    expect(interpolate('[${{ github.nothing }}] ${{ inputs.command }}', ctx)).toBe('[] build');
  });

  it('imply success() in if: unless a status function is named', () => {
    expect(condition("inputs.command == 'build'", ctx)).toBe(false);
    expect(condition("${{ !cancelled() && inputs.command == 'build' }}", ctx)).toBe(true);
    expect(condition("always() && hashFiles('x.sarif') != ''", ctx)).toBe(false);
  });

  it('refuse functions and syntax the runner does not implement', () => {
    expect(() => evaluate('fromJSON(inputs.command)', ctx)).toThrow(/fromJSON\(\) is not supported/);
    expect(() => evaluate('inputs[0]', ctx)).toThrow(/cannot read/);
    expect(() => evaluate("hashFiles('**/*.sarif')", ctx)).toThrow(/glob/);
  });
});
