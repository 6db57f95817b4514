/**
 * The `images` step output: one entry per image, as JSON. Bounded: a step's
 * outputs travel through the runner's output file and job outputs are
 * limited to 1 MB, so at most MAX_IMAGES_OUTPUT entries are listed (in matrix
 * order); the caller says how many were left out. The report lists every image.
 */
import type { RunResult } from '../domain/types.js'

export const MAX_IMAGES_OUTPUT = 1000

interface ImagesOutput {
  json: string
  /** Images not listed (0 when all are). */
  omitted: number
}

export function renderImagesOutput(result: RunResult, max = MAX_IMAGES_OUTPUT): ImagesOutput {
  const listed = result.images.slice(0, max)
  return {
    json: JSON.stringify(
      listed.map(({ findings, decision }) => ({
        reference: findings.plan.reference,
        digest: findings.plan.row.pin.kind === 'pinned' ? findings.plan.row.pin.digest : null,
        currentDigest: findings.digest.currentDigest ?? null,
        trustStatus: decision.trustStatus,
        code: decision.code
      }))
    ),
    omitted: result.images.length - listed.length
  }
}
