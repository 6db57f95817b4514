import { describe, expect, it } from '@jest/globals'
import { codeSpan, escapeMarkdown, oneLine } from '../../src/render/markdown.js'
import { renderPrBody } from '../../src/render/pr-body.js'
import type { Digest } from '../../src/domain/types.js'

const OLD = `sha256:${'a'.repeat(64)}` as Digest
const NEW = `sha256:${'b'.repeat(64)}` as Digest

describe('renderPrBody', () => {
  it('lists each update with old → new digest, trust, signer and evidence', () => {
    const body = renderPrBody({
      matrixPath: 'ci/rocm_matrix.yml',
      updated: [
        {
          reference: 'ghcr.io/rocm/dev:6.4.4-ubuntu-22.04',
          version: '6.4.4',
          os: 'ubuntu-22.04',
          oldDigest: OLD,
          newDigest: NEW,
          trustStatus: 'valid',
          signer: 'key sha256:ff',
          rekorLogIndex: 42,
          attestationDigest: NEW,
          reason: 'tag-moved'
        }
      ],
      rejected: []
    })
    expect(body).toContain('## ROCm image pins in `ci/rocm_matrix.yml`')
    expect(body).toContain('1 pin updated to digests that pass the policy; 0 digests not written.')
    expect(body).toContain(
      `| \`ghcr.io/rocm/dev:6.4.4-ubuntu-22.04\` | tag moved | \`${OLD}\` → \`${NEW}\` | valid | \`key sha256:ff\` | Rekor log index 42<br>attestation \`${NEW}\` |`
    )
    expect(body).not.toContain('Not updated')
  })

  it('shows each changed row’s evidence, pin beside candidate, and the verified signing time', () => {
    const body = renderPrBody({
      matrixPath: 'ci/rocm_matrix.yml',
      updated: [
        {
          reference: 'ghcr.io/rocm/dev:6.4.4-ubuntu-22.04',
          version: '6.4.4',
          os: 'ubuntu-22.04',
          oldDigest: OLD,
          newDigest: NEW,
          trustStatus: 'valid',
          reason: 'tag-moved',
          evidence: {
            current: {
              signers: [{ name: 'release', who: 'key sha256:ff' }],
              attestations: []
            },
            candidate: {
              signers: [
                { name: 'release', who: 'key sha256:ff' },
                { name: 'provenance', who: 'https://github.com/rocm/x|y' }
              ],
              attestations: [{ requirement: 'SLSA provenance', signedBy: 'images-ci' }]
            }
          },
          signedAt: { at: '2026-11-25T10:00:00.000Z', source: 'tlog', signer: 'release' }
        },
        {
          reference: 'ghcr.io/rocm/dev:6.5.0-ubuntu-22.04',
          version: '6.5.0',
          os: 'ubuntu-22.04',
          newDigest: NEW,
          trustStatus: 'valid',
          reason: 'new-tag',
          evidence: { candidate: { signers: [], attestations: [] } }
        }
      ],
      rejected: []
    })
    expect(body).toContain(
      [
        '### Evidence',
        '',
        `\`ghcr.io/rocm/dev:6.4.4-ubuntu-22.04\`: \`${OLD}\` → \`${NEW}\``,
        '',
        '| | pin | candidate |',
        '|---|---|---|',
        '| signers | release (`key sha256:ff`) | release (`key sha256:ff`)<br>`https://github.com/rocm/x\\|y` |',
        '| attestations | none | SLSA provenance by images-ci |',
        '| verified signing time | — | 2026-11-25T10:00:00.000Z (transparency log, release) |',
        '',
        `\`ghcr.io/rocm/dev:6.5.0-ubuntu-22.04\`: — → \`${NEW}\``,
        '',
        '| | pin | candidate |',
        '|---|---|---|',
        '| signers | — | none |',
        '| attestations | — | none |',
        '| verified signing time | — | not verified |',
        ''
      ].join('\n')
    )
  })

  it('says why a digest was not written, as text that cannot become markup', () => {
    const body = renderPrBody({
      matrixPath: 'ci/rocm_matrix.yml',
      updated: [],
      rejected: [
        {
          reference: 'ghcr.io/rocm/dev:6.5.0-ubuntu-24.04',
          version: '6.5.0',
          os: 'ubuntu-24.04',
          newDigest: NEW,
          trustStatus: 'unsigned',
          signer: 'key ci/keys/a|b.pub',
          trigger: 'new-tag',
          reason:
            'signature: no signature found | <img src=x onerror=alert(1)> see [here](http://evil) @octocat\n`code` *bold*'
        }
      ]
    })
    const rowLine = body.split('\n').find(line => line.startsWith('| `ghcr.io/rocm/dev:6.5.0'))
    expect(rowLine).toBeDefined()
    // The cells stay six: every `|` inside a cell is escaped.
    expect(rowLine?.split(/(?<!\\)\|/).length).toBe(8)
    expect(rowLine).toContain(
      '| new tag | — → `' + NEW + '` | unsigned | `key ci/keys/a\\|b.pub` |'
    )
    expect(rowLine).not.toMatch(/<img|\]\(http|@octocat/)
    expect(rowLine).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(rowLine).toContain('&#91;here&#93;(http://evil)')
    expect(rowLine).toContain('&#96;code&#96; &#42;bold&#42;')
  })

  it('says so when nothing changes', () => {
    expect(renderPrBody({ matrixPath: 'm.yml', updated: [], rejected: [] })).toBe(
      '## ROCm image pins in `m.yml`\n\nEvery pin is current and within its policy; nothing to change.\n'
    )
  })
})

describe('codeSpan', () => {
  it('fences text containing backticks with a longer fence', () => {
    expect(codeSpan('a`b', 400)).toBe('``a`b``')
    expect(codeSpan('`x', 400)).toBe('`` `x ``')
  })
})

describe('escapeMarkdown and oneLine', () => {
  it('breaks @-mentions and flattens lines', () => {
    expect(escapeMarkdown('ping @team\nnow')).toBe('ping @&#8203;team now')
  })

  it('cuts very long messages', () => {
    expect(oneLine('x'.repeat(1000), 400).length).toBeLessThanOrEqual(400)
  })
})
