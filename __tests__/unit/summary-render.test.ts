import { describe, expect, it } from '@jest/globals'
import { annotationsFor, MAX_ANNOTATIONS_PER_LEVEL } from '../../src/render/annotations.js'
import { escapeMarkdown } from '../../src/render/markdown.js'
import { MAX_IMAGES_OUTPUT, renderImagesOutput } from '../../src/render/outputs.js'
import {
  compactCell,
  MAX_SUMMARY_ROWS,
  renderJobSummary,
  renderTextSummary
} from '../../src/render/summary.js'
import {
  CURRENT,
  KEY_SIGNER,
  KEYLESS_SIGNER,
  makeImage,
  makeRun,
  VERIFIED_BY_KEY,
  VERIFIED_KEYLESS
} from '../helpers/run-fixtures.js'

const HOSTILE =
  'evil|cell <img src=x onerror=alert(1)> `code` **bold** [link](http://x)\nsecond line'

describe('escapeMarkdown', () => {
  it('leaves no markup, cell break or line break', () => {
    const escaped = escapeMarkdown(HOSTILE)
    expect(escaped).not.toMatch(/[|<>`*[\]\n\r]/)
    expect(escaped).toBe(
      'evil&#124;cell &lt;img src=x onerror=alert(1)&gt; &#96;code&#96; &#42;&#42;bold&#42;&#42; &#91;link&#93;(http://x) second line'
    )
  })
})

describe('renderJobSummary', () => {
  const run = makeRun([
    makeImage(
      { policy: { requireSignature: true }, signer: KEYLESS_SIGNER, signature: VERIFIED_KEYLESS },
      0
    ),
    makeImage(
      {
        digest: { status: 'drift', currentDigest: CURRENT },
        age: { ageDays: 30, stale: true },
        signer: KEY_SIGNER,
        signature: { outcome: 'invalid', expected: 'keys/a|b.pub', message: HOSTILE }
      },
      1
    )
  ])
  const markdown = renderJobSummary(run)

  it('opens with the decision, the exit code and the counts by trust status', () => {
    expect(markdown).toContain('**FAIL (exit 2), trust invalid — 2 images: 1 valid, 1 invalid**')
  })

  it('has one table row per image, at most six columns, the log index in the details', () => {
    const tableLines = markdown.split('\n').filter(line => line.startsWith('|'))
    expect(tableLines).toHaveLength(4)
    const cellCounts = tableLines.map(line => line.split('|').length)
    expect(new Set(cellCounts).size).toBe(1)
    expect(cellCounts[0] - 2).toBeLessThanOrEqual(6)
    expect(tableLines[2]).not.toContain('123456789')
    expect(markdown).toContain('Rekor log index 123456789')
    expect(tableLines[2]).toContain('<code>sha256:aaaaaaaaaaaa</code>')
    expect(tableLines[3]).toContain('drift → sha256:bbbbbbbbbbbb')
    expect(tableLines[3]).toContain('30/7 d (stale)')
    const keyed = renderJobSummary(
      makeRun([makeImage({ signer: KEY_SIGNER, signature: VERIFIED_BY_KEY })])
    )
    expect(keyed).toContain('| key sha256:cccccccccccc |')
    // A long keyless identity keeps its last segment in the table, all of it in the details.
    const keyless = renderJobSummary(
      makeRun([makeImage({ signer: KEYLESS_SIGNER, signature: VERIFIED_KEYLESS })])
    )
    const row = keyless.split('\n').filter(line => line.startsWith('|'))[2]
    const signerCell = row.split('|')[4].trim()
    expect(signerCell.startsWith('…/')).toBe(true)
    expect(compactCell(VERIFIED_KEYLESS.identity ?? '').length).toBeLessThanOrEqual(40)
    expect(keyless).toContain(`Signer: ${escapeMarkdown(VERIFIED_KEYLESS.identity ?? '')}`)
    expect(
      compactCell(
        'invalid (^https://github\\.com/example/rocm-images/\\.github/workflows/release\\.yml@.*$)'
      )
    ).toBe('invalid (…/\\.github/workflows/release\\.yml@.*$)')
    expect(compactCell('key sha256:cccccccccccc')).toBe('key sha256:cccccccccccc')
  })

  it('puts each decision path in a collapsible block, escaped', () => {
    expect(markdown.match(/<details>/g)).toHaveLength(2)
    expect(markdown.match(/<\/details>/g)).toHaveLength(2)
    expect(markdown).not.toContain('<img')
    expect(markdown).not.toContain('`code`')
    expect(markdown).toContain('&lt;img src=x')
    expect(markdown).toContain('keys/a&#124;b.pub')
    expect(markdown).toContain(
      '<code>mode=strict&#124;require&#95;sig=false&#124;attest=none&#124;status=2</code>'
    )
  })

  it('lists configuration problems with their place when there are no images', () => {
    const broken = makeRun([], {
      configIssues: [
        {
          code: 'unknown-key',
          message: 'unknown key <mdoe>',
          location: { file: 'ci/rocm_policy.yml', line: 2, column: 3 }
        }
      ]
    })
    const text = renderJobSummary(broken)
    expect(text).toContain('**FAIL (exit 4), trust unknown — no images checked**')
    expect(text).toContain('- <code>ci/rocm&#95;policy.yml:2:3</code>: unknown key &lt;mdoe&gt;')
    expect(text).not.toContain('| status |')
  })
})

describe('renderTextSummary', () => {
  it('aligns one line per image and lists each path, with control characters flattened', () => {
    const run = makeRun([
      makeImage({}, 0),
      makeImage(
        { signer: KEY_SIGNER, signature: { outcome: 'transient', message: 'boom\u001b[31mred' } },
        1
      )
    ])
    const text = renderTextSummary(run)
    const lines = text.split('\n')
    expect(lines[0]).toBe(
      'rocm-provenance: WARN (exit 1), trust unknown — 2 images: 1 unsigned, 1 unknown'
    )
    const header = lines[2]
    expect(header.startsWith('STATUS    IMAGE')).toBe(true)
    expect(lines[3].indexOf('ghcr.io')).toBe(header.indexOf('IMAGE'))
    expect(lines[4].indexOf('ghcr.io')).toBe(header.indexOf('IMAGE'))
    expect(text).not.toContain('\u001b')
    expect(text).toContain('boom?[31mred')
    expect(text).toContain('  3. signature: check could not complete (transient)')
  })
})

describe('annotationsFor', () => {
  it('puts digest problems on the digest line, signature problems on the row, config issues on their own line', () => {
    const run = makeRun(
      [
        makeImage({}, 0),
        makeImage(
          { digest: { status: 'drift', currentDigest: CURRENT }, policy: { mode: 'warn' } },
          1
        ),
        makeImage(
          {
            signer: KEY_SIGNER,
            policy: { requireSignature: true },
            signature: { outcome: 'invalid' }
          },
          2
        )
      ],
      {
        configIssues: [
          {
            code: 'bad-digest',
            message: 'not a digest',
            location: { file: 'ci/rocm_matrix.yml', line: 40, column: 15 }
          }
        ],
        errors: ['cosign could not be installed']
      }
    )
    expect(annotationsFor(run)).toEqual([
      {
        level: 'error',
        title: 'rocm-provenance: configuration (bad-digest)',
        message: 'not a digest',
        file: 'ci/rocm_matrix.yml',
        startLine: 40,
        startColumn: 15
      },
      { level: 'error', title: 'rocm-provenance: error', message: 'cosign could not be installed' },
      {
        level: 'warning',
        title: 'rocm-provenance: ghcr.io/rocm/dev:6.4.1-ubuntu-22.04 (exit 1, unsigned)',
        message: expect.stringMatching(/^digest: drift — .* → 2 \(warn: 2 → 1\)$/),
        file: 'ci/rocm_matrix.yml',
        startLine: 10,
        startColumn: 15
      },
      {
        level: 'error',
        title: 'rocm-provenance: ghcr.io/rocm/dev:6.4.2-ubuntu-22.04 (exit 3, invalid)',
        message: expect.stringMatching(/^signature: signature invalid .*→ 3$/),
        file: 'ci/rocm_matrix.yml',
        startLine: 13,
        startColumn: 7
      }
    ])
  })
})

describe('bounds on what a large matrix or a broken file produces', () => {
  const many = Array.from({ length: 10_000 }, (_, i) =>
    i === 9_999
      ? makeImage({ digest: { status: 'drift', currentDigest: CURRENT } }, i)
      : makeImage({}, i)
  )
  const run = makeRun(many)

  it('keeps a 10,000-row job summary under 1 MiB, says how many rows are left out, and shows the failure', () => {
    const summary = renderJobSummary(run)
    expect(Buffer.byteLength(summary)).toBeLessThan(1024 * 1024)
    expect(summary).toContain(`… ${10_000 - MAX_SUMMARY_ROWS} more images, see the report`)
    expect(summary).toMatch(/more decision paths, see the report/)
    // The one drifted image sorts first once the list is cut.
    const firstRow = summary
      .split('\n')
      .find(line => line.startsWith('| ') && !line.startsWith('| status'))
    expect(firstRow).toContain('drift')
  })

  it('lists at most MAX_IMAGES_OUTPUT images in the images output and counts the rest', () => {
    const output = renderImagesOutput(run)
    expect(JSON.parse(output.json)).toHaveLength(MAX_IMAGES_OUTPUT)
    expect(output.omitted).toBe(10_000 - MAX_IMAGES_OUTPUT)
    expect(output.json.length).toBeLessThan(1024 * 1024)
    expect(renderImagesOutput(makeRun(many.slice(0, 3)))).toMatchObject({ omitted: 0 })
  })

  it('gives 90,000 configuration problems 10 error annotations, the last one saying how many more', () => {
    const issues = Array.from({ length: 90_000 }, (_, i) => ({
      code: 'unknown-key',
      message: `unknown key \`k${i}\``,
      location: { file: 'ci/rocm_matrix.yml', line: i + 1, column: 3 }
    }))
    const annotations = annotationsFor(makeRun([], { configIssues: issues, errors: ['boom'] }))
    expect(annotations).toHaveLength(MAX_ANNOTATIONS_PER_LEVEL)
    expect(annotations.every(a => a.level === 'error')).toBe(true)
    expect(annotations[0].message).toBe('unknown key `k0`')
    expect(annotations.at(-1)?.message).toBe(
      `… ${90_001 - (MAX_ANNOTATIONS_PER_LEVEL - 1)} more errors, see the report`
    )
    const summary = renderJobSummary(makeRun([], { configIssues: issues }))
    expect(Buffer.byteLength(summary)).toBeLessThan(1024 * 1024)
    expect(summary).toMatch(/… \d+ more configuration problems, see the report/)
  })

  it('leaves a small run whole', () => {
    const small = makeRun(many.slice(0, 5))
    expect(renderJobSummary(small)).not.toContain('more images')
    expect(annotationsFor(small)).toHaveLength(0)
  })
})

describe('the preferred image in the summaries', () => {
  it('names the row chosen for the image output and why', () => {
    const run = {
      ...makeRun([makeImage({}, 0)]),
      preferredImage: `ghcr.io/rocm/dev:6.4.4-ubuntu-22.04@${CURRENT}`,
      preferredReason:
        '6.4.4 / ubuntu-22.04, chosen by `default`; passed over as not pinned: 6.4.4 / ubuntu-24.04 (prefer_os ubuntu-24.04)'
    }
    expect(renderJobSummary(run)).toContain(
      'Preferred image (`image` output): <code>ghcr.io/rocm/dev:6.4.4-ubuntu-22.04@'
    )
    expect(renderJobSummary(run)).toContain('passed over as not pinned: 6.4.4 / ubuntu-24.04')
    expect(renderTextSummary(run)).toContain('  preferred: ghcr.io/rocm/dev:6.4.4-ubuntu-22.04@')
  })
})
