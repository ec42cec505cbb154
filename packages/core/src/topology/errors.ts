import { SwarmError } from '../errors';

export interface TopologyIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the offending key, e.g. swarms.hello.workers[0].handler. */
  path: string;
  message: string;
}

/** A topology file that cannot be used, with every problem found and where it is. */
export class TopologyInvalidError extends SwarmError {
  readonly issues: TopologyIssue[];
  constructor(issues: TopologyIssue[]) {
    super('SWARM_TOPOLOGY_INVALID', issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

export function formatIssue(issue: TopologyIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message}${issue.path ? ` (at ${issue.path})` : ''}`;
}
