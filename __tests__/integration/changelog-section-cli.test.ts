/**
 * scripts/changelog-section.mjs run as the release workflow runs it: the notes
 * on stdout and 0, or the reason on stderr and 1 (which stops the release).
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { changelogSection } from '../../scripts/changelog-section.mjs'
import { PROJECT_ROOT, runTool } from '../helpers/tools.js'

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'changelog-section.mjs')
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }

function run(args: string[]) {
  return runTool(process.execPath, [SCRIPT, ...args], { cwd: PROJECT_ROOT, env })
}

describe('node scripts/changelog-section.mjs', () => {
  it("prints the tag's section of CHANGELOG.md and exits 0", async () => {
    const expected = changelogSection(
      readFileSync(join(PROJECT_ROOT, 'CHANGELOG.md'), 'utf8'),
      '4.0.0'
    )
    expect(await run(['v4.0.0'])).toEqual({ code: 0, stdout: expected, stderr: '' })
  })

  it('exits 1 with the reason on stderr for a version with no section', async () => {
    const result = await run(['4.9.9', 'CHANGELOG.md'])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^changelog-section: CHANGELOG has no section for 4\.9\.9 /)
  })

  it('exits 1 for a file that cannot be read', async () => {
    const result = await run(['4.0.0', 'no-such-CHANGELOG.md'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('no-such-CHANGELOG.md')
  })

  it('exits 1 with a usage line when no version is given', async () => {
    const result = await run([])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('usage: node scripts/changelog-section.mjs <version>')
  })
})
