/**
 * scripts/changelog-section.mjs, which gives the release workflow its notes:
 * one version's section of CHANGELOG.md, run as the workflow runs it.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_ROOT, runTool } from './helpers/tools.js'

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'changelog-section.mjs')
const scratch = mkdtempSync(join(tmpdir(), 'rp-changelog-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let files = 0
function changelogFile(text: string): string {
  const file = join(scratch, `CHANGELOG-${files++}.md`)
  writeFileSync(file, text)
  return file
}

function section(version: string, file?: string) {
  return runTool(process.execPath, [SCRIPT, version, ...(file ? [file] : [])], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  })
}

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

describe('changelog-section', () => {
  const file = changelogFile(CHANGELOG)

  it('prints the section between its heading and the next, trimmed', async () => {
    expect(await section('4.1.0', file)).toEqual({
      code: 0,
      stdout: [
        '### Fixed',
        '',
        '- A fix, see [the guide](docs/guide.md).',
        '  Continued on a second line.',
        '',
        '### Added',
        '',
        '- A feature.',
        ''
      ].join('\n'),
      stderr: ''
    })
  })

  it('leaves out the link definitions after the last section', async () => {
    const run = await section('4.0.0', file)
    expect(run.code).toBe(0)
    expect(run.stdout).toBe('The first release.\n\n### Added\n\n- Everything.\n')
  })

  it.each([['v4.1.0'], ['refs/tags/v4.1.0']])('takes the tag %s as well', async version => {
    const run = await section(version, file)
    expect(run.code).toBe(0)
    expect(run.stdout.startsWith('### Fixed\n')).toBe(true)
  })

  it('does not take a version for one that starts the same way', async () => {
    const other = changelogFile('## [4.1.0-rc.1] - 2026-12-01\n\n- Candidate.\n')
    const run = await section('4.1.0', other)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('no section for 4.1.0 (sections: 4.1.0-rc.1)')
  })

  it('reads headings without brackets or date, and Windows line ends', async () => {
    const crlf = changelogFile('## 4.2.0\r\n\r\n- One.\r\n\r\n## 4.1.0\r\n\r\n- Two.\r\n')
    expect(await section('4.2.0', crlf)).toEqual({ code: 0, stdout: '- One.\n', stderr: '' })
  })

  it('exits 1, naming the sections it has, for a version with no section', async () => {
    const run = await section('4.9.9', file)
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'changelog-section: CHANGELOG has no section for 4.9.9 (sections: Unreleased, 4.1.0, 4.0.0)\n'
    })
  })

  it('exits 1 for an empty section, so no release goes out without notes', async () => {
    const run = await section('Unreleased', file)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('section for Unreleased is empty')
  })

  it('exits 1 with a usage line when no version is given', async () => {
    const run = await section('')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('usage:')
  })

  it("finds the released version's section in the project's own CHANGELOG.md", async () => {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      version: string
    }
    const run = await section(`v${version}`)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('### Added')
    expect(run.stdout).not.toContain('## [')
    expect(run.stdout).not.toMatch(/^\[[^\]]+\]: /m)
  })
})
