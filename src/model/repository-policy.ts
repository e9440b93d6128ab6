/**
 * Which versions of a repository model are served: `versions:` in its config.yaml, as Triton's
 * version_policy.
 *
 *   versions: all               every version folder (the default)
 *   versions: { latest: 2 }     the 2 highest version numbers
 *   versions: { specific: [1, 3] }
 *
 * Every served version is loaded (and holds its engine's memory), so a model with many
 * versions says which ones matter. A version outside the policy is listed UNAVAILABLE with the
 * policy as its reason, and is not read.
 */
export type VersionPolicy =
  | { readonly kind: 'all' }
  | { readonly kind: 'latest'; readonly count: number }
  | { readonly kind: 'specific'; readonly versions: readonly string[] };

export const ALL_VERSIONS: VersionPolicy = { kind: 'all' };
/** More than the versions a scan keeps (repository-layout.ts), far less than anything costly. */
const MAX_LISTED = 1000;

const RULE = "versions: must be 'all', { latest: N } (N >= 1) or { specific: [version, ...] }";

function positiveInteger(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= Number.MAX_SAFE_INTEGER
  );
}

/** The policy a config's `versions:` value says, or the problem with it (for the config's error). */
export function parseVersionPolicy(value: unknown): { policy: VersionPolicy } | { problem: string } {
  if (value === undefined || value === 'all') return { policy: ALL_VERSIONS };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: RULE };
  const entries = Object.entries(value);
  const [key, setting] = entries[0] ?? [];
  if (entries.length !== 1) return { problem: RULE };
  if (key === 'latest' && positiveInteger(setting)) return { policy: { kind: 'latest', count: setting } };
  if (
    key === 'specific' &&
    Array.isArray(setting) &&
    setting.length > 0 &&
    setting.length <= MAX_LISTED &&
    setting.every(positiveInteger)
  )
    return { policy: { kind: 'specific', versions: setting.map(String) } };
  return { problem: RULE };
}

/** The versions of `present` (version folder names) the policy serves. */
export function servedVersions(policy: VersionPolicy, present: readonly string[]): ReadonlySet<string> {
  if (policy.kind === 'all') return new Set(present);
  if (policy.kind === 'specific')
    return new Set(present.filter((version) => policy.versions.includes(version)));
  return new Set([...present].sort((a, b) => Number(b) - Number(a)).slice(0, policy.count));
}

/** How a version outside the policy is described (its reason). */
export function describePolicy(policy: VersionPolicy): string {
  return policy.kind === 'all'
    ? 'all'
    : policy.kind === 'latest'
      ? `latest ${policy.count}`
      : `specific [${policy.versions.join(', ')}]`;
}
