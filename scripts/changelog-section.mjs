// Prints one version's section of CHANGELOG.md (Keep a Changelog layout): the
// text under `## [<version>] - <date>` up to the next `## ` heading, without the
// link definitions at the end of the file. The release workflow uses it as the
// GitHub release's notes.
//
//   node scripts/changelog-section.mjs 4.1.0
//   node scripts/changelog-section.mjs v4.1.0 path/to/CHANGELOG.md
//   node scripts/changelog-section.mjs refs/tags/v4.1.0
//
// Exits 1, saying why on stderr, when the version has no section or an empty one,
// so a release is never published without notes.
import { readFileSync } from 'node:fs'
import { argv, exit, stderr, stdout } from 'node:process'
import { pathToFileURL } from 'node:url'

/** `v4.1.0`, `refs/tags/v4.1.0` → `4.1.0`. */
function bareVersion(version) {
  return version.replace(/^refs\/tags\//, '').replace(/^v(?=\d)/, '')
}

/** The version a `## ` heading names: `## [4.1.0] - 2026-12-01` or `## 4.1.0`. */
function headingVersion(line) {
  const match = /^## +\[?([^\]\s]+)\]?(?:\s|$)/.exec(line)
  return match ? match[1] : undefined
}

const LINK_DEFINITION = /^\[[^\]]+\]: +\S/

/** The body of `version`'s section, trimmed; throws when there is none. Pure. */
export function changelogSection(markdown, version) {
  const wanted = bareVersion(version)
  const lines = markdown.replace(/\r\n/g, '\n').split('\n')
  const start = lines.findIndex(line => headingVersion(line) === wanted)
  if (start === -1) {
    const known = lines.map(headingVersion).filter(Boolean)
    throw new Error(
      `CHANGELOG has no section for ${wanted} (sections: ${known.join(', ') || 'none'})`
    )
  }
  let end = lines.findIndex((line, i) => i > start && /^## /.test(line))
  if (end === -1) end = lines.length
  const body = lines.slice(start + 1, end)
  // The file ends with the link definitions of the version headings.
  while (body.length > 0 && (body.at(-1).trim() === '' || LINK_DEFINITION.test(body.at(-1)))) {
    body.pop()
  }
  while (body.length > 0 && body[0].trim() === '') body.shift()
  if (body.length === 0) throw new Error(`CHANGELOG's section for ${wanted} is empty`)
  return `${body.join('\n')}\n`
}

/** `node scripts/changelog-section.mjs <version> [CHANGELOG.md]`: 0 and the notes, or 1. */
function main() {
  const [version, file = 'CHANGELOG.md'] = argv.slice(2)
  if (!version) {
    stderr.write('usage: node scripts/changelog-section.mjs <version> [CHANGELOG.md]\n')
    exit(1)
  }
  try {
    stdout.write(changelogSection(readFileSync(file, 'utf8'), version))
  } catch (error) {
    stderr.write(`changelog-section: ${error instanceof Error ? error.message : String(error)}\n`)
    exit(1)
  }
}

// Run as a program; imported (by the tests), only the function.
if (argv[1] && import.meta.url === pathToFileURL(argv[1]).href) main()
