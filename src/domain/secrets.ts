/**
 * The one redactor: every secret the run knows (registry passwords and their
 * Basic form, the `github-token`, registry tokens) is registered here as it is
 * met, and every message is passed through it before it is stored in the
 * report, the job summary or an annotation. The runner's masking covers the
 * log only; the report is a file (an artifact) and is not masked by GitHub.
 */

const REDACTED = '***'

export class SecretRedactor {
  private readonly secrets = new Set<string>()

  /** Registers a secret (ignored when empty). */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret !== '') this.secrets.add(secret)
  }

  /** Registers a password and the `base64(username:password)` of HTTP Basic. */
  addCredential(username: string | undefined, password: string | undefined): void {
    if (!password) return
    this.add(password)
    if (username) this.add(base64(`${username}:${password}`))
  }

  get size(): number {
    return this.secrets.size
  }

  /** `text` with every registered secret replaced by `***`, longest first. */
  redact(text: string): string {
    if (this.secrets.size === 0) return text
    let out = text
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length))
      if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    return out
  }

  /** A copy of a JSON-like value (plain objects, arrays) with every string redacted. */
  redactDeep<T>(value: T): T {
    if (this.secrets.size === 0) return value
    return this.walk(value) as T
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value)
    if (Array.isArray(value)) return value.map(item => this.walk(item))
    if (value instanceof Date || value === null || typeof value !== 'object') return value
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.walk(item)]))
  }
}

/** Base64 of UTF-8 text, without node:buffer (this layer is pure). */
function base64(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
