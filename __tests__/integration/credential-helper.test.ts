/**
 * Docker credential helpers (`credHelpers` / `credsStore`), run through the
 * docker-credential-helpers protocol against a real registry with Basic auth:
 * the helper is a small script on a PATH of the test's own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getFromHelper } from '../../src/adapters/registry/credential-helper.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { checkDigest } from '../../src/domain/drift.js'
import { pushImage } from '../helpers/images.js'
import {
  copyImage,
  dockerConfigWith,
  htpasswdEntry,
  makeSecret
} from '../helpers/registry-auth-servers.js'
import { planFor } from '../helpers/registry-plans.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'

const TAG = '6.4.4-ubuntu-22.04'
const USER = 'rocm-ci'

let bin: string
const helperEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  'INPUT_REGISTRY-PASSWORD': 'never-for-the-helper'
})

/** A `docker-credential-<name>` script: `body` runs with the server URL in $server. */
function helper(name: string, body: string[]): void {
  const path = join(bin, `docker-credential-${name}`)
  writeFileSync(
    path,
    ['#!/bin/sh', '[ "$1" = get ] || exit 9', 'read -r server', ...body].join('\n') + '\n'
  )
  chmodSync(path, 0o755)
}

beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'rp-helpers-'))
})

describe('getFromHelper', () => {
  it('sends the server URL on stdin and reads Username and Secret', async () => {
    const log = join(bin, 'asked.log')
    helper('ok', [
      `printf '%s\\n' "$server" >> '${log}'`,
      `env | grep -c '^INPUT_' >> '${log}'`,
      'printf \'{"ServerURL":"%s","Username":"u","Secret":"s3"}\' "$server"'
    ])
    expect(await getFromHelper('ok', 'registry.example:5000', { env: helperEnv() })).toEqual({
      username: 'u',
      password: 's3'
    })
    expect(await getFromHelper('ok', 'docker.io', { env: helperEnv() })).toEqual({
      username: 'u',
      password: 's3'
    })
    expect(readFileSync(log, 'utf8')).toBe(
      'registry.example:5000\n0\nhttps://index.docker.io/v1/\n0\n'
    )
  })

  it('reads "credentials not found" as none', async () => {
    helper('empty', ['echo "credentials not found in native keychain"', 'exit 1'])
    expect(await getFromHelper('empty', 'registry.example', { env: helperEnv() })).toBeUndefined()
  })

  it.each([
    [
      'fails',
      ['echo "error getting credentials - err: exit status 1, out: token expired" >&2', 'exit 1'],
      /failed \(exit 1\): error getting credentials/
    ],
    ['hangs', ['sleep 30'], /did not answer within 500 ms/],
    [
      'gives an identity token',
      ['echo \'{"Username":"<token>","Secret":"refresh"}\''],
      /identity token/
    ],
    ['prints no JSON', ['echo not-json-s3cret'], /answered with something other than JSON$/]
  ])('calls a helper that %s a credential problem (REGISTRY_AUTH)', async (name, body, message) => {
    const helperName = `bad-${name.replace(/\W+/g, '-')}`
    helper(helperName, body)
    const error = await getFromHelper(helperName, 'registry.example', {
      env: helperEnv(),
      timeoutMs: 500
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringMatching(message) })
    expect(String((error as Error).message)).not.toContain('s3cret')
  })

  it('reports a helper that is not installed', async () => {
    await expect(
      getFromHelper('absent', 'registry.example', { env: helperEnv() })
    ).rejects.toMatchObject({
      code: 'REGISTRY_AUTH',
      message: expect.stringMatching(
        /docker-credential-absent configured for registry\.example could not be run/
      )
    })
  })
})

describe('a registry whose credentials live in a credential helper', () => {
  const password = makeSecret('helper-password')
  let source: TestRegistry
  let registry: TestRegistry
  let digest: string

  beforeAll(async () => {
    source = await startRegistry()
    registry = await startRegistry({ htpasswd: htpasswdEntry(USER, password) })
    await pushImage(source.host, 'rocm/dev', TAG)
    await copyImage(
      `${source.host}/rocm/dev:${TAG}`,
      `${registry.host}/rocm/dev:${TAG}`,
      dockerConfigWith({ [registry.host]: { username: USER, password } })
    )
    const manifest = await fetch(`${source.url}/v2/rocm/dev/manifests/${TAG}`, {
      method: 'HEAD',
      headers: {
        accept:
          'application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'
      }
    })
    digest = manifest.headers.get('docker-content-digest') ?? ''
  })
  afterAll(async () => {
    await registry.stop()
    await source.stop()
  })

  function clientWith(config: object): RegistryClient {
    const dir = mkdtempSync(join(tmpdir(), 'rp-docker-config-'))
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
    return new RegistryClient({
      credentials: createCredentialStore({
        dockerConfigDir: dir,
        helper: (name, host) => getFromHelper(name, host, { env: helperEnv(), timeoutMs: 5_000 })
      }),
      insecureRegistries: [registry.host],
      timeoutMs: 5_000,
      retry: { baseDelayMs: 20 }
    })
  }

  it('uses the credHelpers entry for the host', async () => {
    helper('good', [`printf '{"Username":"${USER}","Secret":"${password}"}'`])
    const finding = await checkDigest(
      planFor(registry.host, 'rocm/dev', TAG, digest),
      clientWith({ credHelpers: { [registry.host]: 'good' } })
    )
    expect(finding).toMatchObject({ status: 'match', currentDigest: digest })
  })

  it('uses credsStore when the host has no entry of its own', async () => {
    const finding = await checkDigest(
      planFor(registry.host, 'rocm/dev', TAG, digest),
      clientWith({ credsStore: 'good', auths: { [registry.host]: {} } })
    )
    expect(finding.status).toBe('match')
  })

  it('reports credentials the helper gives and the registry refuses as refused access, not unreachable', async () => {
    helper('stale', [`printf '{"Username":"${USER}","Secret":"expired-token"}'`])
    const finding = await checkDigest(
      planFor(registry.host, 'rocm/dev', TAG, digest),
      clientWith({ credHelpers: { [registry.host]: 'stale' } })
    )
    expect(finding.status).toBe('access-denied')
    expect(finding.cause).toMatch(/^REGISTRY_AUTH: credentials were refused by 127\.0\.0\.1:\d+/)
    expect(finding.cause).not.toContain('expired-token')
  })

  it('reports a failing helper as refused access naming the helper, not as an unreachable registry', async () => {
    helper('broken', ['echo "error getting credentials - err: not logged in" >&2', 'exit 1'])
    const finding = await checkDigest(
      planFor(registry.host, 'rocm/dev', TAG, digest),
      clientWith({ credHelpers: { [registry.host]: 'broken' } })
    )
    expect(finding.status).toBe('access-denied')
    expect(finding.cause).toMatch(
      /REGISTRY_AUTH: the credential helper docker-credential-broken configured for 127\.0\.0\.1:\d+ failed \(exit 1\): error getting credentials - err: not logged in/
    )
  })
})
