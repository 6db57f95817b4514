/**
 * Discovery of new ROCm image tags, pure: parse tags against the matrix's tag
 * template, order versions numerically (6.10 > 6.9, 6.5.0-rc1 < 6.5.0), and
 * keep the tags newer than what the matrix already has for one OS.
 *
 * The template names the tag: `{version}-{os}` (Clamp's
 * `ghcr.io/rocm/dev:6.4.4-ubuntu-22.04`) or `{version}` when the OS is in the
 * repository (Docker Hub's `rocm/dev-ubuntu-22.04:6.4.4`).
 */
import { expandTemplate } from './reference.js'

/** A version as ROCm tags write it: dotted numbers, optionally a pre-release. */
export interface Version {
  /** As written, e.g. `6.5.0-rc1`. */
  text: string
  /** `[6, 5, 0]` */
  numbers: number[]
  /** Pre-release identifiers (`rc1` → `['rc', 1]`); empty for a release. */
  preRelease: (string | number)[]
}

export interface DiscoveredTag {
  tag: string
  version: Version
}

/** Dotted numbers, then an optional pre-release that starts with a letter. */
const VERSION_PATTERN = /^(\d+(?:\.\d+)*)(?:[-.~]?([A-Za-z][0-9A-Za-z.-]*))?$/
const VERSION_PLACEHOLDER = '{version}'
/** Numbers past this many digits are not versions (and would lose precision). */
const MAX_NUMBER_DIGITS = 9

export function parseVersion(text: string): Version | undefined {
  const match = VERSION_PATTERN.exec(text)
  if (!match) return undefined
  const parts = match[1].split('.')
  if (parts.some(part => part.length > MAX_NUMBER_DIGITS)) return undefined
  const numbers = parts.map(Number)
  const preRelease = match[2] ? splitPreRelease(match[2]) : []
  return { text, numbers, preRelease }
}

/** `rc.10` / `rc10` → `['rc', 10]`: letters and digits apart, numbers numeric. */
function splitPreRelease(text: string): (string | number)[] {
  const identifiers: (string | number)[] = []
  for (const piece of text.split(/[.-]/)) {
    for (const run of piece.match(/\d+|[A-Za-z]+/g) ?? []) {
      identifiers.push(/^\d+$/.test(run) ? Number(run) : run.toLowerCase())
    }
  }
  return identifiers
}

/**
 * Negative when `a` is older than `b`, positive when newer, 0 when equal.
 * Numbers compare numerically with missing parts as 0 (6.4 = 6.4.0); a
 * pre-release is older than its release; pre-release identifiers compare as
 * in SemVer (numbers below words, numbers numerically).
 */
export function compareVersions(a: Version, b: Version): number {
  const length = Math.max(a.numbers.length, b.numbers.length)
  for (let i = 0; i < length; i++) {
    const difference = (a.numbers[i] ?? 0) - (b.numbers[i] ?? 0)
    if (difference !== 0) return Math.sign(difference)
  }
  if (a.preRelease.length === 0 || b.preRelease.length === 0) {
    return Math.sign(b.preRelease.length - a.preRelease.length)
  }
  const identifiers = Math.max(a.preRelease.length, b.preRelease.length)
  for (let i = 0; i < identifiers; i++) {
    const x = a.preRelease[i]
    const y = b.preRelease[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    if (x === y) continue
    if (typeof x === 'number' && typeof y === 'number') return Math.sign(x - y)
    if (typeof x === 'number') return -1
    if (typeof y === 'number') return 1
    return x < y ? -1 : 1
  }
  return 0
}

/**
 * `compareVersions` on versions as written (matrix rows' `version`): both
 * parsed when they can be; otherwise a numeric-aware text comparison, so the
 * order is total. The one version order of the project: the preferred row and
 * tag discovery agree on which version is newest.
 */
export function compareVersionText(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)]
  if (x && y) return compareVersions(x, y)
  return Math.sign(a.localeCompare(b, 'en', { numeric: true }))
}

/** The tag a template gives for one version and OS. */
export function renderTag(template: string, version: string, os: string): string {
  return expandTemplate(template, { version, os })
}

/** Whether a template can be read back into a version (it names `{version}` once). */
export function isDiscoverableTemplate(template: string): boolean {
  return template.split(VERSION_PLACEHOLDER).length === 2
}

/**
 * The version a tag names under `template` for `os`, or undefined when the
 * tag does not fit (another OS, a suffix such as `-complete`, `latest`, …).
 */
export function parseTag(tag: string, template: string, os: string): Version | undefined {
  if (!isDiscoverableTemplate(template)) return undefined
  const [before, after] = template.split(VERSION_PLACEHOLDER).map(part => renderTag(part, '', os))
  if (tag.length <= before.length + after.length) return undefined
  if (!tag.startsWith(before) || !tag.endsWith(after)) return undefined
  return parseVersion(tag.slice(before.length, tag.length - after.length))
}

/**
 * The tags of one repository that fit `template` for `os` and are newer than
 * every version in `knownVersions`, oldest first. Pre-releases are kept only
 * when the matrix already tracks one for this OS (a team that pins release
 * candidates wants the next; one that pins releases does not).
 */
export function selectNewTags(input: {
  tags: readonly string[]
  template: string
  os: string
  knownVersions: readonly string[]
}): DiscoveredTag[] {
  const known = input.knownVersions
    .map(parseVersion)
    .filter((version): version is Version => version !== undefined)
  if (known.length === 0) return []
  const newest = known.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b))
  const tracksPreReleases = known.some(version => version.preRelease.length > 0)
  const byVersion = new Map<string, DiscoveredTag>()
  for (const tag of input.tags) {
    const version = parseTag(tag, input.template, input.os)
    if (!version) continue
    if (version.preRelease.length > 0 && !tracksPreReleases) continue
    if (compareVersions(version, newest) <= 0) continue
    if ([...byVersion.values()].some(seen => compareVersions(seen.version, version) === 0)) continue
    byVersion.set(version.text, { tag, version })
  }
  return [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version))
}
