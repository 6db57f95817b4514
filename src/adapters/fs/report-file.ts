/**
 * Writes the report atomically (safe-file.ts): a temporary file in the same
 * folder, flushed, then renamed over the target, so a reader never sees half a
 * document. The target is checked first like every written path: inside the
 * workspace when one is given (symlinks included), and never a FIFO, device
 * or folder.
 */
import { ProvenanceError } from '../../domain/errors.js'
import { serialiseReport, type ProvenanceReport } from '../../render/report.js'
import { assertWritableFile, writeFileAtomically } from './safe-file.js'

export async function writeReportFile(
  path: string,
  report: ProvenanceReport,
  workspace?: string
): Promise<void> {
  try {
    await assertWritableFile(workspace, path)
    await writeFileAtomically(path, serialiseReport(report))
  } catch (error: unknown) {
    throw new ProvenanceError('REPORT_WRITE_FAILED', `could not write the report to ${path}`, {
      cause: error
    })
  }
}
