import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { editMatrix, MatrixEditError } from '../../src/config/matrix-edit.js'
import type { Digest } from '../../src/domain/types.js'

const OLD_A = `sha256:${'a'.repeat(64)}`
const OLD_B = `sha256:${'b'.repeat(64)}`
const NEW_1 = `sha256:${'1'.repeat(64)}` as Digest
const NEW_2 = `sha256:${'2'.repeat(64)}` as Digest
const NEW_3 = `sha256:${'3'.repeat(64)}` as Digest

/** A matrix as people write it: comments everywhere, three quoting styles, odd spacing. */
const MATRIX = `# ROCm images CI may run on.
# Keep this list sorted by version.

rocm:
  # Rows: one per (version, os).
  images:
    # --- 6.4 line ---
    - version: "6.4.4"        # current stable
      os: 'ubuntu-22.04'
      digest: "${OLD_A}"   # pinned by the bot
      added: "2026-10-01"
      provenance:
        key_path: ci/provenance_keys/rocm-stable.pub  # rotated 2026-09
        rekor_log_index: 17
        valid_until: '2027-06-30'

    - version: 6.4.4
      os: ubuntu-24.04
      digest: ${OLD_B}
      added: 2026-10-02
      # no provenance yet

    - version: '6.10.0'
      os: "rhel-9"
      digest: "sha256:TODO_NEXT_RELEASE"
      added: ""
  policy:
    default: ["6.4.4", "ubuntu-22.04"]   # what CI prefers
    prefer_os: "ubuntu-24.04"
# trailing comment
`

/** The lines of `after` that differ from `before` (same number of lines expected). */
function changedLines(
  before: string,
  after: string
): { line: number; before: string; after: string }[] {
  const a = before.split('\n')
  const b = after.split('\n')
  expect(b).toHaveLength(a.length)
  return a
    .map((line, i) => ({ line: i + 1, before: line, after: b[i] }))
    .filter(change => change.before !== change.after)
}

describe('editMatrix', () => {
  describe('when a row gets a new digest and provenance', () => {
    const edited = editMatrix(
      MATRIX,
      {
        update: [
          {
            index: 0,
            version: '6.4.4',
            os: 'ubuntu-22.04',
            digest: NEW_1,
            added: '2026-11-26',
            provenance: { key_fingerprint: `sha256:${'f'.repeat(64)}` }
          }
        ],
        append: []
      },
      'ci/rocm_matrix.yml'
    )

    it('changes only the digest and added values, in their own quoting', () => {
      const without = (text: string, line: string): string => text.replace(`${line}\n`, '')
      const changes = changedLines(
        without(MATRIX, '        rekor_log_index: 17'),
        without(edited, `        key_fingerprint: sha256:${'f'.repeat(64)}`)
      )
      expect(changes).toEqual([
        {
          line: 10,
          before: `      digest: "${OLD_A}"   # pinned by the bot`,
          after: `      digest: "${NEW_1}"   # pinned by the bot`
        },
        { line: 11, before: '      added: "2026-10-01"', after: '      added: "2026-11-26"' }
      ])
    })

    it('adds the fingerprint after the block’s last key, removes the stale log index, keeps the user’s keys', () => {
      expect(edited).toContain(
        [
          '      provenance:',
          '        key_path: ci/provenance_keys/rocm-stable.pub  # rotated 2026-09',
          "        valid_until: '2027-06-30'",
          `        key_fingerprint: sha256:${'f'.repeat(64)}`,
          '',
          '    - version: 6.4.4'
        ].join('\n')
      )
      expect(edited).not.toContain('rekor_log_index')
    })

    it('leaves every other byte as it was', () => {
      const start = edited.indexOf('    - version: 6.4.4\n')
      expect(edited.slice(start)).toBe(MATRIX.slice(MATRIX.indexOf('    - version: 6.4.4\n')))
      const head = MATRIX.slice(0, MATRIX.indexOf('      digest:'))
      expect(edited.startsWith(head)).toBe(true)
    })
  })

  describe('when a plain-style row without provenance is updated', () => {
    it('keeps plain values plain and adds a provenance block in the file’s indentation', () => {
      const edited = editMatrix(
        MATRIX,
        {
          update: [
            {
              index: 1,
              version: '6.4.4',
              os: 'ubuntu-24.04',
              digest: NEW_2,
              added: '2026-11-26',
              provenance: {
                signer_identity:
                  'https://github.com/rocm/rocm-images/.github/workflows/release.yml@refs/tags/v6.4.4',
                signer_issuer: 'https://token.actions.githubusercontent.com',
                rekor_log_index: 123456
              }
            }
          ],
          append: []
        },
        'm.yml'
      )
      const before = MATRIX.split('\n')
      const after = edited.split('\n')
      const at = before.indexOf('      # no provenance yet')
      expect(after.slice(0, at - 2)).toEqual(before.slice(0, at - 2))
      expect(after.slice(at - 2, at + 5)).toEqual([
        `      digest: ${NEW_2}`,
        '      added: 2026-11-26',
        '      provenance:',
        '        signer_identity: https://github.com/rocm/rocm-images/.github/workflows/release.yml@refs/tags/v6.4.4',
        '        signer_issuer: https://token.actions.githubusercontent.com',
        '        rekor_log_index: 123456',
        '      # no provenance yet'
      ])
      expect(after.slice(at + 5)).toEqual(before.slice(at + 1))
      const read = parse(edited) as { rocm: { images: Record<string, unknown>[] } }
      expect(read.rocm.images[1].provenance).toEqual({
        signer_identity:
          'https://github.com/rocm/rocm-images/.github/workflows/release.yml@refs/tags/v6.4.4',
        signer_issuer: 'https://token.actions.githubusercontent.com',
        rekor_log_index: 123456
      })
    })
  })

  describe('when a placeholder row is pinned', () => {
    it('replaces the placeholder and the empty date in their quoting', () => {
      const edited = editMatrix(
        MATRIX,
        {
          update: [
            {
              index: 2,
              version: '6.10.0',
              os: 'rhel-9',
              digest: NEW_3,
              added: '2026-11-26',
              provenance: {}
            }
          ],
          append: []
        },
        'm.yml'
      )
      expect(changedLines(MATRIX, edited)).toEqual([
        {
          line: 25,
          before: '      digest: "sha256:TODO_NEXT_RELEASE"',
          after: `      digest: "${NEW_3}"`
        },
        { line: 26, before: '      added: ""', after: '      added: "2026-11-26"' }
      ])
    })
  })

  describe('when keys are written with no value', () => {
    it('fills them in place, keeping their comments', () => {
      const text = [
        'rocm:',
        '  images:',
        '    - version: "6.4.4"',
        '      os: ubuntu-22.04',
        '      digest:          # to do',
        '      added:',
        '      provenance:   # filled by the updater',
        '    - version: "6.4.4"',
        '      os: ubuntu-24.04',
        ''
      ].join('\n')
      const edited = editMatrix(
        text,
        {
          update: [
            {
              index: 0,
              version: '6.4.4',
              os: 'ubuntu-22.04',
              digest: NEW_1,
              added: '2026-11-26',
              provenance: { rekor_log_index: 5 }
            }
          ],
          append: []
        },
        'm.yml'
      )
      expect(edited).toBe(
        [
          'rocm:',
          '  images:',
          '    - version: "6.4.4"',
          '      os: ubuntu-22.04',
          `      digest: "${NEW_1}"          # to do`,
          '      added: "2026-11-26"',
          '      provenance:',
          '        rekor_log_index: 5   # filled by the updater',
          '    - version: "6.4.4"',
          '      os: ubuntu-24.04',
          ''
        ].join('\n')
      )
    })
  })

  describe('when a new row is appended', () => {
    it('copies the template row’s key order, quoting and signer keys, after the last row', () => {
      const edited = editMatrix(
        MATRIX,
        {
          update: [],
          append: [
            {
              templateIndex: 0,
              version: '6.5.0',
              os: 'ubuntu-24.04',
              digest: NEW_3,
              added: '2026-11-26',
              provenance: { attestation_digest: NEW_1 }
            }
          ]
        },
        'm.yml'
      )
      const insertAt = MATRIX.indexOf('  policy:')
      expect(edited.slice(0, insertAt)).toBe(MATRIX.slice(0, insertAt))
      expect(edited.slice(edited.length - (MATRIX.length - insertAt))).toBe(MATRIX.slice(insertAt))
      expect(edited.slice(insertAt, edited.length - (MATRIX.length - insertAt))).toBe(
        [
          '    - version: "6.5.0"',
          "      os: 'ubuntu-24.04'",
          `      digest: "${NEW_3}"`,
          '      added: "2026-11-26"',
          '      provenance:',
          '        key_path: ci/provenance_keys/rocm-stable.pub',
          "        valid_until: '2027-06-30'",
          `        attestation_digest: ${NEW_1}`,
          ''
        ].join('\n')
      )
    })

    it('ends the file with a line break it did not have', () => {
      const text = `rocm:\n  images:\n  - version: "6.4.4"\n    os: ubuntu-22.04\n    digest: "${OLD_A}"`
      const edited = editMatrix(
        text,
        {
          update: [],
          append: [
            {
              templateIndex: 0,
              version: '6.5.0',
              os: 'ubuntu-22.04',
              digest: NEW_1,
              added: '2026-11-26',
              provenance: {}
            }
          ]
        },
        'm.yml'
      )
      expect(edited).toBe(
        `${text}\n  - version: "6.5.0"\n    os: ubuntu-22.04\n    digest: "${NEW_1}"\n    added: "2026-11-26"\n`
      )
    })
  })

  describe('when rows are written in flow style', () => {
    it('edits values in place and adds keys inside the braces', () => {
      const text = `rocm:\n  images: [{version: "6.4.4", os: ubuntu-22.04, digest: '${OLD_A}'}]  # one row\n`
      const edited = editMatrix(
        text,
        {
          update: [
            {
              index: 0,
              version: '6.4.4',
              os: 'ubuntu-22.04',
              digest: NEW_1,
              added: '2026-11-26',
              provenance: { rekor_log_index: 9 }
            }
          ],
          append: []
        },
        'm.yml'
      )
      expect(edited).toBe(
        `rocm:\n  images: [{version: "6.4.4", os: ubuntu-22.04, digest: '${NEW_1}', added: '2026-11-26', provenance: {rekor_log_index: 9}}]  # one row\n`
      )
    })
  })

  describe('when scalars need quoting to keep their meaning', () => {
    it('quotes values that would read as another type or break the line, escaping quotes', () => {
      const text = `rocm:\n  images:\n    - version: 6.4.4\n      os: ubuntu-22.04\n      digest: ${OLD_A}\n      provenance:\n        identity: it's\n`
      const edited = editMatrix(
        text,
        {
          update: [
            {
              index: 0,
              version: '6.4.4',
              os: 'ubuntu-22.04',
              digest: NEW_1,
              added: '2026-11-26',
              provenance: { signer_identity: 'a: b # c "d"', signer_issuer: 'yes' }
            }
          ],
          append: []
        },
        'm.yml'
      )
      expect(edited).toContain('        signer_identity: "a: b # c \\"d\\""\n')
      expect(edited).toContain('        signer_issuer: "yes"\n')
      // A new date next to plain values is quoted: YAML 1.1 readers would make it a date.
      expect(edited).toContain('      added: "2026-11-26"\n')
      const read = parse(edited) as { rocm: { images: Record<string, Record<string, unknown>>[] } }
      expect(read.rocm.images[0].provenance).toEqual({
        identity: "it's",
        signer_identity: 'a: b # c "d"',
        signer_issuer: 'yes'
      })
    })
  })

  describe('when nothing is to be written', () => {
    it('returns the very same text', () => {
      expect(editMatrix(MATRIX, { update: [], append: [] }, 'm.yml')).toBe(MATRIX)
    })
  })

  describe('when the matrix cannot be written', () => {
    it('refuses the OS-keyed map form by name', () => {
      const osMap = `ubuntu-22.04:\n  image: ghcr.io/rocm/dev:6.4.4-ubuntu-22.04\n  sha256: ${'a'.repeat(64)}\n`
      const edit = () =>
        editMatrix(
          osMap,
          {
            update: [
              {
                index: 0,
                version: '6.4.4',
                os: 'ubuntu-22.04',
                digest: NEW_1,
                added: '2026-11-26',
                provenance: {}
              }
            ],
            append: []
          },
          'ci/rocm_matrix.yml'
        )
      expect(edit).toThrow(MatrixEditError)
      expect(edit).toThrow(/OS-keyed map form .* read but not written/)
    })

    it('refuses to write a row that is not the one meant', () => {
      expect(() =>
        editMatrix(
          MATRIX,
          {
            update: [
              {
                index: 1,
                version: '6.4.4',
                os: 'ubuntu-22.04',
                digest: NEW_1,
                added: '2026-11-26',
                provenance: {}
              }
            ],
            append: []
          },
          'm.yml'
        )
      ).toThrow(expect.objectContaining({ code: 'MATRIX_ROW_MISMATCH' }) as unknown as Error)
    })

    it('names invalid YAML', () => {
      expect(() =>
        editMatrix(
          'rocm: [\n',
          {
            update: [],
            append: [
              {
                templateIndex: 0,
                version: '1',
                os: 'x',
                digest: NEW_1,
                added: '2026-11-26',
                provenance: {}
              }
            ]
          },
          'm.yml'
        )
      ).toThrow(expect.objectContaining({ code: 'MATRIX_LAYOUT' }) as unknown as Error)
    })
  })
})

describe('editMatrix on a file with CRLF line endings', () => {
  const crlf = MATRIX.replace(/\n/g, '\r\n')
  const edits = {
    update: [
      {
        index: 0,
        version: '6.4.4',
        os: 'ubuntu-22.04',
        digest: NEW_1,
        added: '2026-11-26',
        provenance: { key_fingerprint: `sha256:${'f'.repeat(64)}` }
      }
    ],
    append: [
      {
        templateIndex: 0,
        version: '6.4.5',
        os: 'ubuntu-22.04',
        digest: NEW_2,
        added: '2026-11-26',
        provenance: {}
      }
    ]
  }

  it('ends every line it writes in CRLF, and is the LF edit otherwise', () => {
    const edited = editMatrix(crlf, edits, 'ci/rocm_matrix.yml')
    expect(edited).not.toMatch(/(^|[^\r])\n/)
    expect(edited).toContain(`        key_fingerprint: sha256:${'f'.repeat(64)}\r\n`)
    expect(edited).toBe(editMatrix(MATRIX, edits, 'ci/rocm_matrix.yml').replace(/\n/g, '\r\n'))
  })
})

describe('editMatrix on rows sharing keys through YAML merge keys', () => {
  const merged = `rocm:
  images:
    - &base
      version: "6.4.4"
      os: ubuntu-22.04
      digest: "${OLD_A}"
      added: "2026-11-20"
    - <<: *base
      os: ubuntu-24.04
`
  const update = (index: number, os: string) => ({
    update: [{ index, version: '6.4.4', os, digest: NEW_1, added: '2026-11-30', provenance: {} }],
    append: []
  })

  it.each([
    [
      1,
      'ubuntu-24.04',
      /^ci\/rocm_matrix\.yml:8: rocm\.images\[1\] takes keys through a YAML merge key \(`<<`\)/
    ],
    [
      0,
      'ubuntu-22.04',
      /^ci\/rocm_matrix\.yml:4: rocm\.images\[0\] is the anchor &base other rows merge/
    ]
  ])(
    'refuses to edit row %s, naming merge keys, rather than change what other rows read',
    (index, os, message) => {
      expect(() => editMatrix(merged, update(index, os), 'ci/rocm_matrix.yml')).toThrow(message)
    }
  )
})

describe('editMatrix on rows sharing one provenance block through an alias', () => {
  const shared = `rocm:
  images:
    - version: "6.4.4"
      os: ubuntu-22.04
      digest: "${OLD_A}"
      added: "2026-11-20"
      provenance: &signed
        key_path: ci/keys/release.pub
    - version: "6.4.4"
      os: ubuntu-24.04
      digest: "${OLD_B}"
      added: "2026-11-20"
      provenance: *signed
`
  const evidence = { key_fingerprint: `sha256:${'f'.repeat(64)}`, rekor_log_index: 42 }

  it.each([0, 1])(
    'updates row %s but writes no one digest’s evidence into the shared block',
    index => {
      const edited = editMatrix(
        shared,
        {
          update: [
            {
              index,
              version: '6.4.4',
              os: index === 0 ? 'ubuntu-22.04' : 'ubuntu-24.04',
              digest: NEW_1,
              added: '2026-11-30',
              provenance: evidence
            }
          ],
          append: []
        },
        'ci/rocm_matrix.yml'
      )
      const old = index === 0 ? OLD_A : OLD_B
      const expected = shared.split('\n')
      const at = expected.findIndex(line => line.includes(old))
      expected[at] = expected[at].replace(old, NEW_1)
      expected[at + 1] = expected[at + 1].replace('2026-11-20', '2026-11-30')
      expect(edited).toBe(expected.join('\n'))
    }
  )

  it('gives a new row the same alias, from an aliasing or an anchoring template', () => {
    for (const templateIndex of [0, 1]) {
      const edited = editMatrix(
        shared,
        {
          update: [],
          append: [
            {
              templateIndex,
              version: '6.5.0',
              os: 'ubuntu-22.04',
              digest: NEW_2,
              added: '2026-11-30',
              provenance: evidence
            }
          ]
        },
        'ci/rocm_matrix.yml'
      )
      const rows = parse(edited).rocm.images
      expect(rows).toHaveLength(3)
      expect(rows[2]).toEqual({
        version: '6.5.0',
        os: 'ubuntu-22.04',
        digest: NEW_2,
        added: '2026-11-30',
        provenance: { key_path: 'ci/keys/release.pub' }
      })
      expect(edited.trimEnd().split('\n').at(-1)).toBe('      provenance: *signed')
    }
  })
})
