/**
 * installCosign against a release layout served from loopback: the real cosign
 * binary (from Debian) with its real SHA-256, and a corrupted copy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import * as tc from '@actions/tool-cache'
import { installCosign } from '../../src/adapters/cosign/install.js'
import { CosignInstallError, readCosignVersion } from '../../src/adapters/cosign/binary.js'
import { COSIGN_SHA256, DEFAULT_COSIGN_VERSION } from '../../src/adapters/cosign/checksums.js'
import { toolPath } from '../helpers/tools.js'

const REAL_BINARY = realpathSync(toolPath('cosign'))
const REAL_SHA256 = createHash('sha256').update(readFileSync(REAL_BINARY)).digest('hex')

let server: Server
let releaseUrl: string
const requests: string[] = []
let scratch: string
const savedEnv: Record<string, string | undefined> = {}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'rp-install-'))
  for (const name of ['RUNNER_TOOL_CACHE', 'RUNNER_TEMP', 'GITHUB_PATH', 'PATH'])
    savedEnv[name] = process.env[name]
  process.env.RUNNER_TOOL_CACHE = join(scratch, 'tool-cache')
  process.env.RUNNER_TEMP = join(scratch, 'temp')
  process.env.GITHUB_PATH = join(scratch, 'github_path')
  writeFileSync(process.env.GITHUB_PATH, '')
  // Layout: /download/<version>/cosign-linux-amd64. `v3.1.1-corrupt` serves the
  // real binary with its first byte flipped.
  server = createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push(path)
    const match = /^\/download\/([^/]+)\/(cosign-[a-z0-9-]+(?:\.exe)?)$/.exec(path)
    if (!match || match[2] !== 'cosign-linux-amd64') {
      res.writeHead(404).end('not found')
      return
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': statSync(REAL_BINARY).size
    })
    if (match[1].endsWith('-corrupt')) {
      const first = readFileSync(REAL_BINARY).subarray(0, 1)
      res.write(Buffer.from([first[0] ^ 0xff]))
      createReadStream(REAL_BINARY, { start: 1 }).pipe(res)
    } else {
      createReadStream(REAL_BINARY).pipe(res)
    }
  })
  await new Promise<void>(listening => server.listen(0, '127.0.0.1', () => listening()))
  releaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/download/`
})

afterAll(async () => {
  await new Promise(closed => server.close(closed))
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  rmSync(scratch, { recursive: true, force: true })
})

async function installError(
  options: Parameters<typeof installCosign>[0]
): Promise<CosignInstallError> {
  const error = await installCosign(options).then(
    () => undefined,
    (caught: unknown) => caught
  )
  expect(error).toBeInstanceOf(CosignInstallError)
  return error as CosignInstallError
}

describe('installCosign', () => {
  it('downloads, checks, caches and puts on PATH a version given with its SHA-256', async () => {
    const before = requests.length
    const path = await installCosign({
      version: '3.1.1',
      sha256: `sha256:${REAL_SHA256.toUpperCase()}`,
      releaseUrl,
      platform: 'linux',
      arch: 'x64'
    })
    expect(requests.slice(before)).toEqual(['/download/v3.1.1/cosign-linux-amd64'])
    expect(path).toBe(join(process.env.RUNNER_TOOL_CACHE ?? '', 'cosign', '3.1.1', 'x64', 'cosign'))
    expect(statSync(path).mode & 0o111).not.toBe(0)
    expect(process.env.PATH?.split(':')).toContain(dirname(path))
    expect(readFileSync(process.env.GITHUB_PATH ?? '', 'utf8')).toContain(dirname(path))
    const version = await readCosignVersion(path)
    expect(version.path).toBe(path)
    expect(version.gitVersion).toBe('devel')
    expect(version.platform).toBe('linux/amd64')
  })

  it('uses the tool cache on the next run without downloading', async () => {
    const before = requests.length
    const path = await installCosign({
      version: 'v3.1.1',
      sha256: REAL_SHA256,
      releaseUrl,
      platform: 'linux',
      arch: 'x64'
    })
    expect(requests.length).toBe(before)
    expect(existsSync(path)).toBe(true)
  })

  it('refuses a corrupted download, naming version, platform, URL and both hashes', async () => {
    const error = await installError({
      version: 'v3.1.1-corrupt',
      sha256: REAL_SHA256,
      releaseUrl,
      platform: 'linux',
      arch: 'x64'
    })
    expect(error.code).toBe('COSIGN_CHECKSUM_MISMATCH')
    expect(error.message).toContain('cosign v3.1.1-corrupt (linux/x64)')
    expect(error.message).toContain(`${releaseUrl}v3.1.1-corrupt/cosign-linux-amd64`)
    expect(error.message).toContain(`expected ${REAL_SHA256}`)
    expect(error.message).toMatch(/got [0-9a-f]{64}/)
    expect(tc.find('cosign', 'v3.1.1-corrupt', 'x64')).toBe('')
  })

  it('checks the default version against the pinned table', async () => {
    const error = await installError({
      version: DEFAULT_COSIGN_VERSION,
      releaseUrl,
      platform: 'linux',
      arch: 'x64'
    })
    expect(error.code).toBe('COSIGN_CHECKSUM_MISMATCH')
    expect(error.message).toContain(
      `expected ${COSIGN_SHA256[DEFAULT_COSIGN_VERSION]['cosign-linux-amd64']}, got ${REAL_SHA256}`
    )
  })

  it('pins all six platforms of the default version', () => {
    expect(Object.keys(COSIGN_SHA256[DEFAULT_COSIGN_VERSION]).sort()).toEqual([
      'cosign-darwin-amd64',
      'cosign-darwin-arm64',
      'cosign-linux-amd64',
      'cosign-linux-arm',
      'cosign-linux-arm64',
      'cosign-windows-amd64.exe'
    ])
    for (const hex of Object.values(COSIGN_SHA256[DEFAULT_COSIGN_VERSION]))
      expect(hex).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each([
    ['aix', 'ppc64'],
    ['win32', 'arm64'],
    ['linux', 'riscv64']
  ] as const)(
    'refuses the unsupported platform %s/%s without downloading',
    async (platform, arch) => {
      const before = requests.length
      const error = await installError({
        version: DEFAULT_COSIGN_VERSION,
        releaseUrl,
        platform,
        arch
      })
      expect(error.code).toBe('COSIGN_UNSUPPORTED_PLATFORM')
      expect(error.message).toContain(`${platform}/${arch}`)
      expect(requests.length).toBe(before)
    }
  )

  it('refuses another version without a SHA-256, and a malformed SHA-256, without downloading', async () => {
    const before = requests.length
    expect(
      (await installError({ version: 'v3.1.1', releaseUrl, platform: 'linux', arch: 'x64' })).code
    ).toBe('COSIGN_UNPINNED_VERSION')
    expect(
      (
        await installError({
          version: 'v3.1.1',
          sha256: 'abc',
          releaseUrl,
          platform: 'linux',
          arch: 'x64'
        })
      ).code
    ).toBe('COSIGN_BAD_SHA256')
    expect(requests.length).toBe(before)
  })
})

describe('readCosignVersion', () => {
  it('refuses a program that is not cosign', async () => {
    await expect(readCosignVersion('/bin/true')).rejects.toMatchObject({
      code: 'COSIGN_VERSION_UNREADABLE'
    })
  })
})
