/**
 * What a trusted root file (policy `trusted_root`, input `trusted-root`) must
 * be before cosign is given it: one Sigstore `TrustedRoot` document in JSON
 * (protobuf-specs `dev.sigstore.trustedroot.v1.TrustedRoot`, media type
 * `application/vnd.dev.sigstore.trustedroot+json;version=0.1`), as
 * `cosign trusted-root create` writes it. cosign refuses anything else at
 * verification time ("failed to proto-json unmarshal trusted root"), which
 * would look like a bad signature; here it is a configuration error at the
 * line that names the file. Pure.
 */

const MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.trustedroot'
/** The authority lists, by JSON name and protobuf name (protojson reads both). */
const AUTHORITY_KEYS = [
  'tlogs',
  'certificateAuthorities',
  'certificate_authorities',
  'ctlogs',
  'timestampAuthorities',
  'timestamp_authorities'
]

/** Why `text` is not a Sigstore trusted root document, or undefined when it is one. */
export function trustedRootProblem(text: string): string | undefined {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error: unknown) {
    const lines = text.split(/\r?\n/).filter(line => line.trim() !== '')
    if (lines.length > 1 && lines.every(isJson))
      return `holds ${lines.length} JSON documents, one per line (JSON Lines, as \`gh attestation trusted-root\` writes): keep only the line of the Sigstore instance that signs your bundles (GitHub's own: the line naming fulcio.githubapp.com)`
    return `is not JSON (${error instanceof Error ? error.message : String(error)}); expected a Sigstore trusted root as \`cosign trusted-root create\` writes it`
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    return 'is not a Sigstore trusted root: expected one JSON object'
  const fields = document as Record<string, unknown>
  const mediaType = fields.mediaType
  if (
    mediaType !== undefined &&
    !(typeof mediaType === 'string' && mediaType.startsWith(MEDIA_TYPE_PREFIX))
  )
    return `is not a Sigstore trusted root: its mediaType is ${JSON.stringify(mediaType)}, expected ${MEDIA_TYPE_PREFIX}+json;version=…`
  if (!AUTHORITY_KEYS.some(key => Array.isArray(fields[key]) && fields[key].length > 0))
    return `is not a Sigstore trusted root: it lists no tlogs, certificateAuthorities, ctlogs or timestampAuthorities`
  return undefined
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line)
    return true
  } catch {
    return false
  }
}
