/**
 * `auto_update`: asks GitHub to run the updater workflow
 * (`POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`) at
 * `GITHUB_API_URL`, so GitHub Enterprise Server works too. Thin adapter over
 * @actions/http-client; the decision to dispatch is the pure
 * `shouldDispatchUpdate`. The token goes in a header only, never in a message,
 * and only to the API's own origin: a redirect is followed to that origin only
 * (GitHub answers 307 for a renamed repository), never to another host or port.
 */
import { HttpClient } from '@actions/http-client'
import { decisionSteps } from '../../domain/decide.js'
import { ProvenanceError } from '../../domain/errors.js'
import type { ImageResult } from '../../domain/types.js'
import { ACTION_VERSION } from '../../domain/action-version.js'

interface DispatchOptions {
  apiUrl: string
  token: string
  repository: string
  workflow: string
  ref: string
  inputs?: Record<string, string>
}

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/
const MAX_BODY_IN_MESSAGE = 300
const MAX_REDIRECTS = 3
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** Whether any auto_update image drifted, went stale, or failed its signature check. */
export function shouldDispatchUpdate(results: ImageResult[]): boolean {
  return results.some(({ findings }) => {
    if (findings.plan.policy.mode !== 'auto_update') return false
    if (findings.digest.status === 'drift' || findings.age.stale) return true
    return decisionSteps(findings).some(step => step.check === 'signature' && step.code > 0)
  })
}

function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text
}

/** GitHub's `message` field of an error body, or the start of the body. */
function githubMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body)
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as { message?: unknown }).message === 'string'
    ) {
      return (parsed as { message: string }).message
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, MAX_BODY_IN_MESSAGE).trim()
}

export async function dispatchWorkflow(options: DispatchOptions): Promise<void> {
  const { apiUrl, token, repository, workflow, ref, inputs } = options
  const what = `workflow_dispatch of ${workflow} on ${ref} in ${repository}`
  if (!REPOSITORY.test(repository)) {
    throw new ProvenanceError(
      'DISPATCH_FAILED',
      `${what} failed: "${repository}" is not owner/name`
    )
  }
  const first = new URL(
    `${apiUrl.replace(/\/+$/, '')}/repos/${repository}/actions/workflows/${encodeURIComponent(workflow)}/dispatches`
  )
  const body = JSON.stringify(inputs && Object.keys(inputs).length > 0 ? { ref, inputs } : { ref })
  const client = new HttpClient(`rocm-provenance/${ACTION_VERSION}`, [], {
    allowRedirects: false
  })
  try {
    let status = 0
    let text = ''
    try {
      let url = first
      for (let redirects = 0; ; redirects++) {
        const response = await client.post(url.href, body, {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'content-type': 'application/json',
          'x-github-api-version': '2022-11-28'
        })
        status = response.message.statusCode ?? 0
        text = await response.readBody()
        const location = response.message.headers.location
        if (!REDIRECT_STATUSES.has(status) || typeof location !== 'string') break
        const next = new URL(location, url)
        if (next.origin !== first.origin)
          throw new ProvenanceError(
            'DISPATCH_FAILED',
            `${what} failed: the API answered HTTP ${status} redirecting to ${next.origin}, another origin than ${first.origin}; the token is sent to ${first.origin} only`
          )
        if (redirects >= MAX_REDIRECTS)
          throw new ProvenanceError(
            'DISPATCH_FAILED',
            `${what} failed: more than ${MAX_REDIRECTS} redirects`
          )
        url = next
      }
    } catch (error: unknown) {
      if (error instanceof ProvenanceError) throw error
      const reason = error instanceof Error ? error.message : String(error)
      throw new ProvenanceError('DISPATCH_FAILED', redact(`${what} failed: ${reason}`, token), {
        cause: error
      })
    }
    if (status >= 200 && status < 300) return
    const detail = githubMessage(text)
    const permission =
      status === 403 || status === 404
        ? ' — the token needs the `actions: write` permission (add `permissions: actions: write` to the job)' +
          (status === 404 ? `, and ${workflow} must exist on ${ref}` : '')
        : ''
    throw new ProvenanceError(
      'DISPATCH_FAILED',
      redact(`${what} failed: HTTP ${status}${detail ? ` (${detail})` : ''}${permission}`, token)
    )
  } finally {
    client.dispose()
  }
}
