/**
 * Reading a registry's error answers: the distribution-spec error body and the
 * RegistryError an unexpected HTTP status stands for. Messages name the
 * registry and the request, never a credential.
 */
import { RegistryError } from '../../domain/errors.js'

/** `MANIFEST_UNKNOWN: manifest unknown; …` from a distribution-spec error body, if it is one. */
function describeErrorBody(body: Buffer | string): string | undefined {
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
