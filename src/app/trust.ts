/**
 * The trust checks of one pinned (or candidate) digest, shared by the verify
 * pipeline and the updater so a new pin meets the same model as a pin: the
 * signature by the image's signers, then its attestation(s) per attest_mode.
 * Trust model `row-signer` runs exactly the checks of before 4.1; `signers`
 * checks every trusted signer and every attestation requirement.
 */
import { requirementTypesText, summariseRequirements } from '../domain/attestations.js'
import { causeChain } from '../domain/errors.js'
import type {
  AttestationFinding,
  Digest,
  ImagePlan,
  RequirementFinding,
  SignatureFinding
} from '../domain/types.js'
import type { SignatureVerifier } from './ports.js'

export interface TrustFindings {
  signature: SignatureFinding
  attestation: AttestationFinding
  requirements?: RequirementFinding[]
  errors: string[]
}

/**
 * An attestation check that did not run. Its predicate type is what would
 * have been looked for: the attestation requirements' types under the trust
 * model of named signers, else `attestation_type`.
 */
export function skippedAttestation(plan: ImagePlan, message: string): AttestationFinding {
  const types =
    plan.trustModel === 'signers' && (plan.requirements ?? []).length > 0
      ? requirementTypesText(plan.requirements!)
      : plan.policy.attestationType
  return {
    outcome: 'skipped',
    mode: plan.policy.attestMode,
    predicateType: types,
    message
  }
}

/** Whether the image has any signer to check against. */
export function hasSigner(plan: ImagePlan): boolean {
  return plan.trustModel === 'signers' ? (plan.signers ?? []).length > 0 : plan.signer !== undefined
}

/**
 * Signature and attestation findings of `digest` under the plan's trust model.
 * `getVerifier` is called only when there is a signer to check (preparing
 * cosign is not free); its failure is a `tool-error` finding, never a throw.
 * `index`: the index the tag points at when `digest` is one platform's
 * manifest of it; checked too when the manifest has no signature.
 */
export async function checkTrust(
  plan: ImagePlan,
  digest: Digest,
  getVerifier: () => Promise<SignatureVerifier>,
  now: Date,
  index?: { digest: Digest; platform?: string }
): Promise<TrustFindings> {
  if (!hasSigner(plan)) {
    const message = plan.policy.requireSignature
      ? plan.trustModel === 'signers'
        ? 'require_signature is on but the image has no trusted signer (trusted_signers, provenance.key_path, or identity and issuer)'
        : 'require_signature is on but the row names no signer (provenance.key_path, or identity and issuer)'
      : 'no signer configured for this row'
    return {
      signature: { outcome: 'skipped', count: 0, tlogChecked: false, message },
      attestation: skippedAttestation(plan, 'not checked: the row names no signer'),
      errors: []
    }
  }
  try {
    const verifier = await getVerifier()
    let signature = await verifier.verifySignature(plan, digest, now)
    if (signature.outcome === 'unsigned' && index !== undefined) {
      // Signed index, unsigned platform manifest (`cosign sign` of an index
      // without --recursive signs the index only): check the index too, so
      // the decision can say what is true and what to do.
      const ofIndex = await verifier.verifySignature(plan, index.digest, now)
      signature = {
        ...signature,
        indexSignature: {
          digest: index.digest,
          ...(index.platform !== undefined && { platform: index.platform }),
          outcome: ofIndex.outcome,
          ...(ofIndex.outcome === 'verified' && {
            signedBy: ofIndex.identity ?? ofIndex.keyFingerprint ?? ofIndex.expected
          })
        }
      }
    }
    if (plan.policy.attestMode === 'none') {
      return { signature, attestation: skippedAttestation(plan, 'attest_mode is none'), errors: [] }
    }
    if (plan.trustModel !== 'signers') {
      return { signature, attestation: await verifier.verifyAttestation(plan, digest), errors: [] }
    }
    const requirements: RequirementFinding[] = []
    for (const requirement of plan.requirements ?? []) {
      requirements.push(await verifier.verifyRequirement(plan, requirement, digest, now))
    }
    return {
      signature,
      attestation: summariseRequirements(plan.policy.attestMode, requirements),
      requirements,
      errors: []
    }
  } catch (error: unknown) {
    const message = causeChain(error).join(': ')
    return {
      signature: { outcome: 'tool-error', count: 0, tlogChecked: false, message },
      attestation: { ...skippedAttestation(plan, message), outcome: 'tool-error' },
      errors: [message]
    }
  }
}
