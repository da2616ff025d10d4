/**
 * Prints the port workflow as a Mermaid flowchart, drawn from the state machine the CDK app synthesizes (so the
 * README's diagram cannot drift from the deployed one): `npx tsx scripts/state-machine-diagram.ts`.
 */
import { synthesizePortInTemplate } from '../local/cloudformation/synthesize';
import { type StateMachineDefinition, stateMachineDefinition } from '../local/cloudformation/template';

type Json = Record<string, unknown>;

const COMPARISONS: Readonly<Record<string, string>> = {
  StringEquals: '=',
  StringEqualsPath: '=',
  NumericEquals: '=',
  NumericEqualsPath: '=',
  BooleanEquals: '=',
  BooleanEqualsPath: '=',
  NumericLessThan: '<',
  NumericGreaterThan: '>',
  NumericLessThanEquals: '≤',
  NumericGreaterThanEquals: '≥',
  StringMatches: 'matches',
  IsPresent: 'present:',
  IsNull: 'null:',
};

/** A Choice rule in words; `IsPresent` guards are left out, they only keep a missing field from failing. */
function describeRule(rule: Json): string {
  if (Array.isArray(rule.And)) {
    const parts = (rule.And as Json[]).filter((r) => r.IsPresent !== true).map(describeRule);
    return parts.length === 1 ? (parts[0] ?? '') : parts.map((p) => `(${p})`).join(' and ');
  }
  if (Array.isArray(rule.Or)) {
    const rules = rule.Or as Json[];
    const variable = rules[0]?.Variable;
    // Several values of one field read better as a list.
    if (rules.every((r) => r.Variable === variable && typeof r.StringEquals === 'string')) {
      return `${String(variable)} in ${rules.map((r) => r.StringEquals).join(', ')}`;
    }
    return rules.map(describeRule).join(' or ');
  }
  if (rule.Not && typeof rule.Not === 'object') return `not (${describeRule(rule.Not as Json)})`;
  const variable = String(rule.Variable ?? '?');
  for (const [operator, symbol] of Object.entries(COMPARISONS)) {
    if (operator in rule) return `${variable} ${symbol} ${String(rule[operator])}`;
  }
  return variable;
}

/** Mermaid labels end at `|` and choke on quotes: keep them plain. */
function label(text: string): string {
  return text.replace(/["|]/g, "'");
}

/** The node for one state, its shape saying its type. */
function node(name: string, state: Json): string {
  switch (state.Type) {
    case 'Choice':
      return `  ${name}{${name}}`;
    case 'Succeed':
      return `  ${name}([${name}])`;
    case 'Fail':
      return `  ${name}[[${name}: ${label(String(state.Error ?? 'failed'))}]]`;
    case 'Task': {
      const notes: string[] = [];
      if (typeof state.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken')) {
        notes.push('waits for a task token');
      }
      if (typeof state.TimeoutSecondsPath === 'string') notes.push(`times out after ${state.TimeoutSecondsPath} s`);
      return notes.length ? `  ${name}("${name}<br/><i>${label(notes.join(', '))}</i>")` : `  ${name}(${name})`;
    }
    default:
      return `  ${name}[${name}]`;
  }
}

/** The Mermaid flowchart of a JSONPath state machine definition: states, transitions, choice rules, catches. */
export function stateMachineMermaid(definition: StateMachineDefinition): string {
  const lines = ['flowchart TD', '  start((start))'];
  const edges: string[] = [`  start --> ${String(definition.StartAt)}`];
  for (const [name, raw] of Object.entries(definition.States)) {
    const state = raw as Json;
    lines.push(node(name, state));
    for (const choice of (state.Choices as Json[] | undefined) ?? []) {
      edges.push(`  ${name} -->|${label(describeRule(choice))}| ${String(choice.Next)}`);
    }
    if (typeof state.Default === 'string') edges.push(`  ${name} -->|otherwise| ${state.Default}`);
    if (typeof state.Next === 'string') edges.push(`  ${name} --> ${state.Next}`);
    for (const c of (state.Catch as Json[] | undefined) ?? []) {
      edges.push(`  ${name} -.->|${label((c.ErrorEquals as string[]).join(', '))}| ${String(c.Next)}`);
    }
  }
  return [...lines, ...edges].join('\n');
}

/** The diagram of the state machine the CDK app synthesizes now. */
export function portWorkflowMermaid(): string {
  const template = synthesizePortInTemplate();
  // Only the shape matters here, so every reference resolves to a readable placeholder.
  const definition = stateMachineDefinition(template, {
    ref: (logicalId) => logicalId,
    getAtt: (logicalId, attribute) => `${logicalId}.${attribute}`,
  });
  return stateMachineMermaid(definition);
}

if (require.main === module) {
  // Fenced for pasting into Markdown; `--bare` for a .mmd file or the Mermaid CLI.
  const diagram = portWorkflowMermaid();
  process.stdout.write(process.argv.includes('--bare') ? `${diagram}\n` : `\`\`\`mermaid\n${diagram}\n\`\`\`\n`);
}
