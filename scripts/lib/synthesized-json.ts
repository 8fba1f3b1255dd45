/** cdktf's "//" keys hold construct paths and ids: they never reach Terraform, so they never count. */
export function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== "//").map(([key, inner]) => [key, withoutMetadata(inner)]));
  }
  return value;
}
