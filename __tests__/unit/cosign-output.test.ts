import { describe, expect, it } from '@jest/globals'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { expandPredicateType } from '../../src/domain/attestations.js'
import {
  pickBundleSigner,
  readSignatureBundles,
  summarizeAttestationOutput,
  summarizeVerifyOutput
} from '../../src/adapters/cosign/output.js'
import { publicKeyFingerprint } from '../../src/adapters/cosign/key.js'
import { checkKeyWindow, sameFingerprint } from '../../src/domain/signers.js'
import { dockerConfigFor } from '../../src/adapters/cosign/verifier.js'
import type { Digest } from '../../src/domain/types.js'

const PINNED: Digest = `sha256:${'4e'.repeat(32)}`
const OTHER: Digest = `sha256:${'23'.repeat(32)}`

function entry(type: string, digest: string, optional: unknown = {}): object {
  return {
    critical: {
      identity: { 'docker-reference': `127.0.0.1:5000/r/img@${digest}` },
      image: { 'docker-manifest-digest': digest },
      type
    },
    optional
  }
}

/** stdout as cosign verify prints it: a blank line, then the array. */
const verifyStdout = (entries: object[]): string => `\n${JSON.stringify(entries)}\n`

describe('summarizeVerifyOutput', () => {
  it('counts NEW and LEGACY signatures of the pinned digest', () => {
    const summary = summarizeVerifyOutput(
      verifyStdout([
        entry('https://sigstore.dev/cosign/sign/v1', PINNED),
        entry('cosign container image signature', PINNED, null)
      ]),
      PINNED
    )
    expect(summary).toEqual({ outcome: 'verified', count: 2 })
  })

  it('reads identity, issuer, log index and integrated time from a LEGACY certificate entry', () => {
    const summary = summarizeVerifyOutput(
      verifyStdout([
        entry('cosign container image signature', PINNED, {
          Subject: 'https://github.com/rocm/x/.github/workflows/r.yml@refs/heads/main',
          Issuer: 'https://token.actions.githubusercontent.com',
          Bundle: { Payload: { logIndex: 42, integratedTime: 1_767_225_600 } }
        })
      ]),
      PINNED
    )
    expect(summary).toEqual({
      outcome: 'verified',
      count: 1,
      identity: 'https://github.com/rocm/x/.github/workflows/r.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      rekorLogIndex: 42,
      signedAt: '2026-01-01T00:00:00.000Z'
    })
  })

  it('does not count an attestation as a signature', () => {
    const summary = summarizeVerifyOutput(
      verifyStdout([entry('https://slsa.dev/provenance/v1', PINNED)]),
      PINNED
    )
    expect(summary.outcome).toBe('unsigned')
    expect(summary.count).toBe(0)
    if (summary.outcome !== 'verified')
      expect(summary.message).toContain('https://slsa.dev/provenance/v1')
  })

  it('refuses a signature of another digest', () => {
    const summary = summarizeVerifyOutput(
      verifyStdout([
        entry('https://sigstore.dev/cosign/sign/v1', PINNED),
        entry('https://sigstore.dev/cosign/sign/v1', OTHER)
      ]),
      PINNED
    )
    expect(summary.outcome).toBe('invalid')
    if (summary.outcome !== 'verified') expect(summary.message).toContain(OTHER)
  })

  it('calls output that is not a JSON array a tool error', () => {
    expect(summarizeVerifyOutput('Verification for x --', PINNED).outcome).toBe('tool-error')
    expect(summarizeVerifyOutput('{"critical":{}}', PINNED).outcome).toBe('tool-error')
  })
})

function envelope(statement: object | string): { line: string; digest: string } {
  const bytes = Buffer.from(typeof statement === 'string' ? statement : JSON.stringify(statement))
  return {
    line: JSON.stringify({
      payload: bytes.toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ keyid: '', sig: 'MEUCIQ' }]
    }),
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  }
}

function statement(subject: string, predicateType: string, predicate: object): object {
  return {
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [
      { name: '127.0.0.1:5000/r/img', digest: { sha256: subject.slice('sha256:'.length) } }
    ],
    predicateType,
    predicate
  }
}

describe('summarizeAttestationOutput', () => {
  const v1 = statement(PINNED, 'https://slsa.dev/provenance/v1', {
    runDetails: {
      builder: { id: 'https://github.com/rocm/x/.github/workflows/r.yml@refs/heads/main' }
    }
  })

  it('records the statement digest, subject, predicate type and SLSA v1 builder', () => {
    const { line, digest } = envelope(v1)
    expect(summarizeAttestationOutput(`${line}\n`, PINNED, 'slsaprovenance1')).toEqual({
      outcome: 'verified',
      predicateType: 'https://slsa.dev/provenance/v1',
      digest,
      subjectDigest: PINNED,
      builderId: 'https://github.com/rocm/x/.github/workflows/r.yml@refs/heads/main',
      count: 1
    })
  })

  it('reads the SLSA v0.2 builder and accepts the type URI as well as the shorthand', () => {
    const { line } = envelope(
      statement(PINNED, 'https://slsa.dev/provenance/v0.2', { builder: { id: 'b02' } })
    )
    const summary = summarizeAttestationOutput(line, PINNED, 'https://slsa.dev/provenance/v0.2')
    expect(summary.outcome === 'verified' && summary.builderId).toBe('b02')
  })

  it('gives the same digest for two envelopes of one statement (the signature does not count)', () => {
    const first = envelope(v1)
    const second = JSON.stringify({ ...JSON.parse(first.line), signatures: [{ sig: 'other' }] })
    const a = summarizeAttestationOutput(first.line, PINNED, 'slsaprovenance1')
    const b = summarizeAttestationOutput(second, PINNED, 'slsaprovenance1')
    expect(a.outcome === 'verified' && b.outcome === 'verified' && a.digest === b.digest).toBe(true)
  })

  it('refuses a statement about another digest', () => {
    const { line } = envelope(statement(OTHER, 'https://slsa.dev/provenance/v1', {}))
    const summary = summarizeAttestationOutput(line, PINNED, 'slsaprovenance1')
    expect(summary.outcome).toBe('attestation-invalid')
  })

  it('calls a statement of another predicate type missing', () => {
    const { line } = envelope(statement(PINNED, 'https://spdx.dev/Document', {}))
    expect(summarizeAttestationOutput(line, PINNED, 'slsaprovenance1').outcome).toBe(
      'attestation-missing'
    )
  })

  it('trusts cosign’s filtering for a shorthand it does not know', () => {
    const { line } = envelope(statement(PINNED, 'https://openvex.dev/ns/v0.2.0', {}))
    const summary = summarizeAttestationOutput(line, PINNED, 'openvex')
    expect(summary.outcome).toBe('verified')
    expect(summary.predicateType).toBe('https://openvex.dev/ns/v0.2.0')
    expect(expandPredicateType('openvex')).toBeUndefined()
  })

  it('calls an unreadable envelope or no output a tool error', () => {
    expect(
      summarizeAttestationOutput(
        '{"payload":"e30=","payloadType":"text/plain"}',
        PINNED,
        'slsaprovenance1'
      ).outcome
    ).toBe('tool-error')
    expect(
      summarizeAttestationOutput(envelope('not json').line, PINNED, 'slsaprovenance1').outcome
    ).toBe('tool-error')
    expect(summarizeAttestationOutput('', PINNED, 'slsaprovenance1').outcome).toBe('tool-error')
  })
})

describe('publicKeyFingerprint', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()

  it('is the SHA-256 of the DER public key, as openssl computes it', () => {
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pem })
    const expected = `sha256:${createHash('sha256').update(der).digest('hex')}`
    expect(publicKeyFingerprint(pem)).toBe(expected)
    expect(publicKeyFingerprint(pem.replace(/\n/g, '\r\n'))).toBe(expected)
  })

  it('refuses a file that is not a public key', () => {
    expect(() =>
      publicKeyFingerprint(
        '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n'
      )
    ).toThrow()
  })

  it('compares with or without the sha256: prefix, in any case', () => {
    expect(sameFingerprint(`sha256:${'ab'.repeat(32)}`, 'AB'.repeat(32))).toBe(true)
    expect(sameFingerprint(`sha256:${'ab'.repeat(32)}`, `sha256:${'ac'.repeat(32)}`)).toBe(false)
  })
})

describe('checkKeyWindow', () => {
  const now = new Date('2026-03-15T12:00:00Z')
  it.each([
    [{}, 'valid'],
    [{ validFrom: '2026-03-15', validUntil: '2026-03-15' }, 'valid'],
    [{ validFrom: '2026-01-01', validUntil: '2026-03-14' }, 'expired'],
    [{ validFrom: '2026-03-16' }, 'not-yet-valid'],
    [{ validUntil: '2026-03-15T11:59:59Z' }, 'expired'],
    [{ validUntil: 'next spring' }, 'bad-date']
  ])('%j at 2026-03-15T12:00Z → %s', (window, status) => {
    expect(checkKeyWindow(window, now).status).toBe(status)
  })

  it('names the instant it judged in its message (the log-vouched signing time, or now)', () => {
    const signedAt = new Date('2026-02-01T08:00:00Z')
    expect(checkKeyWindow({ validUntil: '2026-03-01' }, signedAt, 'signed at').status).toBe('valid')
    const late = checkKeyWindow({ validUntil: '2026-01-31' }, signedAt, 'signed at')
    expect(late).toEqual({
      status: 'expired',
      message: 'signing key expired: valid_until 2026-01-31, signed at 2026-02-01T08:00:00.000Z'
    })
  })
})

describe('bundle signers', () => {
  const release = {
    identity: 'https://github.com/rocm/x/.github/workflows/release.yml@refs/heads/main',
    issuer: 'https://token.actions.githubusercontent.com',
    rekorLogIndex: 7
  }
  const other = {
    identity: 'https://github.com/other/y/.github/workflows/r.yml@refs/heads/main',
    issuer: release.issuer
  }

  it('picks the signer whose identity matches the RE2 pattern and whose issuer is the expected one', () => {
    const expected = {
      kind: 'keyless' as const,
      identity: '^https://github\\.com/rocm/',
      issuer: release.issuer,
      issuerIsRegexp: false
    }
    expect(pickBundleSigner([other, release], expected)).toBe(release)
    expect(
      pickBundleSigner([release], { ...expected, issuer: 'https://accounts.google.com' })
    ).toBeUndefined()
    expect(
      pickBundleSigner([release], {
        ...expected,
        issuer: '^https://token\\.',
        issuerIsRegexp: true
      })
    ).toBe(release)
  })

  it('reads no signer from a bundle without a certificate (key-based) and passes over lines that are not JSON', () => {
    const keyBased = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: '' } }
    })
    const signers = readSignatureBundles(`${keyBased}\nnot json\n`).map(bundle => bundle.signer)
    expect(signers).toEqual([{}])
    expect(
      pickBundleSigner(signers, {
        kind: 'keyless',
        identity: '.*',
        issuer: '.*',
        issuerIsRegexp: true
      })
    ).toBeUndefined()
  })

  it('reads what a stored key-signed cosign 3 signature claims (as cosign 3.1.1 writes it)', () => {
    const digestHex = 'c'.repeat(64)
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: digestHex }, annotations: {} }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {}
    }
    const keyHash = Buffer.alloc(32, 0xab)
    const stored = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        publicKey: { hint: keyHash.toString('base64') },
        tlogEntries: [{ logIndex: '9360421', integratedTime: '1795785574' }]
      },
      dsseEnvelope: {
        payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
        payloadType: 'application/vnd.in-toto+json',
        signatures: [{ sig: 'MEQ=' }]
      }
    })
    expect(readSignatureBundles(`not json\n${stored}\n`)).toEqual([
      {
        json: stored,
        signer: { rekorLogIndex: 9360421, signedAt: '2026-11-27T13:19:34.000Z' },
        claims: {
          predicateType: 'https://sigstore.dev/cosign/sign/v1',
          subjectDigests: [`sha256:${digestHex}`],
          tlogEntries: 1,
          keyFingerprint: `sha256:${keyHash.toString('hex')}`,
          signedAt: '2026-11-27T13:19:34.000Z'
        }
      }
    ])
  })
})

describe('dockerConfigFor', () => {
  const credentials = { username: 'ci-reader', password: 'pw' }
  const auth = Buffer.from('ci-reader:pw').toString('base64')

  it('keys Docker Hub credentials the way cosign looks them up', () => {
    expect(dockerConfigFor('docker.io', credentials)).toEqual({
      auths: { 'https://index.docker.io/v1/': { auth } }
    })
  })

  it('keys every other registry by its host, and holds nothing else', () => {
    expect(dockerConfigFor('ghcr.io', credentials)).toEqual({ auths: { 'ghcr.io': { auth } } })
    expect(dockerConfigFor('127.0.0.1:5000', credentials)).toEqual({
      auths: { '127.0.0.1:5000': { auth } }
    })
  })
})
