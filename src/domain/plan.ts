/**
 * Config → one ImagePlan per matrix row, pure: the full reference of each image,
 * the policy that applies to it (policy, then the most specific override, then the
 * row's own settings, each source recorded) and the signer it must carry.
 */
import { timeFieldFor } from './attestations.js'
import { ConfigError, formatLocation, type ConfigIssue, type SourceLocation } from './errors.js'
import { compareVersionText } from './versions.js'
import {
  expandTemplate,
  findRepositoryProblem,
  findTagProblem,
  findTemplateProblem,
  parseImageReference,
  showControlCharacters,
  splitRepository
} from './reference.js'
import {
  DEFAULT_REPOSITORY,
  type Config,
  type EffectivePolicy,
  type ImagePlan,
  type Matrix,
  type MatrixRow,
  type NamedSigner,
  type PlannedRequirement,
  type PolicyOverride,
  type SignerExpectation,
  type SignerNames,
  UNNAMED_SIGNER
} from './types.js'

interface PlanOptions {
  /** The action's `repository` input; undefined when empty. */
  repositoryInput?: string
  /** Only plan these `repository:tag` references. */
  images?: string[]
}

/** Whether `text` matches `glob` (`*` any run of characters, `?` one); linear, no RegExp. */
export function matchesGlob(glob: string, text: string): boolean {
  let g = 0
  let t = 0
  let starGlob = -1
  let starText = 0
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === text[t]))) {
      g += 1
      t += 1
    } else if (g < glob.length && glob[g] === '*') {
      starGlob = g
      starText = t
      g += 1
    } else if (starGlob !== -1) {
      g = starGlob + 1
      starText += 1
      t = starText
    } else return false
  }
  while (glob[g] === '*') g += 1
  return g === glob.length
}

/** How specific a glob is: its number of literal characters. */
export function globSpecificity(glob: string): number {
  return glob.replace(/[*?]/g, '').length
}

/** The most specific override matching `reference`; the earliest wins a tie. */
export function findOverride(
  overrides: readonly PolicyOverride[],
  reference: string
): PolicyOverride | undefined {
  let best: PolicyOverride | undefined
  for (const override of overrides) {
    if (!matchesGlob(override.match, reference)) continue
    if (!best || globSpecificity(override.match) > globSpecificity(best.match)) best = override
  }
  return best
}

function rowName(row: MatrixRow): string {
  const where = row.location ? ` at ${formatLocation(row.location)}` : ''
  return `row ${row.index + 1} (${row.version} ${row.os})${where}`
}

function resolvePolicy(config: Config, row: MatrixRow, reference: string): EffectivePolicy {
  const { policy } = config
  const sources: string[] = []
  const fromPolicy = (key: string, value: unknown): void => {
    const location = policy.locations[key]
    if (location) sources.push(`${key}=${String(value)} (policy ${formatLocation(location)})`)
  }
  const fromOverride = (key: string, value: unknown, override: PolicyOverride): void => {
    const where = override.location ? ` at ${formatLocation(override.location)}` : ''
    sources.push(`${key}=${String(value)} (override "${override.match}"${where})`)
  }
  const fromRow = (key: string, value: unknown): void => {
    const location = row.provenance?.locations?.[key] ?? row.location
    sources.push(
      `${key}=${String(value)} (matrix row ${location ? formatLocation(location) : row.index + 1})`
    )
  }

  const override = findOverride(policy.overrides, reference)
  const provenance = row.provenance ?? {}
  const effective: EffectivePolicy = {
    mode: policy.mode,
    digestTtlDays: policy.digestTtlDays,
    requireSignature: policy.requireSignature,
    attestMode: policy.attestMode,
    attestationType: policy.attestationType,
    ignoreTlog: policy.ignoreTlog,
    sources
  }
  fromPolicy('mode', policy.mode)

  if (override?.digestTtlDays !== undefined) {
    effective.digestTtlDays = override.digestTtlDays
    fromOverride('digest_ttl', override.digestTtlDays, override)
  } else fromPolicy('digest_ttl', policy.digestTtlDays)

  if (provenance.requireSignature !== undefined) {
    effective.requireSignature = provenance.requireSignature
    fromRow('require_signature', provenance.requireSignature)
  } else if (override?.requireSignature !== undefined) {
    effective.requireSignature = override.requireSignature
    fromOverride('require_signature', override.requireSignature, override)
  } else fromPolicy('require_signature', policy.requireSignature)

  if (override?.attestMode !== undefined) {
    effective.attestMode = override.attestMode
    fromOverride('attest_mode', override.attestMode, override)
  } else fromPolicy('attest_mode', policy.attestMode)

  if (provenance.attestationType !== undefined) {
    effective.attestationType = provenance.attestationType
    fromRow('attestation_type', provenance.attestationType)
  } else fromPolicy('attestation_type', policy.attestationType)

  if (provenance.ignoreTlog !== undefined) {
    effective.ignoreTlog = provenance.ignoreTlog
    fromRow('ignore_tlog', provenance.ignoreTlog)
  } else fromPolicy('ignore_tlog', policy.ignoreTlog)

  if (policy.trustedRoot !== undefined) {
    effective.trustedRoot = policy.trustedRoot
    fromPolicy('trusted_root', policy.trustedRoot)
  }
  if (override) effective.override = override.match
  return effective
}

function signerOf(row: MatrixRow): SignerExpectation | undefined {
  const p = row.provenance
  if (p?.keyPath !== undefined) {
    return {
      kind: 'key',
      keyPath: p.keyPath,
      ...(p.keyFingerprint !== undefined && { keyFingerprint: p.keyFingerprint }),
      ...(p.validFrom !== undefined && { validFrom: p.validFrom }),
      ...(p.validUntil !== undefined && { validUntil: p.validUntil })
    }
  }
  if (p?.identity !== undefined && p.issuer !== undefined) {
    return {
      kind: 'keyless',
      identity: p.identity,
      issuer: p.issuer,
      issuerIsRegexp: p.issuerIsRegexp ?? false
    }
  }
  return undefined
}

/** The trust part of a plan: signers, threshold, model, requirements; or the issues in the way. */
interface TrustPlan {
  signers: NamedSigner[]
  threshold: number
  trustModel: 'row-signer' | 'signers'
  requirements: PlannedRequirement[]
  issues: ConfigIssue[]
}

/**
 * Who must have signed the image and how many of them (issue 18): the row's
 * `trusted_signers` (else the override's, else the policy's) plus the row's own
 * unnamed signer, named `provenance`; the most specific `threshold` (default
 * 1); and the attestation requirements (the `attestations` list, else
 * `attestation_type` as one requirement with no conditions), each signed by
 * its own `signers` or, by default, the image's trusted signers.
 */
function planTrust(
  config: Config,
  row: MatrixRow,
  override: PolicyOverride | undefined,
  attestationType: string
): TrustPlan {
  const { policy } = config
  const defined = policy.signers ?? {}
  const issues: ConfigIssue[] = []
  const resolve = (names: SignerNames | undefined): NamedSigner[] =>
    (names?.names ?? []).flatMap((name, i) => {
      const signer = defined[name]
      if (signer) return [signer]
      issues.push({
        code: 'unknown-signer',
        message: `${rowName(row)}: signer \`${name}\` is not defined under policy.signers`,
        ...((names?.locations[i] ?? names?.location) && {
          location: names?.locations[i] ?? names?.location
        })
      })
      return []
    })
  const trusted =
    row.provenance?.trustedSigners ?? override?.trustedSigners ?? policy.trustedSigners
  const named = row.provenance?.trustedSigners
    ? resolve(trusted)
    : // Names of the policy and overrides were checked when the policy was read.
      (trusted?.names ?? []).flatMap(name => (defined[name] ? [defined[name]] : []))
  const unnamed = signerOf(row)
  const signers: NamedSigner[] = unique([
    ...named,
    ...(unnamed ? [{ ...unnamed, name: UNNAMED_SIGNER }] : [])
  ])

  const [threshold, thresholdLocation]: [number, SourceLocation | undefined] =
    row.provenance?.threshold !== undefined
      ? [row.provenance.threshold, row.provenance.locations?.threshold ?? row.location]
      : override?.threshold !== undefined
        ? [override.threshold, override.thresholdLocation ?? override.location]
        : policy.threshold !== undefined
          ? [policy.threshold, policy.locations.threshold]
          : [1, undefined]
  if (threshold > 1 && threshold > signers.length) {
    const listed = signers.map(s => s.name).join(', ') || 'none'
    issues.push({
      code: 'threshold-unreachable',
      message: `${rowName(row)}: threshold ${threshold} is above the ${signers.length} signer${signers.length === 1 ? '' : 's'} it can count (${listed})`,
      ...(thresholdLocation && { location: thresholdLocation })
    })
  }

  const requirements: PlannedRequirement[] = policy.attestations
    ? policy.attestations.map(requirement => {
        const timeField = timeFieldFor(requirement.type, requirement.timeField)
        return {
          type: requirement.type,
          signers: requirement.signers
            ? requirement.signers.names.flatMap(name => (defined[name] ? [defined[name]] : []))
            : signers,
          where: requirement.where,
          ...(requirement.maxAgeDays !== undefined && { maxAgeDays: requirement.maxAgeDays }),
          ...(timeField !== undefined && { timeField })
        }
      })
    : [{ type: attestationType, signers, where: [] }]
  const trustModel =
    named.length > 0 || policy.attestations !== undefined || (trusted?.names.length ?? 0) > 0
      ? 'signers'
      : 'row-signer'
  return { signers, threshold, trustModel, requirements, issues }
}

/** Signers by name, the first of each name kept. */
function unique(signers: NamedSigner[]): NamedSigner[] {
  const seen = new Set<string>()
  return signers.filter(signer => !seen.has(signer.name) && seen.add(signer.name))
}

/**
 * Both files' warnings (problems that do not stop the run), the policy's
 * first, and `unused-override`: an override no image of the matrix takes (its
 * glob matches no `repository:tag`, or a more specific override wins for each
 * it matches) — a `threshold: 2` on a mistyped glob would silently not apply.
 */
export function configWarnings(config: Config): ConfigIssue[] {
  const warnings = [...(config.policy.warnings ?? []), ...(config.matrix.warnings ?? [])]
  let references: string[]
  try {
    references = planImages(config, {}).map(plan => plan.reference)
  } catch {
    return warnings // a matrix that cannot be planned has errors, reported as such
  }
  const taken = new Set(
    references.map(reference => findOverride(config.policy.overrides, reference))
  )
  for (const override of config.policy.overrides) {
    if (taken.has(override)) continue
    warnings.push({
      code: 'unused-override',
      message: `override "${override.match}" applies to no image: no row's repository:tag matches it${references.some(reference => matchesGlob(override.match, reference)) ? ' that a more specific override does not take' : ''}`,
      ...(override.location && { location: override.location })
    })
  }
  return warnings
}

/**
 * One plan per matrix row (restricted to `options.images` when given). Throws a
 * ConfigError listing every row whose reference is unusable, every duplicate and
 * every listed image that matches no row.
 */
export function planImages(config: Config, options: PlanOptions): ImagePlan[] {
  const issues: ConfigIssue[] = []
  const plans: ImagePlan[] = []
  const { policy } = config
  const byReference = new Map<string, MatrixRow>()
  const reported = new Set<string>()

  for (const row of config.matrix.rows) {
    const values = { version: row.version, os: row.os }
    const [repositoryTemplate, repositorySource] =
      row.repository !== undefined
        ? [row.repository, 'the row']
        : options.repositoryInput !== undefined
          ? [options.repositoryInput, 'the `repository` input']
          : policy.repository !== undefined
            ? [policy.repository, 'the policy']
            : [DEFAULT_REPOSITORY, 'the default']
    const [tagTemplate, tagSource] =
      row.tag !== undefined
        ? [row.tag, 'the row']
        : [policy.tagTemplate, 'the policy `tag_template`']

    const repository = expandTemplate(repositoryTemplate, values)
    const tag = expandTemplate(tagTemplate, values)
    const repositoryProblem =
      findTemplateProblem(repositoryTemplate) ?? findRepositoryProblem(repository)
    const tagProblem = findTemplateProblem(tagTemplate) ?? findTagProblem(tag)
    if (repositoryProblem) {
      issues.push({
        code: 'bad-reference',
        message: `${rowName(row)}: repository \`${repository}\` (from ${repositorySource}) ${repositoryProblem}`,
        ...(row.location && { location: row.location })
      })
    }
    if (tagProblem) {
      issues.push({
        code: 'bad-reference',
        message: `${rowName(row)}: tag \`${tag}\` (from ${tagSource}) ${tagProblem}`,
        ...(row.location && { location: row.location })
      })
    }
    if (repositoryProblem || tagProblem) continue

    const { registry, path } = splitRepository(repository)
    const canonicalRepository = `${registry}/${path}`
    const reference = `${canonicalRepository}:${tag}`
    const earlier = byReference.get(reference)
    // The OS-keyed form may name one image under two OS labels on purpose (an
    // OS reusing another's build): the image is planned once, not refused.
    if (earlier && config.matrix.form === 'os-map') continue
    if (earlier) {
      issues.push({
        code: 'duplicate-row',
        message: `${rowName(row)}: \`${reference}\` is already planned by ${rowName(earlier)}`,
        ...(row.location && { location: row.location })
      })
      continue
    }
    byReference.set(reference, row)
    const plan: ImagePlan = {
      row,
      registry,
      repositoryPath: path,
      repository: canonicalRepository,
      tag,
      reference,
      policy: resolvePolicy(config, row, reference)
    }
    const signer = signerOf(row)
    if (signer) plan.signer = signer
    const trust = planTrust(
      config,
      row,
      findOverride(policy.overrides, reference),
      plan.policy.attestationType
    )
    for (const issue of trust.issues) {
      // A policy-wide threshold too high for many rows is one mistake, reported once.
      const where = formatLocation(issue.location)
      if (issue.code === 'threshold-unreachable' && where && reported.has(where)) continue
      if (where) reported.add(where)
      issues.push(issue)
    }
    plan.signers = trust.signers
    plan.threshold = trust.threshold
    plan.trustModel = trust.trustModel
    plan.requirements = trust.requirements
    plans.push(plan)
  }

  let selected = plans
  if (options.images !== undefined) {
    const wanted = new Set<string>()
    for (const listed of options.images) {
      const parsed = parseImageReference(listed)
      if ('problem' in parsed || parsed.tag === undefined || parsed.digest !== undefined) {
        const why = 'problem' in parsed ? parsed.problem : 'expected `repository:tag`'
        issues.push({ code: 'bad-image-filter', message: `listed image \`${listed}\`: ${why}` })
        continue
      }
      const { registry, path } = splitRepository(parsed.repository)
      const reference = `${registry}/${path}:${parsed.tag}`
      if (!byReference.has(reference)) {
        issues.push({
          code: 'unknown-image',
          message: `listed image \`${listed}\` (${reference}) matches no row of ${config.matrixPath}`
        })
      }
      wanted.add(reference)
    }
    selected = plans.filter(plan => wanted.has(plan.reference))
  }

  if (issues.length > 0) {
    throw new ConfigError(issues.map(i => ({ ...i, message: showControlCharacters(i.message) })))
  }
  return selected
}

/** The row chosen for the `image` output, and why, in words for the summary. */
interface PreferredChoice {
  plan: ImagePlan
  reason: string
}

/**
 * The rows `rocm.policy` prefers, in its order, each with the rule that names
 * it: the wanted version (`default`'s, else the newest) on `prefer_os`, then the
 * `default` row, then the wanted version on `fallback_os`, then
 * `fallback_version` on those OSes or any, then any row of the wanted version.
 * Empty without `rocm.policy`. The one home of the preference order.
 */
function preferredCandidates(
  matrix: Matrix,
  plans: ImagePlan[]
): { plan: ImagePlan; rule: string }[] {
  const preference = matrix.preference
  if (!preference) return []
  const find = (version: string | undefined, os: string | undefined): ImagePlan | undefined =>
    version === undefined
      ? undefined
      : plans.find(p => p.row.version === version && (os === undefined || p.row.os === os))
  const newest = plans.map(p => p.row.version).sort((a, b) => compareVersionText(b, a))[0]
  const [defaultVersion, defaultOs] = preference.default ?? [undefined, undefined]
  const version = defaultVersion ?? newest
  const { preferOs, fallbackOs, fallbackVersion } = preference
  const candidates: { plan: ImagePlan; rule: string }[] = []
  const add = (plan: ImagePlan | undefined, rule: string): void => {
    if (plan) candidates.push({ plan, rule })
  }
  if (preferOs !== undefined) add(find(version, preferOs), `prefer_os ${preferOs}`)
  if (defaultOs !== undefined) add(find(defaultVersion, defaultOs), '`default`')
  if (fallbackOs !== undefined) add(find(version, fallbackOs), `fallback_os ${fallbackOs}`)
  if (preferOs !== undefined)
    add(find(fallbackVersion, preferOs), `fallback_version ${fallbackVersion} on prefer_os`)
  if (fallbackOs !== undefined)
    add(find(fallbackVersion, fallbackOs), `fallback_version ${fallbackVersion} on fallback_os`)
  add(find(fallbackVersion, undefined), `fallback_version ${fallbackVersion}`)
  add(find(version, undefined), `version ${version}`)
  return candidates
}

/**
 * The plan CI should use (the `image` output): the first of the rows
 * `rocm.policy` prefers (preferredCandidates), then the plans in matrix order,
 * that is pinned to a digest (a row still holding a placeholder cannot be
 * pulled by digest); `reason` says which rule chose it and which preferred
 * rows were passed over as not pinned. Undefined when no plan is pinned.
 */
export function choosePreferredRow(
  matrix: Matrix,
  plans: ImagePlan[]
): PreferredChoice | undefined {
  const candidates = [
    ...preferredCandidates(matrix, plans),
    ...plans.map(plan => ({ plan, rule: 'matrix order' }))
  ]
  const passedOver: string[] = []
  for (const { plan, rule } of candidates) {
    const name = `${plan.row.version} / ${plan.row.os}`
    if (plan.row.pin.kind === 'pinned') {
      const by = matrix.preference ? `chosen by ${rule}` : 'the first pinned row (no rocm.policy)'
      const skipped =
        passedOver.length > 0 ? `; passed over as not pinned: ${passedOver.join(', ')}` : ''
      return { plan, reason: `${name}, ${by}${skipped}` }
    }
    if (!passedOver.some(entry => entry.startsWith(`${name} (`)))
      passedOver.push(`${name} (${rule})`)
  }
  return undefined
}

/** The preferred plan when its row is pinned (see `choosePreferredRow`), else the first candidate. */
export function choosePreferredPlan(matrix: Matrix, plans: ImagePlan[]): ImagePlan | undefined {
  return choosePreferredRow(matrix, plans)?.plan ?? legacyChoice(matrix, plans)
}

/** The rule without the pinned requirement, for a matrix with no pinned row at all. */
function legacyChoice(matrix: Matrix, plans: ImagePlan[]): ImagePlan | undefined {
  return preferredCandidates(matrix, plans)[0]?.plan ?? plans[0]
}
