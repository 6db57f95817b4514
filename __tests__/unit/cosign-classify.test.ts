import { describe, expect, it } from '@jest/globals'
import {
  CLASSIFICATION_RULES,
  classifyCosignExit,
  cosignErrorMessage,
  type CosignCommand
} from '../../src/adapters/cosign/classify.js'

const WARNING =
  'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.\n'

/** cosign's failure shape: warnings first, then `Error:` and `error during command execution:`. */
function stderrOf(message: string): string {
  return `${WARNING}Error: ${message}\nerror during command execution: ${message}\n`
}

interface Row {
  rule: string
  command: CosignCommand
  exitCode: number | null
  stderr: string
  timedOut?: boolean
  signal?: string
  outcome: string
  needsConfirmation?: boolean
}

// One row per rule, with messages as the real cosign 3.1.1 prints them.
const ROWS: Row[] = [
  {
    rule: 'killed',
    command: 'verify',
    exitCode: null,
    signal: 'SIGKILL',
    timedOut: true,
    stderr: '',
    outcome: 'tool-error'
  },
  {
    rule: 'registry-auth',
    command: 'verify',
    exitCode: 1,
    stderr: stderrOf(
      'GET http://127.0.0.1:5000/v2/rocm/dev/manifests/sha256-ab: UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:rocm/dev Type:repository]]'
    ),
    outcome: 'registry-auth'
  },
  {
    rule: 'network-timeout',
    command: 'verify',
    exitCode: 1,
    stderr: stderrOf(
      'loading verifier from key opts: loading public key: context deadline exceeded'
    ),
    outcome: 'transient'
  },
  {
    rule: 'network-connection',
    command: 'verify-attestation',
    exitCode: 1,
    stderr: stderrOf(
      'Get "https://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused'
    ),
    outcome: 'transient'
  },
  {
    rule: 'registry-unavailable',
    command: 'verify',
    exitCode: 12,
    stderr: stderrOf(
      'no matching signatures: GET http://127.0.0.1:5000/v2/r/blobs/sha256:ab: unexpected status code 503 Service Unavailable: UNAVAILABLE: injected fault'
    ),
    outcome: 'transient'
  },
  {
    rule: 'not-found',
    command: 'verify',
    exitCode: 1,
    stderr: stderrOf(
      'GET http://127.0.0.1:5000/v2/r/manifests/sha256:ab: MANIFEST_UNKNOWN: manifest unknown'
    ),
    outcome: 'not-found'
  },
  {
    rule: 'exit-11-not-found',
    command: 'verify',
    exitCode: 11,
    stderr: stderrOf('tag gone'),
    outcome: 'not-found'
  },
  {
    rule: 'certificate-expired',
    command: 'verify',
    exitCode: 1,
    stderr: stderrOf(
      'no matching attestations: failed to verify log inclusion: integrated time outside certificate validity'
    ),
    outcome: 'expired'
  },
  {
    rule: 'no-signatures',
    command: 'verify',
    exitCode: 10,
    stderr: stderrOf('no signatures found'),
    outcome: 'unsigned',
    needsConfirmation: true
  },
  {
    rule: 'exit-10-no-signatures',
    command: 'verify',
    exitCode: 10,
    stderr: stderrOf('something else'),
    outcome: 'unsigned',
    needsConfirmation: true
  },
  {
    rule: 'predicate-type-not-found',
    command: 'verify-attestation',
    exitCode: 1,
    stderr: stderrOf(
      'none of the attestations matched the predicate type: slsaprovenance1, found: https://sigstore.dev/cosign/sign/v1'
    ),
    outcome: 'attestation-missing'
  },
  {
    rule: 'no-attestations',
    command: 'verify-attestation',
    exitCode: 1,
    stderr: stderrOf('no matching attestations: '),
    outcome: 'attestation-missing',
    needsConfirmation: true
  },
  {
    rule: 'verification-failed',
    command: 'verify',
    exitCode: 1,
    stderr: stderrOf(
      'no matching attestations: failed to verify signature: could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1'
    ),
    outcome: 'invalid'
  },
  {
    rule: 'exit-12-no-matching',
    command: 'verify',
    exitCode: 12,
    stderr: stderrOf('something new'),
    outcome: 'invalid'
  },
  {
    rule: 'exit-13-no-certificate',
    command: 'verify',
    exitCode: 13,
    stderr: stderrOf('something new'),
    outcome: 'invalid'
  },
  {
    rule: 'anything-else',
    command: 'verify',
    exitCode: 1,
    stderr: stderrOf('loading public key: open /w/keys/missing.pub: no such file or directory'),
    outcome: 'tool-error'
  }
]

describe('classifyCosignExit', () => {
  it.each(ROWS)('rule $rule: $command exit $exitCode → $outcome', row => {
    const classification = classifyCosignExit({
      command: row.command,
      exitCode: row.exitCode,
      stderr: row.stderr,
      ...(row.timedOut ? { timedOut: true } : {}),
      ...(row.signal ? { signal: row.signal } : {})
    })
    expect(classification.rule).toBe(row.rule)
    expect(classification.outcome).toBe(row.outcome)
    expect(classification.needsConfirmation ?? false).toBe(row.needsConfirmation ?? false)
  })

  it('has a test row for every rule, in table order', () => {
    expect(ROWS.map(row => row.rule)).toEqual(CLASSIFICATION_RULES.map(rule => rule.id))
  })

  it('maps the same failure to the attestation outcomes for verify-attestation', () => {
    const wrongKey = stderrOf(
      'no matching attestations: failed to verify signature: could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1'
    )
    expect(
      classifyCosignExit({ command: 'verify-attestation', exitCode: 1, stderr: wrongKey }).outcome
    ).toBe('attestation-invalid')
    expect(
      classifyCosignExit({
        command: 'verify-attestation',
        exitCode: 1,
        stderr: stderrOf(
          'failed to verify log inclusion: integrated time outside certificate validity'
        )
      }).outcome
    ).toBe('attestation-invalid')
  })

  it('treats a 503 on the legacy path as transient although cosign exits 12', () => {
    const legacy503 = classifyCosignExit({
      command: 'verify',
      exitCode: 12,
      stderr: stderrOf(
        'no matching signatures: GET http://h/v2/r/blobs/sha256:ab: unexpected status code 503 Service Unavailable'
      )
    })
    expect(legacy503.outcome).toBe('transient')
  })

  it('treats 429 with a JSON error body as transient', () => {
    expect(
      classifyCosignExit({
        command: 'verify',
        exitCode: 1,
        stderr: stderrOf('GET http://h/v2/: TOOMANYREQUESTS: slow down')
      }).outcome
    ).toBe('transient')
  })

  it('does not take a permission problem on a local file for a registry denial', () => {
    const local = classifyCosignExit({
      command: 'verify',
      exitCode: 1,
      stderr: stderrOf('loading public key: open /w/k.pub: permission denied')
    })
    expect(local.outcome).toBe('tool-error')
  })

  it('says a killed process was killed, not what it printed', () => {
    const killed = classifyCosignExit({
      command: 'verify-attestation',
      exitCode: null,
      signal: 'SIGKILL',
      stderr: 'partial'
    })
    expect(killed.outcome).toBe('tool-error')
    expect(killed.message).toBe('cosign verify-attestation was killed by SIGKILL')
  })
})

describe('cosignErrorMessage', () => {
  it('takes the last Error: line after warnings', () => {
    expect(cosignErrorMessage(stderrOf('no signatures found'), 10)).toBe('no signatures found')
  })
  it('falls back to the last line, or says nothing was printed', () => {
    expect(cosignErrorMessage('panic: runtime error\n\n', 2)).toBe('panic: runtime error')
    expect(cosignErrorMessage('', 2)).toBe('cosign exited with code 2 and printed nothing')
  })
  it('shortens a very long message', () => {
    const message = cosignErrorMessage(stderrOf('x'.repeat(5000)), 1)
    expect(message.length).toBeLessThan(700)
    expect(message.endsWith('…')).toBe(true)
  })
})
