/**
 * The telemetry summary file (Clamp's `build/telemetry_summary.json`) with a
 * report's five telemetry fields merged in (render/telemetry.ts), for the
 * action's `telemetry-summary` and `rocm-provenance annotate` alike: checked
 * like every written file (inside `workspace` when one is given, no symlink
 * out, never a FIFO or device), read bounded, created with its folder when
 * missing, written atomically. Throws UnsafePathError or the file system's
 * error; the caller says what that costs.
 */
import type { ProvenanceReport } from '../../render/report.js'
import { annotateTelemetrySummary, MAX_TELEMETRY_BYTES } from '../../render/telemetry.js'
import { assertWritableFile, readRegularTextFile, writeFileAtomically } from './safe-file.js'

export async function annotateTelemetryFile(
  workspace: string | undefined,
  path: string,
  report: ProvenanceReport
): Promise<void> {
  await assertWritableFile(workspace, path)
  const text = (await readRegularTextFile(path, MAX_TELEMETRY_BYTES)) ?? '{}'
  await writeFileAtomically(path, annotateTelemetrySummary(text, report))
}
