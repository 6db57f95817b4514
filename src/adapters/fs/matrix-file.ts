/** The matrix file as text, for the updater (the MatrixFile port). */
import { readFile, writeFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { MatrixFile } from '../../app/ports.js'

function inWorkspace(path: string, workspace: string): string {
  return isAbsolute(path) ? path : resolve(workspace, path)
}

export const matrixFile: MatrixFile = {
  read: (path, workspace) => readFile(inWorkspace(path, workspace), 'utf8'),
  write: (path, workspace, text) => writeFile(inWorkspace(path, workspace), text)
}
