/**
 * Config → one ImagePlan per matrix row, pure: the full reference of each image,
 * the policy that applies to it (policy, then the most specific override, then the
 * row's own settings, each source recorded) and the signer it must carry.
 */
import { ConfigError, formatLocation, type ConfigIssue } from './errors.js'
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
  type PolicyOverride,
  type SignerExpectation
} from './types.js'

export interface PlanOptions {
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

/**
 * Compares versions: dotted parts numerically where they are numbers (`6.10` >
 * `6.9`), and a pre-release (`7.0.0-rc1`) before its release.
 */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitPrerelease(a)
  const [coreB = '', preB] = splitPrerelease(b)
  const left = coreA.split('.')
  const right = coreB.split('.')
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const x = left[i] ?? '0'
    const y = right[i] ?? '0'
    const difference =
      /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y)
    if (difference !== 0) return Math.sign(difference)
  }
  if (preA === preB) return 0
  if (preA === undefined) return 1
  if (preB === undefined) return -1
  return Math.sign(preA.localeCompare(preB, 'en', { numeric: true }))
}

function splitPrerelease(version: string): [string, string | undefined] {
  const dash = version.indexOf('-')
  return dash === -1 ? [version, undefined] : [version.slice(0, dash), version.slice(dash + 1)]
}

/** The row chosen for the `image` output, and why, in words for the summary. */
export interface PreferredChoice {
  plan: ImagePlan
  reason: string
}

/**
 * The plan CI should use (the `image` output), by `rocm.policy`: the wanted
 * version (`default`'s, else the newest) on `prefer_os`, then the `default` row,
 * then the wanted version on `fallback_os`, then `fallback_version` on those OSes
 * or any, then any row of the wanted version. Without `rocm.policy`: the plans in
 * matrix order. The first candidate that is pinned to a digest wins (a row still
 * holding a placeholder cannot be pulled by digest); `reason` says which rule
 * chose it and which preferred rows were passed over as not pinned. Undefined
 * when no plan is pinned.
 */
export function choosePreferredRow(
  matrix: Matrix,
  plans: ImagePlan[]
): PreferredChoice | undefined {
  const preference = matrix.preference
  const candidates: { plan: ImagePlan | undefined; rule: string }[] = []
  if (preference) {
    const find = (version: string | undefined, os: string | undefined): ImagePlan | undefined =>
      version === undefined
        ? undefined
        : plans.find(p => p.row.version === version && (os === undefined || p.row.os === os))
    const newest = plans.map(p => p.row.version).sort((a, b) => compareVersions(b, a))[0]
    const [defaultVersion, defaultOs] = preference.default ?? [undefined, undefined]
    const version = defaultVersion ?? newest
    const { preferOs, fallbackOs, fallbackVersion } = preference
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
  }
  for (const plan of plans) candidates.push({ plan, rule: 'matrix order' })
  const passedOver: string[] = []
  for (const { plan, rule } of candidates) {
    if (!plan) continue
    const name = `${plan.row.version} / ${plan.row.os}`
    if (plan.row.pin.kind === 'pinned') {
      const by = preference ? `chosen by ${rule}` : 'the first pinned row (no rocm.policy)'
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
  const preference = matrix.preference
  if (!preference || plans.length === 0) return plans[0]
  const find = (version: string | undefined, os: string | undefined): ImagePlan | undefined =>
    version === undefined
      ? undefined
      : plans.find(p => p.row.version === version && (os === undefined || p.row.os === os))
  const newest = plans.map(p => p.row.version).sort((a, b) => compareVersions(b, a))[0]
  const [defaultVersion, defaultOs] = preference.default ?? [undefined, undefined]
  const version = defaultVersion ?? newest
  const { preferOs, fallbackOs, fallbackVersion } = preference
  return (
    (preferOs !== undefined ? find(version, preferOs) : undefined) ??
    (defaultOs !== undefined ? find(defaultVersion, defaultOs) : undefined) ??
    (fallbackOs !== undefined ? find(version, fallbackOs) : undefined) ??
    (preferOs !== undefined ? find(fallbackVersion, preferOs) : undefined) ??
    (fallbackOs !== undefined ? find(fallbackVersion, fallbackOs) : undefined) ??
    find(fallbackVersion, undefined) ??
    find(version, undefined) ??
    plans[0]
  )
}
