/** `rocm-provenance update`: the updater's outcome as text and an exit code. */
import type { Adapters } from '../adapters/create.js'
import { updateMatrix, type UpdateMatrixOptions } from '../app/update-matrix.js'
import { formatLocation } from '../domain/errors.js'
import type { SecretRedactor } from '../domain/secrets.js'
import { renderUpdateText } from '../render/update-text.js'

/** 0 nothing rejected, 1 something rejected, 4 configuration error. */
export async function runUpdateCli(
  options: Omit<UpdateMatrixOptions, 'now'> &
    Adapters & { out: (text: string) => void; secrets?: SecretRedactor }
): Promise<number> {
  const outcome = await updateMatrix({ ...options, now: new Date() }, options)
  if (!outcome.ok) {
    options.out(
      outcome.issues
        .map(issue => `${formatLocation(issue.location) || options.matrixPath}: ${issue.message}`)
        .join('\n') + '\n'
    )
    return 4
  }
  const result = options.secrets?.redactDeep(outcome.result) ?? outcome.result
  options.out(renderUpdateText(result))
  options.out(
    result.changed
      ? options.dryRun
        ? `${options.matrixPath} would change (dry run: not written)\n`
        : `${options.matrixPath} updated\n`
      : `${options.matrixPath}: nothing to change\n`
  )
  return result.rejected.length > 0 ? 1 : 0
}
