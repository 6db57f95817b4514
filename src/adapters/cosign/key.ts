/**
 * The fingerprint of a key-based signer (node:crypto); comparing fingerprints
 * and judging rotation windows are pure rules in src/domain/signers.ts.
 *
 * The fingerprint is the SHA-256 of the DER-encoded public key
 * (SubjectPublicKeyInfo), written `sha256:<hex>` — not of the PEM file, so
 * line endings and armour do not change it. To compute it by hand:
 *   openssl pkey -pubin -in cosign.pub -outform DER | sha256sum
 */
import { createHash, createPublicKey } from 'node:crypto'

/** `sha256:<hex>` of the DER public key in a PEM file; throws when it is not a public key. */
export function publicKeyFingerprint(pem: string): string {
  const der = createPublicKey({ key: pem, format: 'pem' }).export({ type: 'spki', format: 'der' })
  return `sha256:${createHash('sha256').update(der).digest('hex')}`
}
