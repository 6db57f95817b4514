/**
 * The one home of the checks on paths the action reads, writes or merges:
 * inside the workspace (by the path and through symlinks), a regular file
 * (never a FIFO, device or socket, which would hang a read or be replaced by a
 * write), bounded in size; and the atomic write every written file goes
 * through (a temporary file in the same folder, flushed, renamed over the
 * target: a reader never sees half a document, and a symlink at the target is
 * replaced, never followed).
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'

/** Largest key or trusted-root file read. */
export const MAX_KEY_FILE_BYTES = 256 * 1024

export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function describeFsError(error: unknown): string {
  switch (errnoOf(error)) {
    case 'ENOENT':
      return 'does not exist'
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)'
    case 'EISDIR':
      return 'is a directory, not a file'
    case 'ELOOP':
      return 'is a symlink loop'
    default:
      return `cannot be read (${errnoOf(error) ?? (error instanceof Error ? error.message : String(error))})`
  }
}

/** Reads at most `limit` + 1 bytes of a regular file (never opens a FIFO or device). */
export async function readRegularFile(path: string, limit: number): Promise<Uint8Array> {
  const info = await stat(path)
  if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
  if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' })
  const handle = await open(path, constants.O_RDONLY)
  try {
    const buffer = new Uint8Array(limit + 1)
    let length = 0
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length)
      if (bytesRead === 0) break
      length += bytesRead
    }
    return buffer.subarray(0, length)
  } finally {
    await handle.close()
  }
}

/**
 * Why a file named in the configuration may not be used: it leaves the workspace
 * (by its path or through a symlink), does not exist, is not a regular file, or
 * cannot be read. Undefined when it is fine.
 */
export async function findWorkspaceFileProblem(
  workspace: string,
  path: string,
  inspect?: (bytes: Uint8Array) => string | undefined
): Promise<string | undefined> {
  const root = resolve(workspace)
  const target = resolve(root, path)
  const outside = (from: string, to: string): boolean => {
    const rel = relative(from, to)
    return rel === '..' || rel.startsWith('../') || isAbsolute(rel)
  }
  if (outside(root, target)) return `leaves the workspace (${root})`
  let real: string
  try {
    real = await realpath(target)
  } catch (error: unknown) {
    return describeFsError(error)
  }
  const realRoot = await realpath(root).catch(() => root)
  if (outside(realRoot, real)) return `is a symlink out of the workspace (it resolves to ${real})`
  try {
    const bytes = await readRegularFile(real, MAX_KEY_FILE_BYTES)
    if (bytes.length > MAX_KEY_FILE_BYTES) return `is larger than ${MAX_KEY_FILE_BYTES} bytes`
    return inspect?.(bytes)
  } catch (error: unknown) {
    return errnoOf(error) === 'ENOTFILE' ? 'is not a regular file' : describeFsError(error)
  }
}

function outside(from: string, to: string): boolean {
  const rel = relative(from, to)
  return rel === '..' || rel.startsWith('../') || isAbsolute(rel)
}

/** The deepest existing folder on the way to `path` (the path itself when it exists). */
async function nearestExisting(path: string): Promise<string> {
  let current = path
  for (;;) {
    try {
      await lstat(current)
      return current
    } catch {
      const parent = dirname(current)
      if (parent === current) return current
      current = parent
    }
  }
}

/**
 * Why `path` may not be written (or read, then rewritten): it leaves the
 * workspace by its path or through a symlink (of the file or of a folder on
 * the way), or it exists and is not a regular file (a FIFO, a device, a
 * socket, a folder). Undefined when it may be written. `workspace` undefined:
 * only the kind of file is checked (the CLI writes where it is told).
 */
export async function findWritableFileProblem(
  workspace: string | undefined,
  path: string
): Promise<string | undefined> {
  const target = resolve(workspace ?? '.', path)
  if (workspace !== undefined) {
    const root = resolve(workspace)
    if (outside(root, target)) return `leaves the workspace (${root})`
    const realRoot = await realpath(root).catch(() => root)
    const existing = await nearestExisting(target)
    const real = await realpath(existing).catch(() => existing)
    if (outside(realRoot, real)) return `is a symlink out of the workspace (it resolves to ${real})`
  }
  let info
  try {
    info = await stat(target)
  } catch (error: unknown) {
    if (errnoOf(error) === 'ENOENT') return undefined
    return describeFsError(error)
  }
  if (info.isDirectory()) return 'is a directory, not a file'
  if (!info.isFile()) return 'is not a regular file (a FIFO, device or socket)'
  return undefined
}

/** A written path that failed `findWritableFileProblem`. */
class UnsafePathError extends Error {
  readonly code = 'UNSAFE_PATH'
  constructor(path: string, problem: string) {
    super(`${path} ${problem}`)
    this.name = 'UnsafePathError'
  }
}

/** `findWritableFileProblem`, thrown as an `UnsafePathError`. */
export async function assertWritableFile(
  workspace: string | undefined,
  path: string
): Promise<void> {
  const problem = await findWritableFileProblem(workspace, path)
  if (problem !== undefined) throw new UnsafePathError(path, problem)
}

/**
 * Text of an existing regular file of at most `limit` bytes, or undefined when
 * it does not exist. Never opens a FIFO or device; larger files throw.
 */
export async function readRegularTextFile(
  path: string,
  limit: number
): Promise<string | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await readRegularFile(path, limit)
  } catch (error: unknown) {
    if (errnoOf(error) === 'ENOENT') return undefined
    throw new Error(
      `${path} ${errnoOf(error) === 'ENOTFILE' ? 'is not a regular file' : describeFsError(error)}`,
      { cause: error }
    )
  }
  if (bytes.length > limit) throw new Error(`${path} is larger than ${limit} bytes`)
  return new TextDecoder().decode(bytes)
}

/**
 * Writes `text` to `path` atomically: a temporary file (0644) in the same
 * folder, flushed, renamed over the target. Folders on the way are created.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const folder = dirname(path)
  const temporary = join(
    folder,
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  )
  try {
    await mkdir(folder, { recursive: true })
    const file = await open(temporary, 'wx', 0o644)
    try {
      await file.writeFile(text, 'utf8')
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, path)
  } catch (error: unknown) {
    await rm(temporary, { force: true }).catch(() => undefined)
    throw error
  }
}
