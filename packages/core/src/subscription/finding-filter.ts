import type { Finding } from '../messages';

/** Which findings a subscriber wants; every given criterion must hold. */
export interface FindingFilter {
  /** Task types (the finding's `type`). */
  types?: readonly string[];
  /** At least one of these tags. */
  tags?: readonly string[];
  /** Any test of your own; a throw ends the subscription with that error (the finding is not skipped). */
  where?: (finding: Finding) => boolean;
}

export function findingMatcher(filter: FindingFilter): (finding: Finding) => boolean {
  const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : undefined;
  const tags = filter.tags && filter.tags.length > 0 ? new Set(filter.tags) : undefined;
  const where = filter.where;
  return (finding) =>
    (types === undefined || types.has(finding.type)) &&
    (tags === undefined || finding.tags.some((t) => tags.has(t))) &&
    (where === undefined || where(finding));
}
