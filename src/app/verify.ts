/**
 * The verify pipeline shared by the action and the CLI:
 * config → plan → registry → cosign → decide. It never throws for what it
 * finds: a broken configuration, an unreachable registry or a failing cosign
 * all end up in the RunResult, so the report can always be written.
 */
import { checkAge } from '../domain/age.js'
import { mapConcurrent } from '../lib/concurrency.js'
import { decideImage, summariseRun } from '../domain/decide.js'
import { checkDigest, type DigestSource } from '../domain/drift.js'
import { causeChain, ConfigError, type ConfigIssue } from '../domain/errors.js'
import { choosePreferredRow, configWarnings, planImages } from '../domain/plan.js'
import { gitHubApiSubjects } from '../domain/github-signer.js'
import type { CosignTools, CosignUse, LoadConfig, RegistrySchedule, VerdictCache } from './ports.js'
import { checkTrust, hasSigner, skippedAttestation } from './trust.js'
import {
  imageCacheUse,
  openCacheSession,
  type CacheLookup,
  type CacheSession
} from './cache-session.js'
import { ACTION_VERSION } from '../domain/action-version.js'
import { selectShard, type Shard } from '../domain/shard.js'
import { configDigest } from './config-digest.js'
import type {
  AttestationFinding,
  Config,
  CosignVersion,
  Digest,
  DigestFinding,
  ImageFindings,
  ImagePlan,
  ImageResult,
  RequirementFinding,
  RunResult,
  SignatureFinding
} from '../domain/types.js'

export interface PipelineOptions {
  workspace: string
  policyPath: string
  matrixPath: string
  /** The `repository` input: wins over the policy's `repository`. */
  repository?: string
  /** Restrict to these references (`repository:tag`). */
  images: string[]
  /** The `trusted-root` input: wins over the policy's `trusted_root`. */
  trustedRoot?: string
  concurrency: number
  now: Date
  /** The `cache` input: reuse verified results of earlier runs (default true). */
  cache?: boolean
  /** The `shard` input: check only this shard's images. */
  shard?: Shard
}

interface PipelineDependencies {
  loadConfig: LoadConfig
  registry: DigestSource
  prepareCosign: (use?: CosignUse) => Promise<CosignTools>
  /** The verification cache across runs; absent where there is no cache service (the CLI). */
  verdictCache?: VerdictCache
  /** SHA-256 (hex) of UTF-8 text, for the report's configuration digest. */
  sha256?: (text: string) => string
  /** Per-registry scheduling (`registry_concurrency`, throttling record). */
  schedule?: RegistrySchedule
  log?: (message: string) => void
}

/** Loaded configuration and plans, or the issues that stopped them. */
type PlanOutcome =
  { ok: true; config: Config; plans: ImagePlan[] } | { ok: false; issues: ConfigIssue[] }

export async function loadPlans(
  options: Omit<PipelineOptions, 'concurrency'>,
  loadConfig: LoadConfig
): Promise<PlanOutcome> {
  try {
    const config = await loadConfig({
      policyPath: options.policyPath,
      matrixPath: options.matrixPath,
      workspace: options.workspace,
      trustedRootInput: options.trustedRoot
    })
    const plans = planImages(config, {
      repositoryInput: options.repository,
      images: options.images.length > 0 ? options.images : undefined
    })
    if (options.trustedRoot) {
      for (const plan of plans) plan.policy.trustedRoot = options.trustedRoot
    }
    return { ok: true, config, plans }
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, issues: error.issues }
    throw error
  }
}

function skippedSignature(message: string): SignatureFinding {
  return { outcome: 'skipped', count: 0, tlogChecked: false, message }
}

/** Why no signature check can run on this image's pin, if none can. */
function reasonNotToVerify(plan: ImagePlan, digest: DigestFinding): string | undefined {
  if (plan.row.pin.kind !== 'pinned') return 'not checked: the row is not pinned to a digest'
  if (digest.status === 'unreachable')
    return `not checked: the registry could not be reached (${digest.cause ?? 'no cause given'})`
  if (digest.status === 'access-denied')
    return `not checked: the registry refused access (${digest.cause ?? 'no cause given'})`
  if (digest.pinnedExists === false)
    return `not checked: the pinned digest ${plan.row.pin.digest} does not exist in ${plan.repository}`
  return undefined
}

async function checkImage(
  plan: ImagePlan,
  deps: PipelineDependencies,
  cosign: () => Promise<CosignTools>,
  cache: CacheSession,
  now: Date
): Promise<ImageFindings> {
  let lookup: CacheLookup | undefined
  const errors: string[] = []
  const digest = await checkDigest(plan, deps.registry)
  if ((digest.status === 'unreachable' || digest.status === 'access-denied') && digest.cause)
    errors.push(digest.cause)
  const age = checkAge(plan.row.added, plan.policy.digestTtlDays, now)

  let signature: SignatureFinding
  let attestation: AttestationFinding
  let requirements: RequirementFinding[] | undefined
  // A pinned row that names no signer is recorded as such (nothing to check),
  // whatever the registry said of its digest: the digest finding carries that.
  const skipReason =
    hasSigner(plan) || plan.row.pin.kind !== 'pinned' ? reasonNotToVerify(plan, digest) : undefined
  if (skipReason !== undefined) {
    // A pin that cannot be checked is never reported as unsigned: when a
    // signature is required, the check could not complete.
    const outcome =
      digest.pinnedExists === false
        ? 'not-found'
        : digest.status === 'unreachable'
          ? 'transient'
          : digest.status === 'access-denied'
            ? 'registry-auth'
            : 'skipped'
    signature = { ...skippedSignature(skipReason), outcome }
    attestation = skippedAttestation(plan, skipReason)
  } else {
    const pinned = (plan.row.pin as { digest: Digest }).digest
    // A positive result of an earlier run under the same key skips cosign.
    lookup = hasSigner(plan) ? await cache.lookup(plan, pinned, now) : undefined
    if (lookup?.use === 'hit') {
      signature = lookup.signature
      attestation = lookup.attestation
      requirements = lookup.requirements
    } else {
      // cosign is prepared only when this image has a signer to check.
      // A pinned platform manifest of the index the tag points at: the index is
      // checked too when the manifest has no signature (see checkTrust).
      const index =
        digest.pinnedKind === 'platform-manifest' && digest.currentDigest !== undefined
          ? { digest: digest.currentDigest, platform: digest.pinnedPlatform }
          : undefined
      const trust = await checkTrust(
        plan,
        pinned,
        async () => (await cosign()).verifier,
        now,
        index
      )
      signature = trust.signature
      attestation = trust.attestation
      requirements = trust.requirements
      errors.push(...trust.errors)
      if (trust.errors.length === 0 && hasSigner(plan))
        cache.record(plan, pinned, { signature, attestation, requirements }, now)
    }
  }
  for (const finding of [signature, attestation]) {
    if (finding.message && !['verified', 'skipped'].includes(finding.outcome))
      errors.push(finding.message)
  }
  for (const requirement of requirements ?? []) {
    if (requirement.message && requirement.result !== 'met') errors.push(requirement.message)
  }
  const cacheUse = imageCacheUse(lookup)
  return {
    plan,
    digest,
    age,
    signature,
    attestation,
    ...(requirements && { requirements }),
    errors: [...new Set(errors)],
    ...(cacheUse && { cache: cacheUse })
  }
}

/**
 * The preferred row as `repository:tag@digest`, for `container:` in later
 * jobs, and why it was chosen: the best pinned row (choosePreferredRow).
 */
/** The preferred row as `repository:tag@digest` (for `container:` in later jobs), and why it. */
export function preferredReference(
  config: Config,
  plans: ImagePlan[]
): Pick<RunResult, 'preferredImage' | 'preferredReason'> {
  const preferred = choosePreferredRow(config.matrix, plans)
  if (!preferred || preferred.plan.row.pin.kind !== 'pinned')
    return plans.length > 0 ? { preferredReason: 'no row is pinned to a digest' } : {}
  return {
    preferredImage: `${preferred.plan.reference}@${preferred.plan.row.pin.digest}`,
    preferredReason: preferred.reason
  }
}

export async function verifyImages(
  options: PipelineOptions,
  deps: PipelineDependencies
): Promise<RunResult> {
  const startedAt = new Date().toISOString()
  const planned = await loadPlans(options, deps.loadConfig)
  if (!planned.ok) {
    const overall = summariseRun([], planned.issues)
    return {
      ...overall,
      images: [],
      ...(options.shard && { shard: options.shard }),
      configIssues: planned.issues,
      errors: [],
      startedAt,
      finishedAt: new Date().toISOString()
    }
  }

  deps.schedule?.setRegistryConcurrency(planned.config.policy.registryConcurrency)
  const plans = options.shard ? selectShard(planned.plans, options.shard) : planned.plans
  // cosign is prepared once, on first use, whichever image needs it first.
  let cosignTools: Promise<CosignTools> | undefined
  const cosign = (): Promise<CosignTools> =>
    (cosignTools ??= deps.prepareCosign({
      concurrency: options.concurrency,
      githubSubjects: gitHubApiSubjects(plans)
    }))

  const cache = openCacheSession(
    plans,
    {
      enabled: options.cache ?? true,
      ttlHours: planned.config.policy.cacheTtlHours,
      actionVersion: ACTION_VERSION,
      now: options.now,
      log: deps.log
    },
    deps.verdictCache
  )
  const results: ImageResult[] = await mapConcurrent(plans, options.concurrency, async plan => {
    const findings = await checkImage(plan, deps, cosign, cache, options.now)
    const decision = decideImage(findings)
    deps.log?.(`${plan.reference}: ${decision.trustStatus}, code ${decision.code}`)
    return { findings, decision }
  })

  const errors: string[] = []
  let cosignVersion: CosignVersion | undefined
  if (cosignTools) {
    try {
      cosignVersion = (await cosignTools).version
    } catch (error) {
      errors.push(`cosign could not be prepared: ${causeChain(error).join(': ')}`)
    }
  }
  const cacheStatus = await cache.finish()
  const throttles = deps.schedule?.throttles() ?? []
  const overall = summariseRun(results.map(result => result.decision))
  const warnings = configWarnings(planned.config)
  return {
    ...overall,
    images: results,
    // Of the whole matrix, so that every shard names the same one.
    ...preferredReference(planned.config, planned.plans),
    ...(options.shard && { shard: options.shard }),
    ...(deps.sha256 && {
      configDigest: configDigest(planned.config, planned.plans, ACTION_VERSION, deps.sha256)
    }),
    configIssues: [],
    ...(warnings.length > 0 && { configWarnings: warnings }),
    errors,
    cosign: cosignVersion,
    cache: cacheStatus,
    ...(throttles.length > 0 && { throttles }),
    autoUpdate:
      planned.config.policy.mode === 'auto_update'
        ? { workflow: planned.config.policy.workflow, ref: planned.config.policy.autoUpdateRef }
        : undefined,
    startedAt,
    finishedAt: new Date().toISOString()
  }
}
