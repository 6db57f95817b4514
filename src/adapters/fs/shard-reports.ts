/**
 * The shard reports `command: merge` reads: every file the `reports` glob
 * matches (as `actions/download-artifact` with `pattern:` and
 * `merge-multiple: true` leaves them), parsed as JSON. A file that is not
 * JSON is handed on as `undefined` for the merge to name. The merge's own
 * output (`provenance-path`) is never read back as a shard.
 */
import * as glob from '@actions/glob'
import { readFile } from 'node:fs/promises'
import { isAbsolute, relative, resolve } from 'node:path'
import type { ShardReportFile } from '../../app/merge.js'

export async function readShardReports(
  pattern: string,
  workspace: string,
  exclude: string
): Promise<ShardReportFile[]> {
  const patterns = pattern
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '')
    .map(line => (isAbsolute(line) || line.startsWith('!') ? line : resolve(workspace, line)))
    .join('\n')
  const globber = await glob.create(patterns, { matchDirectories: false })
  const files = (await globber.glob()).filter(file => resolve(file) !== resolve(exclude)).sort()
  return Promise.all(
    files.map(async file => {
      const source = relative(workspace, file) || file
      try {
        return { source, document: JSON.parse(await readFile(file, 'utf8')) as unknown }
      } catch {
        return { source, document: undefined }
      }
    })
  )
}
