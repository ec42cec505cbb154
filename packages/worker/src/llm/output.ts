/**
 * An llm pool's `output`: plain text, or a JSON Schema its answers must meet. The schema goes to
 * the vendor as it is written (each provider asks for it its own way: a response format, a tool);
 * the answer is checked here, so a vendor that ignores the schema still cannot produce a finding
 * that breaks it.
 */
import { type JsonValue, SwarmError, z } from '@swarm/core';
import { jsonSchema, Output } from 'ai';

/** The pool's JSON Schema cannot be used. */
export class OutputSchemaError extends SwarmError<'SWARM_OUTPUT_SCHEMA_INVALID'> {
  constructor(reason: string) {
    super(
      'SWARM_OUTPUT_SCHEMA_INVALID',
      `output is not a JSON Schema swarm can check answers with: ${reason}`,
    );
  }
}

/** An answer that is not JSON, or not JSON the schema allows. */
export class InvalidOutputError extends SwarmError<'SWARM_OUTPUT_INVALID'> {
  constructor(reason: string) {
    super('SWARM_OUTPUT_INVALID', `the answer does not match the output schema: ${reason}`);
  }
}

export interface AnswerFormat {
  /** streamText's `output` option; undefined for text. */
  readonly request: ReturnType<typeof Output.object> | undefined;
  /** The finding of an answer's text: its summary and, for structured output, its data. */
  parse(text: string): { summary: string; data?: JsonValue };
}

const MAX_ISSUES = 5;

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const listed = issues.slice(0, MAX_ISSUES).map((issue) => {
    const at = issue.path.length ? issue.path.map(String).join('.') : '(root)';
    return `${at}: ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '';
  return `${listed.join('; ')}${more}`;
}

/** The pool's answer format; throws OutputSchemaError at start for a schema that cannot be checked. */
export function answerFormat(output: 'text' | Record<string, unknown>): AnswerFormat {
  if (output === 'text') return { request: undefined, parse: (text) => ({ summary: text }) };
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(output as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new OutputSchemaError(error instanceof Error ? error.message : String(error));
  }
  return {
    request: Output.object({ schema: jsonSchema(output) }),
    parse(text) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
        throw new InvalidOutputError(`it is not JSON: ${JSON.stringify(shown)}`);
      }
      const checked = validator.safeParse(value);
      if (!checked.success) throw new InvalidOutputError(describeIssues(checked.error.issues));
      return { summary: JSON.stringify(value), data: value as JsonValue };
    },
  };
}
