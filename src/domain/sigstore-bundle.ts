/**
 * Sigstore bundles (v0.3, parsed JSON) and trusted roots as cosign reads them,
 * pure: field names as protojson takes them, what a bundle offers as proof of
 * when it was signed, whether a trusted root lists a CT log. Read before cosign
 * verified anything, these route and choose flags; they never decide trust.
 * Shared by the GitHub signer and the cosign 3 signature-time check.
 */

function valueOf(document: unknown, key: string): unknown {
  return typeof document === 'object' && document !== null
    ? (document as Record<string, unknown>)[key]
    : undefined
}

/** A protobuf field name (lower snake case) with an underscore, which protojson reads as its JSON name. */
const PROTO_FIELD_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]*)+$/

/** The JSON name of a protobuf field name, as protojson derives it (Go's strs.JSONCamelCase). */
function jsonCamelCase(name: string): string {
  let out = ''
  let wasUnderscore = false
  for (const char of name) {
    if (char !== '_') out += wasUnderscore && char >= 'a' && char <= 'z' ? char.toUpperCase() : char
    wasUnderscore = char === '_'
  }
  return out
}

/**
 * A Sigstore bundle (parsed JSON) with every field under the name this
 * action reads it by, as cosign reads it: protojson (sigstore-go's bundle
 * loader) takes a field under its JSON name (`signedTimestamp`) or its
 * protobuf name (`signed_timestamp`) alike, so a bundle that names a field
 * the second way is read here as cosign reads it, not as missing. A field
 * named both ways in one object is refused (protojson refuses it too):
 * `{ problem }`. Bundles hold no maps or free-form JSON, so every key is a
 * field name.
 */
export function protojsonNames(bundle: unknown): { bundle: unknown } | { problem: string } {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk)
    if (typeof value !== 'object' || value === null) return value
    // No prototype: a `__proto__` key is a field like any other.
    const out = Object.create(null) as Record<string, unknown>
    for (const [key, field] of Object.entries(value)) {
      const name = PROTO_FIELD_NAME.test(key) ? jsonCamelCase(key) : key
      if (Object.hasOwn(out, name)) throw new Error(`the bundle names its field ${name} twice`)
      out[name] = walk(field)
    }
    return out
  }
  try {
    return { bundle: walk(bundle) }
  } catch (error: unknown) {
    return { problem: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * What a bundle offers as proof of when it was signed, read before cosign
 * verified anything (Sigstore bundle v0.3 `verificationMaterial`): how many
 * transparency-log entries (`tlogEntries`) and its RFC 3161 signed
 * timestamps (`timestampVerificationData.rfc3161Timestamps[].signedTimestamp`,
 * base64 of a DER TimeStampResp). Entries that are not strings are left out.
 */
export interface BundleTimeEvidence {
  tlogEntries: number
  signedTimestamps: string[]
}

export function bundleTimeEvidence(bundle: unknown): BundleTimeEvidence {
  const material = valueOf(bundle, 'verificationMaterial')
  const entries = valueOf(material, 'tlogEntries')
  const timestamps = valueOf(valueOf(material, 'timestampVerificationData'), 'rfc3161Timestamps')
  return {
    tlogEntries: Array.isArray(entries) ? entries.length : 0,
    signedTimestamps: Array.isArray(timestamps)
      ? timestamps
          .map(timestamp => valueOf(timestamp, 'signedTimestamp'))
          .filter((value): value is string => typeof value === 'string' && value !== '')
      : []
  }
}

/** Whether a Sigstore trusted root (parsed JSON) lists a certificate transparency log. */
export function trustedRootHasCtLogs(trustedRoot: unknown): boolean {
  const logs = valueOf(trustedRoot, 'ctlogs')
  return Array.isArray(logs) && logs.length > 0
}
