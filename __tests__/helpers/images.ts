/**
 * Small test images built and pushed with the real `crane`, keys made and
 * images signed and attested with the real `cosign` — all on loopback, with
 * the hermetic flags that keep cosign away from public Sigstore services.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { hermeticEnv, mustRun, toolPath } from './tools.js'

let counter = 0

/** A tar with one file whose content makes the image's digest unique. */
function layerTar(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rp-layer-'))
  const root = join(dir, 'root')
  execFileSync('mkdir', ['-p', join(root, 'etc')])
  writeFileSync(join(root, 'etc', 'rocm-test-image'), content)
  const tar = join(dir, 'layer.tar')
  execFileSync('tar', ['-C', root, '-cf', tar, '--owner=0', '--group=0', '--mtime=@0', 'etc'])
  return tar
}

/**
 * Pushes a one-layer image to `host/repository:tag` and returns its digest.
 * `content` defaults to something unique, so every call makes a new digest.
 */
export async function pushImage(
  host: string,
  repository: string,
  tag: string,
  content = `image ${process.pid} ${Date.now()} ${counter++}`,
  env: NodeJS.ProcessEnv = hermeticEnv()
): Promise<string> {
  const ref = `${host}/${repository}:${tag}`
  await mustRun(toolPath('crane'), ['append', '--insecure', '-f', layerTar(content), '-t', ref], {
    env
  })
  return (await mustRun(toolPath('crane'), ['digest', '--insecure', ref], { env })).trim()
}

/**
 * Pushes a multi-arch index at `host/repository:tag` with one child manifest
 * per platform (`linux/amd64`, `linux/arm64`, …). Returns the index digest and
 * each platform's manifest digest.
 */
export async function pushIndex(
  host: string,
  repository: string,
  tag: string,
  platforms: string[]
): Promise<{ index: string; manifests: Record<string, string> }> {
  const manifests: Record<string, string> = {}
  const args = ['index', 'append', '--insecure', '-t', `${host}/${repository}:${tag}`]
  for (const platform of platforms) {
    const childTag = `${tag}-${platform.replace(/\//g, '-')}`
    const digest = await pushImage(host, repository, childTag)
    const [os, architecture] = platform.split('/')
    const platformRef = `${host}/${repository}@${digest}`
    // crane reads the platform from the image config; set it explicitly.
    const mutated = (
      await mustRun(
        toolPath('crane'),
        [
          'mutate',
          '--insecure',
          '--set-platform',
          `${os}/${architecture}`,
          '-t',
          `${host}/${repository}:${childTag}`,
          platformRef
        ],
        { env: hermeticEnv() }
      )
    ).trim()
    manifests[platform] = mutated.slice(mutated.indexOf('@') + 1)
    args.push('-m', mutated)
  }
  await mustRun(toolPath('crane'), args, { env: hermeticEnv() })
  const index = (
    await mustRun(toolPath('crane'), ['digest', '--insecure', `${host}/${repository}:${tag}`], {
      env: hermeticEnv()
    })
  ).trim()
  return { index, manifests }
}

/** Moves a tag to another digest already in the same repository. */
export async function retag(
  host: string,
  repository: string,
  digest: string,
  tag: string
): Promise<void> {
  await mustRun(toolPath('crane'), ['tag', '--insecure', `${host}/${repository}@${digest}`, tag], {
    env: hermeticEnv()
  })
}

export interface KeyPair {
  privateKey: string
  publicKey: string
}

/** `cosign generate-key-pair` with an empty password, into a new folder. */
export async function generateKeyPair(name = 'cosign'): Promise<KeyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-keys-'))
  const prefix = join(dir, name)
  await mustRun(toolPath('cosign'), ['generate-key-pair', '--output-key-prefix', prefix], {
    env: hermeticEnv(),
    cwd: dir
  })
  return { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub` }
}

const REGISTRY_FLAGS = ['--allow-http-registry', '--allow-insecure-registry']

/**
 * Signs `ref@digest` with a key, without a transparency log. `legacy` makes a
 * cosign-2-style `.sig` tag signature instead of a Sigstore bundle.
 */
export async function signImage(
  refAtDigest: string,
  key: KeyPair,
  options: { legacy?: boolean; recursive?: boolean; env?: NodeJS.ProcessEnv } = {}
): Promise<void> {
  const args = [
    'sign',
    '--key',
    key.privateKey,
    '--use-signing-config=false',
    '--tlog-upload=false',
    '-y',
    ...REGISTRY_FLAGS
  ]
  if (options.legacy) args.push('--new-bundle-format=false')
  // An index and every manifest it lists (cosign's `--recursive`).
  if (options.recursive) args.push('--recursive')
  args.push(refAtDigest)
  await mustRun(toolPath('cosign'), args, { env: options.env ?? hermeticEnv() })
}

/** A minimal SLSA provenance v1 predicate. */
export function slsaPredicate(
  builderId = 'https://github.com/rocm/rocm-images/.github/workflows/release.yml@refs/heads/main'
): object {
  return {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: { ref: 'refs/heads/main', repository: 'https://github.com/rocm/rocm-images' }
      },
      internalParameters: {},
      resolvedDependencies: []
    },
    runDetails: { builder: { id: builderId }, metadata: { invocationId: 'test' } }
  }
}

/** Attests `ref@digest` with a key (`type` as cosign takes it, e.g. `slsaprovenance1`). */
export async function attestImage(
  refAtDigest: string,
  key: KeyPair,
  predicate: object = slsaPredicate(),
  type = 'slsaprovenance1'
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-predicate-'))
  const predicatePath = join(dir, 'predicate.json')
  writeFileSync(predicatePath, JSON.stringify(predicate))
  await mustRun(
    toolPath('cosign'),
    [
      'attest',
      '--key',
      key.privateKey,
      '--use-signing-config=false',
      '--tlog-upload=false',
      '-y',
      ...REGISTRY_FLAGS,
      '--type',
      type,
      '--predicate',
      predicatePath,
      refAtDigest
    ],
    { env: hermeticEnv() }
  )
}
