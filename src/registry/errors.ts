/**
 * Why a registry could not answer. The code says what kind of trouble it was;
 * `retryable` says whether asking again could help (network, 5xx, 429).
 * Messages name the registry and the request, never a credential.
 */
import { ProvenanceError } from '../errors.js'

export type RegistryErrorCode =
  /** Connection refused or reset, DNS failure, TLS failure, or 5xx after every attempt. */
  | 'REGISTRY_UNREACHABLE'
  /** 401/403: no credentials, or credentials (or a token) refused. */
  | 'REGISTRY_AUTH'
  /** 404: the repository, tag or digest does not exist. */
  | 'REGISTRY_NOT_FOUND'
  /** An answer that breaks the distribution spec: bad digest, bad JSON, digest mismatch. */
  | 'REGISTRY_PROTOCOL'
  /** 429 after every attempt. */
  | 'REGISTRY_RATE_LIMITED'
  /** No complete answer within the per-request timeout, after every attempt. */
  | 'REGISTRY_TIMEOUT'

export class RegistryError extends ProvenanceError<RegistryErrorCode> {
  /** HTTP status, when the registry answered. */
  readonly status?: number
  readonly retryable: boolean
  /** Milliseconds the registry asked us to wait (`Retry-After`), if it did. */
  readonly retryAfterMs?: number

  constructor(
    code: RegistryErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; retryable?: boolean; retryAfterMs?: number } = {}
  ) {
    super(code, message, { cause: options.cause })
    this.name = 'RegistryError'
    this.status = options.status
    this.retryable = options.retryable ?? false
    this.retryAfterMs = options.retryAfterMs
  }
}

/** The error code and message in one line, as findings and logs show them. */
export function describeRegistryError(error: unknown): string {
  if (error instanceof RegistryError) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

/** `MANIFEST_UNKNOWN: manifest unknown; …` from a distribution-spec error body, if it is one. */
export function describeErrorBody(body: Buffer | string): string | undefined {
  let json: unknown
  try {
    json = JSON.parse(String(body))
  } catch {
    return undefined
  }
  const errors = (json as { errors?: unknown } | null)?.errors
  if (!Array.isArray(errors)) return undefined
  const parts = errors
    .filter((e): e is { code?: unknown; message?: unknown } => typeof e === 'object' && e !== null)
    .map(e => [e.code, e.message].filter(p => typeof p === 'string' && p !== '').join(': '))
    .filter(p => p !== '')
  return parts.length > 0 ? parts.slice(0, 3).join('; ') : undefined
}

/**
 * The error an unexpected HTTP status stands for. 401/403/404 are final;
 * 408, 429 and 5xx may be retried (`retryAfterMs` from `Retry-After`).
 */
export function errorForStatus(
  what: string,
  response: { status: number; body: Buffer | string },
  retryAfterMs?: number
): RegistryError {
  const { status } = response
  const detail = describeErrorBody(response.body)
  const message = `${what}: HTTP ${status}${detail ? ` (${detail})` : ''}`
  if (status === 401 || status === 403)
    return new RegistryError('REGISTRY_AUTH', message, { status })
  if (status === 404) return new RegistryError('REGISTRY_NOT_FOUND', message, { status })
  if (status === 408)
    return new RegistryError('REGISTRY_TIMEOUT', message, { status, retryable: true })
  if (status === 429)
    return new RegistryError('REGISTRY_RATE_LIMITED', message, {
      status,
      retryable: true,
      retryAfterMs
    })
  if (status >= 500)
    return new RegistryError('REGISTRY_UNREACHABLE', message, {
      status,
      retryable: true,
      retryAfterMs
    })
  return new RegistryError('REGISTRY_PROTOCOL', message, { status })
}
