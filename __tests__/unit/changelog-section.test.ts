/**
 * The release notes: one version's section of a Keep a Changelog document, as
 * scripts/changelog-section.mjs gives it to the release workflow.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { changelogSection } from '../../scripts/changelog-section.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const CHANGELOG = [
  '# Changelog',
  '',
  'Intro text that belongs to no release.',
  '',
  '## [Unreleased]',
  '',
  '## [4.1.0] - 2026-12-10',
  '',
  '### Fixed',
  '',
  '- A fix, see [the guide](docs/guide.md).',
  '  Continued on a second line.',
  '',
  '### Added',
  '',
  '- A feature.',
  '',
  '## [4.0.0] - 2026-11-26',
  '',
  'The first release.',
  '',
  '### Added',
  '',
  '- Everything.',
  '',
  '[Unreleased]: https://github.com/clamp/rocm-provenance/compare/v4.1.0...HEAD',
  '[4.1.0]: https://github.com/clamp/rocm-provenance/compare/v4.0.0...v4.1.0',
  '[4.0.0]: https://github.com/clamp/rocm-provenance/releases/tag/v4.0.0',
  ''
].join('\n')

const SECTION_4_1_0 = [
  '### Fixed',
  '',
  '- A fix, see [the guide](docs/guide.md).',
  '  Continued on a second line.',
  '',
  '### Added',
  '',
  '- A feature.',
  ''
].join('\n')

describe('changelogSection', () => {
  it('is the text between the heading and the next, trimmed', () => {
    expect(changelogSection(CHANGELOG, '4.1.0')).toBe(SECTION_4_1_0)
  })

  it.each([['v4.1.0'], ['refs/tags/v4.1.0']])('takes the tag %s for its version', version => {
    expect(changelogSection(CHANGELOG, version)).toBe(SECTION_4_1_0)
  })

  it('leaves out the link definitions after the last section', () => {
    expect(changelogSection(CHANGELOG, '4.0.0')).toBe(
      'The first release.\n\n### Added\n\n- Everything.\n'
    )
  })

  it('reads headings without brackets or date, and Windows line ends', () => {
    const crlf = '## 4.2.0\r\n\r\n- One.\r\n\r\n## 4.1.0\r\n\r\n- Two.\r\n'
    expect(changelogSection(crlf, '4.2.0')).toBe('- One.\n')
    expect(changelogSection(crlf, '4.1.0')).toBe('- Two.\n')
  })

  it('never takes a section whose version only starts the same way', () => {
    expect(() =>
      changelogSection('## [4.1.0-rc.1] - 2026-12-01\n\n- Candidate.\n', '4.1.0')
    ).toThrow('no section for 4.1.0 (sections: 4.1.0-rc.1)')
    expect(changelogSection('## [4.1.0-rc.1] - 2026-12-01\n\n- Candidate.\n', 'v4.1.0-rc.1')).toBe(
      '- Candidate.\n'
    )
  })

  it('throws, naming the sections there are, for a version with no section', () => {
    expect(() => changelogSection(CHANGELOG, '4.9.9')).toThrow(
      'CHANGELOG has no section for 4.9.9 (sections: Unreleased, 4.1.0, 4.0.0)'
    )
  })

  it('throws for an empty section, so no release goes out without notes', () => {
    expect(() => changelogSection(CHANGELOG, 'Unreleased')).toThrow(
      "CHANGELOG's section for Unreleased is empty"
    )
  })

  it("finds package.json's version in the project's own CHANGELOG.md", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string
    }
    const notes = changelogSection(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'), version)
    expect(notes).toContain('### Added')
    expect(notes).not.toContain('## [')
    expect(notes).not.toMatch(/^\[[^\]]+\]: /m)
  })
})
