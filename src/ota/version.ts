/** `1.5.0` -> 10500, the contract's example; minor and patch must stay below 100 for this to order. */
export function versionCodeOf(version: string): number {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) return 0;
  const [major, minor, patch] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  return major * 10000 + Math.min(minor, 99) * 100 + Math.min(patch, 99);
}
