/**
 * The benchmark's test bed: N key-signed images (each a distinct digest) in
 * the real registry, and a workspace whose policy and matrix pin the first n
 * of them. Signing is the slow part (cosign spends ~0.4 s of CPU per image),
 * so the signed registry's storage is kept in .tools/bench-registry and
 * copied into the next run's fresh registry when it was made by the same
 * cosign and holds enough images.
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { mapConcurrent } from '../../src/lib/concurrency.js'
import { generateKeyPair, pushImage, signImage, type KeyPair } from './images.js'
import type { TestRegistry } from './registry.js'
import { PROJECT_ROOT, mustRun, toolPath } from './tools.js'

export const BENCH_REPOSITORY = 'rocm/dev'
const SETUP_CONCURRENCY = 4
const CACHE_DIR = join(PROJECT_ROOT, '.tools', 'bench-registry')
const CACHE_FORMAT = 1

export interface BenchImage {
  tag: string
  digest: string
}

export interface BenchImages {
  images: BenchImage[]
  key: KeyPair
  /** Whether the signed images came from .tools/bench-registry. */
  fromCache: boolean
}

interface CacheIndex {
  format: number
  cosign: string
  images: BenchImage[]
}

function tagOf(index: number): string {
  return `6.4.${index}-ubuntu-22.04`
}

async function cosignVersion(): Promise<string> {
  const json = await mustRun(toolPath('cosign'), ['version', '--json'])
  return (JSON.parse(json) as { gitVersion: string }).gitVersion
}

function readCache(cosign: string, count: number): CacheIndex | undefined {
  try {
    const index = JSON.parse(readFileSync(join(CACHE_DIR, 'index.json'), 'utf8')) as CacheIndex
    if (index.format !== CACHE_FORMAT || index.cosign !== cosign || index.images.length < count)
      return undefined
    return existsSync(join(CACHE_DIR, 'data')) ? index : undefined
  } catch {
    return undefined
  }
}

/** `count` signed images in `registry`, from the cache when it fits, else pushed and signed now. */
export async function provideBenchImages(
  registry: TestRegistry,
  count: number
): Promise<BenchImages> {
  const cosign = await cosignVersion()
  const cached = readCache(cosign, count)
  const keyDir = join(CACHE_DIR, 'key')
  const key: KeyPair = {
    privateKey: join(keyDir, 'rocm-release.key'),
    publicKey: join(keyDir, 'rocm-release.pub')
  }
  if (cached) {
    cpSync(join(CACHE_DIR, 'data'), registry.dataDir, { recursive: true })
    return { images: cached.images.slice(0, count), key, fromCache: true }
  }

  const fresh = await generateKeyPair('rocm-release')
  const indexes = Array.from({ length: count }, (_, i) => i)
  const images = await mapConcurrent(indexes, SETUP_CONCURRENCY, async index => {
    const tag = tagOf(index)
    const digest = await pushImage(
      registry.host,
      BENCH_REPOSITORY,
      tag,
      `rocm bench image ${index}`
    )
    await signImage(`${registry.host}/${BENCH_REPOSITORY}@${digest}`, fresh)
    return { tag, digest }
  })
  if (new Set(images.map(image => image.digest)).size !== images.length)
    throw new Error('two bench images share a digest')

  rmSync(CACHE_DIR, { recursive: true, force: true })
  mkdirSync(keyDir, { recursive: true })
  copyFileSync(fresh.privateKey, key.privateKey)
  copyFileSync(fresh.publicKey, key.publicKey)
  cpSync(registry.dataDir, join(CACHE_DIR, 'data'), { recursive: true })
  const index: CacheIndex = { format: CACHE_FORMAT, cosign, images }
  writeFileSync(join(CACHE_DIR, 'index.json'), JSON.stringify(index, null, 2) + '\n')
  return { images, key, fromCache: false }
}

/**
 * A workspace under `parent` with the public key, a strict policy and a
 * matrix pinning `images`. `signers: 2`: the trust model's two trusted
 * signers instead of the row's key, each checked by its own `cosign verify`
 * (two files of the same key, threshold 1: the cost of checking two signers
 * without signing every image twice).
 */
export function writeBenchWorkspace(
  parent: string,
  registryHost: string,
  images: BenchImage[],
  publicKey: string,
  options: { signers?: 1 | 2 } = {}
): string {
  const workspace = mkdtempSync(join(parent, 'workspace-'))
  mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
  copyFileSync(publicKey, join(workspace, 'ci', 'keys', 'rocm-release.pub'))
  const twoSigners = options.signers === 2
  if (twoSigners) copyFileSync(publicKey, join(workspace, 'ci', 'keys', 'rocm-release-2.pub'))
  writeFileSync(
    join(workspace, 'ci', 'rocm_policy.yml'),
    [
      'policy:',
      '  mode: strict',
      '  digest_ttl: 30',
      '  require_signature: true',
      '  ignore_tlog: true',
      '  attest_mode: none',
      `  repository: ${registryHost}/${BENCH_REPOSITORY}`,
      ...(twoSigners
        ? [
            '  trusted_signers: [release, release-2]',
            '  threshold: 1',
            '  signers:',
            '    release:',
            '      key_path: ci/keys/rocm-release.pub',
            '    release-2:',
            '      key_path: ci/keys/rocm-release-2.pub'
          ]
        : []),
      ''
    ].join('\n')
  )
  const today = new Date().toISOString().slice(0, 10)
  const rows = images.flatMap(({ tag, digest }) => [
    `    - version: "${tag.slice(0, tag.indexOf('-'))}"`,
    '      os: "ubuntu-22.04"',
    `      digest: "${digest}"`,
    `      added: "${today}"`,
    ...(twoSigners ? [] : ['      provenance:', '        key_path: ci/keys/rocm-release.pub'])
  ])
  writeFileSync(
    join(workspace, 'ci', 'rocm_matrix.yml'),
    ['rocm:', '  images:', ...rows, ''].join('\n')
  )
  return workspace
}
