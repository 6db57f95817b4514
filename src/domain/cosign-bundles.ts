/**
 * cosign 3 signature bundles, pure: which of an image's stored bundles are
 * worth verifying one by one for a signer that `cosign verify` already
 * verified, so that its signing time (and, keyless, its certificate identity)
 * comes from a bundle cosign verified rather than one merely read.
 *
 * What cosign 3.1.1's `cosign sign` stores (checked with the real cosign): an
 * OCI referrer of artifact type `application/vnd.dev.sigstore.bundle.v0.3+json`
 * holding a Sigstore bundle v0.3 whose `dsseEnvelope` carries an in-toto
 * Statement v1 of predicate type `https://sigstore.dev/cosign/sign/v1`, its
 * subject the image digest and its predicate `{}`; signed with a key
 * (`verificationMaterial.publicKey.hint`: base64 of the SHA-256 of the DER
 * public key) or a Fulcio certificate, with a Rekor `dsse` entry unless signed
 * with `--tlog-upload=false`. `cosign verify-blob-attestation --bundle
 * --new-bundle-format --digest <hex> --digestAlg sha256 --type
 * https://sigstore.dev/cosign/sign/v1` verifies one such bundle against a key
 * or an identity as `cosign verify` does, and refuses one by another key or
 * identity, of another digest, or whose log entry (its integrated time
 * included, covered by the entry's signed promise) was altered.
 */
import { RE2JS } from 're2js'
import { windowInstant } from './signers.js'
import type { Digest, SignerExpectation } from './types.js'

/** The predicate type of a cosign 3 image signature (`cosign sign`). */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1'

/** Most bundles verified one by one per signer and image (each is one cosign call). */
export const MAX_SIGNATURE_BUNDLES = 3

/**
 * What a stored bundle claims, read before anything is verified: used only to
 * choose which bundles cosign verifies, never as a fact.
 */
export interface SignatureBundleClaims {
  /** The statement's `predicateType`; absent when the bundle is no DSSE statement. */
  predicateType?: string
  /** `sha256:<hex>` of each statement subject. */
  subjectDigests: string[]
  /** How many transparency-log entries the bundle carries. */
  tlogEntries: number
  /** `sha256:<hex>` of the signing key (`publicKey.hint`), for a key-signed bundle. */
  keyFingerprint?: string
  /** The certificate's SAN and OIDC issuer, for a keyless bundle. */
  identity?: string
  issuer?: string
  /** RFC 3339 of the first log entry's integrated time. */
  signedAt?: string
}

/**
 * Whether a keyless expectation accepts a certificate's identity and issuer,
 * as cosign matches them: `--certificate-identity-regexp` and
 * `--certificate-oidc-issuer-regexp` as RE2, unanchored; a plain issuer
 * exactly.
 */
export function acceptsCertificate(
  expected: SignerExpectation & { kind: 'keyless' },
  identity: string | undefined,
  issuer: string | undefined
): boolean {
  if (identity === undefined || issuer === undefined) return false
  if (!RE2JS.compile(expected.identity).matcher(identity).find()) return false
  return expected.issuerIsRegexp
    ? RE2JS.compile(expected.issuer).matcher(issuer).find()
    : issuer === expected.issuer
}

/** Milliseconds of an RFC 3339 time, or undefined. */
function instant(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : at
}

/**
 * The bundles (indexes into `claims`) to verify one by one for a signer
 * cosign has verified on `pinned` with a transparency log checked, in the
 * order to try them, at most `limit`.
 *
 * A candidate is a cosign 3 signature bundle (predicate type
 * COSIGN_SIGN_PREDICATE_TYPE) naming `pinned` as a subject, with a log entry,
 * that claims to be the signer's: the key's fingerprint as its hint (a bundle
 * without a hint stays a candidate), or a certificate the keyless expectation
 * accepts. Order: claimed signing times inside the signer's
 * `valid_from`/`valid_until` window first, earliest first (the earliest
 * signature in the window dates the image, as min_age_days takes the earliest
 * signing time), then the rest, earliest first, then those without a time.
 * Claims only route: cosign verifies each bundle tried, and a bundle that does
 * not verify is passed over.
 */
export function signatureBundleCandidates(
  claims: readonly SignatureBundleClaims[],
  signer: SignerExpectation,
  pinned: Digest,
  options: { keyFingerprint?: string; limit?: number } = {}
): number[] {
  const limit = options.limit ?? MAX_SIGNATURE_BUNDLES
  const from = signer.validFrom === undefined ? undefined : windowInstant(signer.validFrom, 'start')
  const until =
    signer.validUntil === undefined ? undefined : windowInstant(signer.validUntil, 'end')
  const ranked = claims
    .map((claim, index) => ({ claim, index, at: instant(claim.signedAt) }))
    .filter(({ claim }) => {
      if (claim.predicateType !== COSIGN_SIGN_PREDICATE_TYPE) return false
      if (!claim.subjectDigests.includes(pinned) || claim.tlogEntries === 0) return false
      if (signer.kind === 'key')
        return (
          claim.identity === undefined &&
          (claim.keyFingerprint === undefined ||
            options.keyFingerprint === undefined ||
            claim.keyFingerprint === options.keyFingerprint)
        )
      return acceptsCertificate(signer, claim.identity, claim.issuer)
    })
    .map(candidate => {
      const inWindow =
        candidate.at !== undefined &&
        (from === undefined || candidate.at >= from) &&
        (until === undefined || candidate.at <= until)
      return { ...candidate, rank: candidate.at === undefined ? 2 : inWindow ? 0 : 1 }
    })
    .sort((a, b) => a.rank - b.rank || (a.at ?? 0) - (b.at ?? 0) || a.index - b.index)
  return ranked.slice(0, limit).map(candidate => candidate.index)
}
