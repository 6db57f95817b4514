/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace,
 * `undefined` members left out, arrays in order — so equal values give equal
 * text and a hash of the text identifies the value. Shapes JSON can hold only;
 * a function or symbol is dropped as `JSON.stringify` drops it.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key]
      if (member !== undefined) sorted[key] = sortKeys(member)
    }
    return sorted
  }
  return value
}

/** `value` with every member named in `keys` left out, at any depth. */
export function withoutKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map(item => withoutKeys(item, keys))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !keys.has(key))
        .map(([key, member]) => [key, withoutKeys(member, keys)])
    )
  }
  return value
}
