/**
 * Image references, tags and digests: validation and splitting, pure.
 *
 * Every value that ends up on a command line (`cosign verify <repo>@<digest>`) or
 * in a registry URL passes through here first. Anything that could be read as a
 * flag, or holds whitespace or control characters, is refused with a reason. The
 * grammar is the one of distribution/reference (Docker's), and single-component
 * names are expanded the Docker way (`ubuntu` → `docker.io/library/ubuntu`).
 */
import type { Digest, Pin } from './types.js'

/**
 * Docker Hub, the one home of its names: the registry as images name it, the
 * host its API is served from, the key Docker and go-containerregistry (cosign)
 * file its credentials under in `config.json`, and every alias of it.
 */
export const DOCKER_HUB = 'docker.io'
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io'
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/'
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  DOCKER_HUB,
  'index.docker.io',
  DOCKER_HUB_API_HOST
])

/**
 * The registry a Docker config key, credential-helper key or image host names,
 * in the form the client asks for: no scheme, no path, lowercase; Docker Hub's
 * aliases (`https://index.docker.io/v1/`, `registry-1.docker.io`, …) become
 * `docker.io`.
 */
export function normalizeRegistryHost(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase()
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host
}
/** Longest repository name (`registry/path`) a registry accepts. */
const MAX_REPOSITORY_LENGTH = 255
export const MAX_TAG_LENGTH = 128

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/
const SHA256_HEX = /^[0-9a-fA-F]{64}$/

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*'
const DOMAIN_PATTERN = new RegExp(`^${DOMAIN}$`)
const PATH_PATTERN = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)
const TAG_PATTERN = /^[\w][\w.-]*$/
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/ // eslint-disable-line no-control-regex
const WHITESPACE = /\s/

export function isDigest(value: string): value is Digest {
  return SHA256_DIGEST.test(value)
}

/**
 * A digest as written in a matrix: `sha256:<64 hex>` is a pin (hex lower-cased);
 * anything else (`sha256:TODO_…`, empty, another algorithm, wrong length) is a
 * placeholder and the row is not pinned yet.
 */
export function parsePin(raw: string): Pin {
  const trimmed = raw.trim()
  const lowered = trimmed.toLowerCase()
  if (lowered.startsWith('sha256:') && SHA256_HEX.test(trimmed.slice('sha256:'.length))) {
    return { kind: 'pinned', digest: lowered as Digest }
  }
  const note = malformedPinNote(trimmed)
  return note === undefined ? { kind: 'not-pinned', raw } : { kind: 'not-pinned', raw, note }
}

/**
 * Why a written `digest` that is not a pin is a mistake rather than a
 * placeholder, or undefined for a placeholder (empty, `TODO` in any case, or
 * `sha256:` and text that is not hex, as teams write `sha256:PENDING`).
 */
function malformedPinNote(text: string): string | undefined {
  if (text === '' || /todo/i.test(text)) return undefined
  if (/@sha256:/i.test(text))
    return 'a reference with a digest: write the digest alone, sha256:<64 hex>'
  const sha = /^sha256:(.*)$/i.exec(text)
  if (sha)
    return /^[0-9a-f]+$/i.test(sha[1])
      ? `sha256: and ${sha[1].length} hex characters, not 64`
      : undefined
  const algorithm = /^([a-z0-9]+):[0-9a-f]+$/i.exec(text)
  if (algorithm) return `a ${algorithm[1]} digest: only sha256 digests pin an image`
  if (SHA256_HEX.test(text)) return '64 hex characters without the `sha256:` prefix'
  return 'not a digest (a tag?): write the digest the tag points at, sha256:<64 hex>'
}

/**
 * `text` with every control character written as an escape (`\\n`, `\\u001b`), so
 * a message quoting a hostile value cannot move a terminal's cursor or start a
 * new log line (a workflow command).
 */
export function showControlCharacters(text: string): string {
  return text.replace(new RegExp(CONTROL_CHARACTER.source, 'g'), character => {
    if (character === '\n') return '\\n'
    if (character === '\t') return '\\t'
    if (character === '\r') return '\\r'
    return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}

/**
 * Text from a file, a registry or a tool made safe to print to a terminal or
 * a GitHub Actions log: the one escaping for every line the CLI prints and the
 * action logs. Line breaks stay (`\n`); every other control character (ESC,
 * BEL, CR, C1 controls, U+2028/9) is shown as an escape, and a line that would
 * start with `::` (after blanks: the runner trims them) — a workflow command —
 * has its first colon shown as `\u003a`.
 */
export function terminalSafe(text: string): string {
  return text
    .split('\n')
    .map(line => showControlCharacters(line).replace(/^(\s*):(?=:)/, '$1\\u003a'))
    .join('\n')
}

/** Why a value may not be put on a command line or into a URL, or undefined. */
export function findUnsafeText(value: string): string | undefined {
  if (value === '') return 'is empty'
  if (value.startsWith('-'))
    return 'starts with `-`, so a tool could read it as a command-line flag'
  const control = CONTROL_CHARACTER.exec(value)
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')
    return `contains a control character (U+${code})`
  }
  if (WHITESPACE.test(value)) return 'contains whitespace'
  return undefined
}

/** `registry/path` split the Docker way, for a repository known to be valid. */
export function splitRepository(repository: string): { registry: string; path: string } {
  const slash = repository.indexOf('/')
  const first = slash === -1 ? '' : repository.slice(0, slash)
  const firstIsRegistry =
    first !== '' &&
    (first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase())
  let registry = firstIsRegistry ? first : DOCKER_HUB
  let path = firstIsRegistry ? repository.slice(slash + 1) : repository
  if (DOCKER_HUB_ALIASES.has(registry)) registry = DOCKER_HUB
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`
  return { registry, path }
}

/** Why `repository` (no tag, no digest) is not a usable repository name, or undefined. */
export function findRepositoryProblem(repository: string): string | undefined {
  const unsafe = findUnsafeText(repository)
  if (unsafe) return unsafe
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    return `is longer than ${MAX_REPOSITORY_LENGTH} characters`
  }
  if (repository.includes('@')) return 'holds a digest (`@…`); a repository names no digest'
  const lastSlash = repository.lastIndexOf('/')
  if (repository.slice(lastSlash + 1).includes(':')) {
    return 'holds a tag (`:…`); write the tag separately'
  }
  const { registry, path } = splitRepository(repository)
  if (!DOMAIN_PATTERN.test(registry)) return `has an invalid registry host \`${registry}\``
  if (!PATH_PATTERN.test(path)) {
    return 'is not a valid repository path: expected lowercase letters and digits separated by `/`, `.`, `_`, `__` or `-`'
  }
  return undefined
}

/** Why `tag` is not a usable tag, or undefined. */
export function findTagProblem(tag: string): string | undefined {
  const unsafe = findUnsafeText(tag)
  if (unsafe) return unsafe
  if (tag.length > MAX_TAG_LENGTH) return `is longer than ${MAX_TAG_LENGTH} characters`
  if (!TAG_PATTERN.test(tag)) {
    return 'is not a valid tag: expected letters, digits, `_`, `.` and `-`, not starting with `.`'
  }
  return undefined
}

interface ImageReference {
  repository: string
  tag?: string
  /** The `@sha256:…` part, as written (not checked: see parsePin). */
  digest?: string
}

/** `repository[:tag][@digest]`, split and checked; a problem text when it is not usable. */
export function parseImageReference(value: string): ImageReference | { problem: string } {
  const unsafe = findUnsafeText(value)
  if (unsafe) return { problem: unsafe }
  const at = value.indexOf('@')
  const digest = at === -1 ? undefined : value.slice(at + 1)
  const named = at === -1 ? value : value.slice(0, at)
  const lastSlash = named.lastIndexOf('/')
  const colon = named.indexOf(':', lastSlash + 1)
  const repository = colon === -1 ? named : named.slice(0, colon)
  const tag = colon === -1 ? undefined : named.slice(colon + 1)
  const repositoryProblem = findRepositoryProblem(repository)
  if (repositoryProblem) return { problem: `repository \`${repository}\` ${repositoryProblem}` }
  if (tag !== undefined) {
    const tagProblem = findTagProblem(tag)
    if (tagProblem) return { problem: `tag \`${tag}\` ${tagProblem}` }
  }
  if (digest !== undefined && digest === '') return { problem: 'has an empty digest after `@`' }
  return { repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) }
}

// ------------------------------------------------------------ templates ---

const TEMPLATE_PLACEHOLDERS = ['version', 'os'] as const
interface TemplateValues {
  version: string
  os: string
}

const PLACEHOLDER = /\{([^{}]*)\}/g

/** Why a `{version}`/`{os}` template cannot be expanded (unknown placeholder, stray brace). */
export function findTemplateProblem(template: string): string | undefined {
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? ''
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      const known = TEMPLATE_PLACEHOLDERS.map(p => `{${p}}`).join(' and ')
      return `uses the unknown placeholder \`{${name}}\`; known are ${known}`
    }
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) return 'has an unmatched `{` or `}`'
  return undefined
}

export function expandTemplate(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    name === 'version' ? values.version : name === 'os' ? values.os : whole
  )
}
