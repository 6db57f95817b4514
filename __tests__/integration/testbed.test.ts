import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { generateKeyPair, pushImage, pushIndex, retag, signImage } from '../helpers/images.js'
import { hermeticEnv, runTool, toolPath } from '../helpers/tools.js'

describe('the test bed', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry()
  })
  afterAll(async () => {
    await registry.stop()
  })

  it('pushes distinct images, moves tags and signs with the real cosign', async () => {
    const first = await pushImage(registry.host, 'rocm/dev', '6.4.4-ubuntu-22.04')
    const second = await pushImage(registry.host, 'rocm/dev', 'other')
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(second).not.toBe(first)
    await retag(registry.host, 'rocm/dev', second, '6.4.4-ubuntu-22.04')
    const key = await generateKeyPair()
    await signImage(`${registry.host}/rocm/dev@${first}`, key)
    const verified = await runTool(
      toolPath('cosign'),
      [
        'verify',
        '--key',
        key.publicKey,
        '--insecure-ignore-tlog',
        '--allow-http-registry',
        '--allow-insecure-registry',
        '--output',
        'json',
        '--',
        `${registry.host}/rocm/dev@${first}`
      ],
      { env: hermeticEnv() }
    )
    expect(verified.code).toBe(0)
    expect(JSON.parse(verified.stdout.trim())[0].critical.image['docker-manifest-digest']).toBe(
      first
    )
    const unsigned = await runTool(
      toolPath('cosign'),
      [
        'verify',
        '--key',
        key.publicKey,
        '--insecure-ignore-tlog',
        '--allow-http-registry',
        '--allow-insecure-registry',
        '--',
        `${registry.host}/rocm/dev@${second}`
      ],
      { env: hermeticEnv() }
    )
    expect(unsigned.code).toBe(10)
  })

  it('builds a multi-arch index', async () => {
    const { index, manifests } = await pushIndex(
      registry.host,
      'rocm/multi',
      '6.4.4-ubuntu-22.04',
      ['linux/amd64', 'linux/arm64']
    )
    expect(index).toMatch(/^sha256:/)
    expect(Object.keys(manifests)).toEqual(['linux/amd64', 'linux/arm64'])
  })
})
