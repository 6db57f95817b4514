/**
 * The updater: refresh each matrix pin to the digest its tag points at now,
 * but only when that digest passes the policy (as `decideImage` would judge it
 * for a matching, fresh pin), is of the pin's kind, has no less evidence than
 * the pin it replaces (src/domain/regression.ts) and is old enough by its
 * verified signing time (`min_age_days`, src/domain/cool-down.ts); record the
 * evidence in the row's `provenance` block, and optionally add rows for newer
 * tags. A digest that does not pass is not written; it is reported for a human.
 *
 * Adapters come in through the ports (TagResolver, SignatureVerifier), so
 * nothing here depends on the registry client's or cosign's internals.
 */
import { checkAge } from '../domain/age.js'
import { decideImage, decisionSteps } from '../domain/decide.js'
import { checkTrust, type TrustFindings } from './trust.js'
import { describeSigner, sameFingerprint } from '../domain/signers.js'
import { UNNAMED_SIGNER } from '../domain/types.js'
import { causeChain } from '../domain/errors.js'
import { compareEvidence, evidenceOf, type JudgedEvidence } from '../domain/regression.js'
import { checkCoolDown, verifiedSigningTime } from '../domain/cool-down.js'
import { isIndexMediaType, type PlatformManifest } from '../domain/manifest.js'
import { isDigest } from '../domain/reference.js'
import type {
  RejectedImage,
  RejectTrigger,
  UpdatedImage,
  UpdateReason,
  AttestationFinding,
  Digest,
  ImageFindings,
  ImagePlan,
  Policy,
  SignatureFinding,
  TrustStatus
} from '../domain/types.js'
import {
  compareVersionText,
  isDiscoverableTemplate,
  parseVersion,
  renderTag,
  selectNewTags,
  type DiscoveredTag
} from '../domain/versions.js'
import {
  assertWritableMatrix,
  editMatrix,
  type MatrixValue,
  type RowAppend,
  type RowUpdate
} from '../config/matrix-edit.js'
import { renderPrBody } from '../render/pr-body.js'
import type { SignatureVerifier, TagResolver } from './ports.js'

interface UpdateOptions {
  plans: ImagePlan[]
  matrixText: string
  matrixPath: string
  policy: Policy
  registry: TagResolver
  verifier: SignatureVerifier
  now: Date
  /** Also look for tags newer than the matrix has, and add rows for them. */
  discover: boolean
}

export interface UpdateResult {
  matrixText: string
  changed: boolean
  updated: UpdatedImage[]
  rejected: RejectedImage[]
  prBody: string
}

export async function runUpdate(options: UpdateOptions): Promise<UpdateResult> {
  assertWritableMatrix(options.matrixText, options.matrixPath)
  const today = isoDate(options.now)
  const updates: RowUpdate[] = []
  const appends: RowAppend[] = []
  const updated: UpdatedImage[] = []
  const rejected: RejectedImage[] = []

  for (const plan of options.plans) {
    const outcome = await refreshPin(plan, options, today)
    if (outcome.kind === 'current') continue
    if (outcome.kind === 'rejected') {
      rejected.push(outcome.rejected)
      continue
    }
    updated.push(outcome.updated)
    updates.push({
      index: plan.row.index,
      version: plan.row.version,
      os: plan.row.os,
      digest: outcome.updated.newDigest,
      added: today,
      provenance: outcome.provenance
    })
  }

  if (options.discover) {
    const rowCount = Math.max(-1, ...options.plans.map(plan => plan.row.index)) + 1
    const discovery = await discoverTags(options)
    rejected.push(...discovery.failures)
    for (const [k, found] of discovery.found.entries()) {
      const candidate = newRowPlan(found.plan, found.tag, rowCount + k)
      const resolved = await resolveDigest(candidate, options.registry)
      if ('error' in resolved) {
        rejected.push(rejection(candidate, 'new-tag', undefined, 'unknown', resolved.error))
        continue
      }
      const checked = await checkCandidate(candidate, resolved.digest, options, today, true)
      if (!checked.passes) {
        rejected.push(
          rejection(
            candidate,
            'new-tag',
            resolved.digest,
            checked.trustStatus,
            checked.reason,
            checked.signer
          )
        )
        continue
      }
      updated.push({
        ...checked.image,
        reason: 'new-tag',
        evidence: { candidate: checked.evidence.evidence }
      })
      appends.push({
        templateIndex: found.plan.row.index,
        version: candidate.row.version,
        os: candidate.row.os,
        digest: resolved.digest,
        added: today,
        provenance: checked.provenance
      })
    }
  }

  const matrixText = editMatrix(
    options.matrixText,
    { update: updates, append: appends },
    options.matrixPath
  )
  return {
    matrixText,
    changed: matrixText !== options.matrixText,
    updated,
    rejected,
    prBody: renderPrBody({ matrixPath: options.matrixPath, updated, rejected })
  }
}

// ------------------------------------------------------------ refresh pin ---

type RefreshOutcome =
  | { kind: 'current' }
  | { kind: 'rejected'; rejected: RejectedImage }
  | { kind: 'updated'; updated: UpdatedImage; provenance: Record<string, MatrixValue> }

async function refreshPin(
  plan: ImagePlan,
  options: UpdateOptions,
  today: string
): Promise<RefreshOutcome> {
  const pinned = plan.row.pin.kind === 'pinned' ? plan.row.pin.digest : undefined
  const resolved = await resolveDigest(plan, options.registry)
  if ('error' in resolved) {
    return {
      kind: 'rejected',
      rejected: rejection(plan, 'tag-unreadable', undefined, 'unknown', resolved.error)
    }
  }
  const current = resolved.digest
  const stale = checkAge(plan.row.added, plan.policy.digestTtlDays, options.now).stale
  // A pin of one platform's manifest within the index the tag names has not moved.
  const matches =
    pinned !== undefined &&
    (pinned === current || resolved.platforms.some(p => p.digest === pinned))
  const trigger: UpdateReason | undefined = !pinned
    ? 'not-pinned'
    : !matches
      ? 'tag-moved'
      : stale
        ? 'pin-stale'
        : undefined
  if (!trigger) return { kind: 'current' }
  // A stale pin that still matches is re-verified as it is (it may be a platform's manifest);
  // a moved one is replaced by what the tag names now, of the same kind as the pin.
  const same =
    trigger === 'pin-stale' && pinned
      ? { digest: pinned }
      : trigger === 'tag-moved' && pinned
        ? await pinOfSameKind(plan, pinned, resolved, options.registry)
        : { digest: current }
  if ('error' in same) {
    return {
      kind: 'rejected',
      rejected: rejection(plan, trigger, current, 'unknown', same.error)
    }
  }
  const candidate = same.digest
  // A stale pin re-verified as it is is no new digest: no cool-down, nothing to compare.
  const isNew = candidate !== pinned
  const checked = await checkCandidate(plan, candidate, options, today, isNew)
  const refuse = (trust: TrustStatus, reason: string, signer?: string): RefreshOutcome => ({
    kind: 'rejected',
    rejected: rejection(plan, trigger, candidate, trust, reason, signer)
  })
  if (!checked.passes) return refuse(checked.trustStatus, checked.reason, checked.signer)
  let held: JudgedEvidence | undefined
  if (pinned && isNew) {
    // The pin's evidence, judged now with the same rules as the candidate's.
    held = evidenceOf(
      plan,
      await checkTrust(plan, pinned, async () => options.verifier, options.now)
    )
    const verdict = compareEvidence(held, checked.evidence)
    if (verdict.regressed)
      return refuse(
        checked.image.trustStatus,
        `the candidate has less evidence than the pin it would replace: ${verdict.losses.join('; ')}`,
        checked.image.signer
      )
  }
  return {
    kind: 'updated',
    updated: {
      ...checked.image,
      ...(pinned ? { oldDigest: pinned } : {}),
      reason: trigger,
      evidence: {
        ...(held && { current: held.evidence }),
        candidate: checked.evidence.evidence
      }
    },
    provenance: checked.provenance
  }
}

/**
 * What a moved tag now names, of the kind the pin was: a pin of an index
 * stays an index; a pin of one platform's image manifest becomes the manifest
 * of the same platform (os, architecture and variant, from the pinned
 * manifest's config) in the tag's new index, never the index itself. Where
 * that cannot be told or found, the error says why and nothing is written.
 */
async function pinOfSameKind(
  plan: ImagePlan,
  pinned: Digest,
  resolved: ResolvedTag,
  registry: TagResolver
): Promise<{ digest: Digest } | { error: string }> {
  const newIsIndex = resolved.platforms.length > 0
  try {
    const old = await registry.inspectManifest(plan.registry, plan.repositoryPath, pinned)
    if (!old)
      return newIsIndex
        ? {
            error: `the pinned ${pinned} is gone from ${plan.repository}, so its platform cannot be told; pin a manifest of the new index ${resolved.digest} by hand`
          }
        : { digest: resolved.digest }
    if (isIndexMediaType(old.mediaType))
      return newIsIndex
        ? { digest: resolved.digest }
        : {
            error: `the pin is a multi-arch index, but ${plan.reference} now names a single manifest ${resolved.digest}`
          }
    if (!newIsIndex) return { digest: resolved.digest }
    const platform = await registry.readPlatform(plan.registry, plan.repositoryPath, pinned)
    if (!platform)
      return {
        error: `the pinned manifest ${pinned} names no platform in its config, so its counterpart in the new index ${resolved.digest} cannot be chosen`
      }
    const match = resolved.platforms.find(p => p.platform === platform)
    if (!match)
      return {
        error: `the tag's new index ${resolved.digest} has no ${platform} manifest (it has ${resolved.platforms.map(p => p.platform).join(', ')})`
      }
    return { digest: match.digest }
  } catch (error: unknown) {
    return { error: `the pin's kind could not be read: ${causeChain(error).join(': ')}` }
  }
}

interface ResolvedTag {
  digest: Digest
  /** The index's platform manifests; empty when the tag names a single manifest. */
  platforms: PlatformManifest[]
}

async function resolveDigest(
  plan: ImagePlan,
  registry: TagResolver
): Promise<ResolvedTag | { error: string }> {
  try {
    const { digest, platforms } = await registry.resolveTag(
      plan.registry,
      plan.repositoryPath,
      plan.tag
    )
    if (!isDigest(digest)) {
      return {
        error: `the registry answered ${plan.reference} with an unusable digest "${digest}"`
      }
    }
    return {
      digest: digest as Digest,
      platforms: (platforms ?? []).filter((p): p is PlatformManifest => isDigest(p.digest))
    }
  } catch (error: unknown) {
    return { error: `the tag could not be resolved: ${causeChain(error).join(': ')}` }
  }
}

// ------------------------------------------------------------- candidate ---

type CandidateCheck =
  | {
      passes: true
      image: Omit<UpdatedImage, 'reason' | 'oldDigest'>
      provenance: Record<string, MatrixValue>
      /** The candidate's evidence, for the no-regression rule and the pull request. */
      evidence: JudgedEvidence
    }
  | { passes: false; trustStatus: TrustStatus; reason: string; signer?: string }

/**
 * Verifies `digest` as if it were the row's pin, dated today: it passes when
 * the decision's raw code is 0 (a required signature verified, enforced
 * attestations verified) and, for a digest not pinned yet (`isNew`), its
 * verified signing time is at least the policy's `min_age_days` old
 * (src/domain/cool-down.ts).
 */
async function checkCandidate(
  plan: ImagePlan,
  digest: Digest,
  options: UpdateOptions,
  today: string,
  isNew: boolean
): Promise<CandidateCheck> {
  const candidate: ImagePlan = {
    ...plan,
    row: { ...plan.row, pin: { kind: 'pinned', digest }, added: today }
  }
  const { signature, attestation, requirements, errors } = await verifyCandidate(
    candidate,
    digest,
    options
  )
  const findings: ImageFindings = {
    plan: candidate,
    digest: { status: 'match', pinnedDigest: digest, currentDigest: digest, pinnedExists: true },
    age: checkAge(today, plan.policy.digestTtlDays, options.now),
    signature,
    attestation,
    ...(requirements && { requirements }),
    errors
  }
  const decision = decideImage(findings)
  const signer = signerOfCandidate(candidate, signature)
  if (decision.rawCode !== 0) {
    const failing = decisionSteps(findings)
      .filter(step => step.code > 0)
      .map(step => step.text)
    return { passes: false, trustStatus: decision.trustStatus, reason: failing.join('; '), signer }
  }
  const signedAt = verifiedSigningTime(signature)
  if (isNew) {
    const coolDown = checkCoolDown(signedAt, options.policy.minAgeDays ?? 0, options.now)
    if (!coolDown.passes) {
      return { passes: false, trustStatus: decision.trustStatus, reason: coolDown.reason, signer }
    }
  }
  const provenance = observedProvenance(candidate, signature, attestation)
  return {
    passes: true,
    image: {
      reference: plan.reference,
      version: plan.row.version,
      os: plan.row.os,
      newDigest: digest,
      trustStatus: decision.trustStatus,
      ...(signer ? { signer } : {}),
      ...(typeof provenance.rekor_log_index === 'number'
        ? { rekorLogIndex: provenance.rekor_log_index }
        : {}),
      ...(attestation.outcome === 'verified' && attestation.digest
        ? { attestationDigest: attestation.digest }
        : {}),
      ...(signedAt && { signedAt })
    },
    provenance,
    evidence: evidenceOf(candidate, {
      signature,
      attestation,
      ...(requirements && { requirements })
    })
  }
}

/** The same checks the verify pipeline runs on a pin, run on the candidate digest. */
async function verifyCandidate(
  plan: ImagePlan,
  digest: Digest,
  options: UpdateOptions
): Promise<TrustFindings> {
  return checkTrust(plan, digest, async () => options.verifier, options.now)
}

/**
 * The `provenance` keys to write: the evidence observed. The signer
 * expectation the user wrote (`key_path`, `identity`, `issuer`, …) is never
 * changed; `key_fingerprint` is only set when it is new or differs.
 */
function observedProvenance(
  plan: ImagePlan,
  signature: SignatureFinding,
  attestation: AttestationFinding
): Record<string, MatrixValue> {
  const provenance: Record<string, MatrixValue> = {}
  // Evidence belongs to the row's own signer: under named signers, only what
  // that signer (`provenance`) verified is written, never another signer's key.
  const own =
    plan.trustModel === 'signers'
      ? signature.signers?.find(s => s.name === UNNAMED_SIGNER && s.counted)
      : signature
  if (signature.outcome === 'verified' && own) {
    if (plan.signer?.kind === 'key' && own.keyFingerprint) {
      const written = plan.row.provenance?.keyFingerprint
      if (!written || !sameFingerprint(written, own.keyFingerprint)) {
        provenance.key_fingerprint = own.keyFingerprint
      }
    }
    if (plan.signer?.kind === 'keyless') {
      if (own.identity) provenance.signer_identity = own.identity
      if (own.issuer) provenance.signer_issuer = own.issuer
    }
    if (signature.tlogChecked && own.rekorLogIndex !== undefined) {
      provenance.rekor_log_index = own.rekorLogIndex
    }
  }
  if (attestation.outcome === 'verified' && attestation.digest) {
    provenance.attestation_digest = attestation.digest
  }
  return provenance
}

function signerOfCandidate(plan: ImagePlan, signature: SignatureFinding): string | undefined {
  if (signature.outcome === 'verified' && (signature.identity || signature.keyFingerprint)) {
    return describeSigner(signature, { withIssuer: true })
  }
  return expectedSigner(plan)
}

/** The signer the row expects, as written. */
function expectedSigner(plan: ImagePlan): string | undefined {
  const signer = plan.signer
  if (!signer) return undefined
  return signer.kind === 'key' ? `key ${signer.keyPath}` : `${signer.identity} (${signer.issuer})`
}

function rejection(
  plan: ImagePlan,
  trigger: RejectTrigger,
  newDigest: Digest | undefined,
  trustStatus: TrustStatus,
  reason: string,
  signer = expectedSigner(plan)
): RejectedImage {
  const pinned = plan.row.pin.kind === 'pinned' ? plan.row.pin.digest : undefined
  return {
    reference: plan.reference,
    version: plan.row.version,
    os: plan.row.os,
    ...(pinned && trigger !== 'new-tag' ? { oldDigest: pinned } : {}),
    ...(newDigest ? { newDigest } : {}),
    trustStatus,
    ...(signer ? { signer } : {}),
    trigger,
    reason
  }
}

// ------------------------------------------------------------- discovery ---

interface FoundTag {
  /** The newest row of its repository and OS: the new row copies its layout and policy. */
  plan: ImagePlan
  tag: DiscoveredTag
}

/**
 * Tags newer than the matrix has, per repository and OS. Rows whose tag comes
 * from a template (the policy's `tag_template`, or a row's own `tag` written
 * with `{version}`) take part; a row that names a literal tag or image does not.
 */
async function discoverTags(
  options: UpdateOptions
): Promise<{ found: FoundTag[]; failures: RejectedImage[] }> {
  const groups = new Map<string, { template: string; plans: ImagePlan[] }>()
  for (const plan of options.plans) {
    const template = tagTemplateOf(plan, options.policy)
    if (template === undefined || !isDiscoverableTemplate(template)) continue
    // A repository that changes with the version cannot be listed for newer versions.
    if ((plan.row.repository ?? options.policy.repository ?? '').includes('{version}')) continue
    if (plan.tag !== renderTag(template, plan.row.version, plan.row.os)) continue
    if (!parseVersion(plan.row.version)) continue
    const key = `${plan.repository}\n${plan.row.os}\n${template}`
    const group = groups.get(key) ?? { template, plans: [] }
    group.plans.push(plan)
    groups.set(key, group)
  }
  const tagsByRepository = new Map<string, Promise<string[] | { error: string }>>()
  const found: FoundTag[] = []
  const failures: RejectedImage[] = []
  for (const { template, plans } of groups.values()) {
    const newest = plans.reduce((a, b) => (compareRowVersions(a, b) >= 0 ? a : b))
    let tags = tagsByRepository.get(newest.repository)
    if (!tags) {
      tags = listTags(newest, options.registry)
      tagsByRepository.set(newest.repository, tags)
    }
    const listed = await tags
    if ('error' in listed) {
      const where = { ...newest, reference: newest.repository }
      if (failures.some(failure => failure.reference === where.reference)) continue
      failures.push(rejection(where, 'new-tag', undefined, 'unknown', listed.error))
      continue
    }
    const knownVersions = options.plans
      .filter(plan => plan.repository === newest.repository && plan.row.os === newest.row.os)
      .map(plan => plan.row.version)
    for (const tag of selectNewTags({ tags: listed, template, os: newest.row.os, knownVersions })) {
      found.push({ plan: newest, tag })
    }
  }
  return { found, failures }
}

async function listTags(
  plan: ImagePlan,
  registry: TagResolver
): Promise<string[] | { error: string }> {
  try {
    return await registry.listTags(plan.registry, plan.repositoryPath)
  } catch (error: unknown) {
    return {
      error: `the tags of ${plan.repository} could not be listed: ${causeChain(error).join(': ')}`
    }
  }
}

/** The template a row's tag comes from, or undefined when the row names a literal tag. */
function tagTemplateOf(plan: ImagePlan, policy: Policy): string | undefined {
  if (plan.row.tag === undefined) return policy.tagTemplate
  return plan.row.tag.includes('{version}') ? plan.row.tag : undefined
}

function compareRowVersions(a: ImagePlan, b: ImagePlan): number {
  return compareVersionText(a.row.version, b.row.version)
}

/** The plan of a row not yet in the matrix: the template row's policy and signer, a new tag. */
function newRowPlan(template: ImagePlan, found: DiscoveredTag, index: number): ImagePlan {
  return {
    ...template,
    row: {
      index,
      version: found.version.text,
      os: template.row.os,
      ...(template.row.repository ? { repository: template.row.repository } : {}),
      ...(template.row.tag ? { tag: template.row.tag } : {}),
      pin: { kind: 'not-pinned', raw: '' },
      ...(template.row.provenance ? { provenance: template.row.provenance } : {})
    },
    tag: found.tag,
    reference: `${template.repository}:${found.tag}`
  }
}

function isoDate(now: Date): string {
  return now.toISOString().slice(0, 10)
}
