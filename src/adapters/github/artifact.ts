/**
 * Uploads the report as a workflow artifact through @actions/artifact (the
 * Results service and its blob store). Thin adapter: any failure becomes one
 * ProvenanceError('ARTIFACT_UPLOAD_FAILED') the caller turns into a warning;
 * the file stays on disk either way.
 */
import { DefaultArtifactClient } from '@actions/artifact'
import { dirname, resolve } from 'node:path'
import { ProvenanceError } from '../../domain/errors.js'

interface UploadedArtifact {
  id?: number
  url?: string
}

/** `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/artifacts/${id}`, when all are known. */
export function artifactUrl(id: number | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env
  if (id === undefined || !server || !repository || !runId) return undefined
  return `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}/artifacts/${id}`
}

export async function uploadReportArtifact(path: string, name: string): Promise<UploadedArtifact> {
  const file = resolve(path)
  try {
    const client = new DefaultArtifactClient()
    const { id } = await client.uploadArtifact(name, [file], dirname(file))
    return { id, url: artifactUrl(id, process.env) }
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ProvenanceError(
      'ARTIFACT_UPLOAD_FAILED',
      `could not upload ${path} as artifact "${name}": ${reason}`,
      { cause: error }
    )
  }
}
