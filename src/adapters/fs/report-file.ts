/**
 * Writes the report atomically: a temporary file in the same folder, flushed,
 * then renamed over the target, so a reader never sees half a document.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ProvenanceError } from '../../domain/errors.js'
import { serialiseReport, type ProvenanceReport } from '../../render/report.js'

export async function writeReportFile(path: string, report: ProvenanceReport): Promise<void> {
  const folder = dirname(path)
  const temporary = join(
    folder,
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  )
  try {
    await mkdir(folder, { recursive: true })
    const file = await open(temporary, 'wx', 0o644)
    try {
      await file.writeFile(serialiseReport(report), 'utf8')
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, path)
  } catch (error: unknown) {
    await rm(temporary, { force: true }).catch(() => undefined)
    throw new ProvenanceError('REPORT_WRITE_FAILED', `could not write the report to ${path}`, {
      cause: error
    })
  }
}
