/** The updater's outcome as terminal text (src/render/update-text.ts): plain, reasons in full. */
import { describe, expect, it } from '@jest/globals'
import { renderUpdateText } from '../../src/render/update-text.js'
import type { Digest } from '../../src/domain/types.js'

const OLD = `sha256:${'a'.repeat(64)}` as Digest
const NEW = `sha256:${'b'.repeat(64)}` as Digest

describe('renderUpdateText', () => {
  it('a line per pin written and per digest refused, the reason in full and unescaped', () => {
    const reason = `min_age_days=3: signed 1.0 days ago; "policy" says ${'x'.repeat(500)}`
    const text = renderUpdateText({
      updated: [
        {
          reference: 'ghcr.io/rocm/dev:6.4.4-ubuntu-22.04',
          version: '6.4.4',
          os: 'ubuntu-22.04',
          oldDigest: OLD,
          newDigest: NEW,
          trustStatus: 'valid',
          signer: 'ci/keys/release.pub',
          reason: 'tag-moved'
        }
      ],
      rejected: [
        {
          reference: 'ghcr.io/rocm/dev:6.4.3-ubuntu-24.04',
          version: '6.4.3',
          os: 'ubuntu-24.04',
          newDigest: NEW,
          trustStatus: 'valid',
          trigger: 'pin-stale',
          reason
        }
      ]
    })
    expect(text).toBe(
      [
        'updated  ghcr.io/rocm/dev:6.4.4-ubuntu-22.04  sha256:aaaaaaaaaaaa → sha256:bbbbbbbbbbbb  (tag moved; valid, signed by ci/keys/release.pub)',
        `refused  ghcr.io/rocm/dev:6.4.3-ubuntu-24.04  sha256:bbbbbbbbbbbb  (pin older than digest_ttl; valid): ${reason}`,
        ''
      ].join('\n')
    )
    expect(text).not.toMatch(/&#|&quot;/)
  })

  it('says so when nothing is to change', () => {
    expect(renderUpdateText({ updated: [], rejected: [] })).toBe(
      'every pin is current and within its policy\n'
    )
  })
})
