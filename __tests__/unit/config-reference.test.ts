import { describe, expect, it } from '@jest/globals'
import {
  expandTemplate,
  findRepositoryProblem,
  findTagProblem,
  findTemplateProblem,
  isDigest,
  parseImageReference,
  parsePin,
  showControlCharacters,
  terminalSafe,
  splitRepository
} from '../../src/domain/reference.js'

const HEX = '0123456789abcdef'.repeat(4)

describe('parsePin', () => {
  it.each([
    [`sha256:${HEX}`, { kind: 'pinned', digest: `sha256:${HEX}` }],
    [`sha256:${HEX.toUpperCase()}`, { kind: 'pinned', digest: `sha256:${HEX}` }],
    [`  sha256:${HEX}  `, { kind: 'pinned', digest: `sha256:${HEX}` }],
    ['sha256:TODO_NEXT_RELEASE', { kind: 'not-pinned', raw: 'sha256:TODO_NEXT_RELEASE' }],
    ['', { kind: 'not-pinned', raw: '' }],
    ['sha256:PENDING', { kind: 'not-pinned', raw: 'sha256:PENDING' }],
    [
      `sha256:${HEX.slice(1)}`,
      {
        kind: 'not-pinned',
        raw: `sha256:${HEX.slice(1)}`,
        note: 'sha256: and 63 hex characters, not 64'
      }
    ],
    [
      `sha512:${HEX}${HEX}`,
      {
        kind: 'not-pinned',
        raw: `sha512:${HEX}${HEX}`,
        note: 'a sha512 digest: only sha256 digests pin an image'
      }
    ],
    [HEX, { kind: 'not-pinned', raw: HEX, note: '64 hex characters without the `sha256:` prefix' }],
    [
      `ghcr.io/rocm/dev@sha256:${HEX}`,
      {
        kind: 'not-pinned',
        raw: `ghcr.io/rocm/dev@sha256:${HEX}`,
        note: 'a reference with a digest: write the digest alone, sha256:<64 hex>'
      }
    ],
    [
      '6.4.4-ubuntu-22.04',
      {
        kind: 'not-pinned',
        raw: '6.4.4-ubuntu-22.04',
        note: 'not a digest (a tag?): write the digest the tag points at, sha256:<64 hex>'
      }
    ]
  ])('reads %j as %j', (raw, pin) => {
    expect(parsePin(raw)).toEqual(pin)
  })

  it('accepts only lowercase sha256 digests as Digest', () => {
    expect(isDigest(`sha256:${HEX}`)).toBe(true)
    expect(isDigest(`sha256:${HEX.toUpperCase()}`)).toBe(false)
    expect(isDigest('sha256:abc')).toBe(false)
  })
})

describe('splitRepository', () => {
  it.each([
    ['ghcr.io/rocm/dev', 'ghcr.io', 'rocm/dev'],
    ['127.0.0.1:5000/rocm/dev', '127.0.0.1:5000', 'rocm/dev'],
    ['localhost/rocm', 'localhost', 'rocm'],
    ['localhost:5000/a/b/c', 'localhost:5000', 'a/b/c'],
    ['rocm/dev-ubuntu-22.04', 'docker.io', 'rocm/dev-ubuntu-22.04'],
    ['ubuntu', 'docker.io', 'library/ubuntu'],
    ['docker.io/ubuntu', 'docker.io', 'library/ubuntu'],
    ['index.docker.io/rocm/dev', 'docker.io', 'rocm/dev'],
    ['docker.io/rocm/dev', 'docker.io', 'rocm/dev'],
    ['[::1]:5000/rocm/dev', '[::1]:5000', 'rocm/dev']
  ])('splits %s into %s and %s', (repository, registry, path) => {
    expect(splitRepository(repository)).toEqual({ registry, path })
  })
})

describe('findRepositoryProblem', () => {
  it.each(['ghcr.io/rocm/dev', 'rocm/dev', 'ubuntu', '127.0.0.1:5000/a/b', 'a.b/c__d/e-f.g'])(
    'accepts %s',
    repository => {
      expect(findRepositoryProblem(repository)).toBeUndefined()
    }
  )

  it.each([
    ['', 'is empty'],
    ['-oProxyCommand=x', 'could read it as a command-line flag'],
    ['--help', 'could read it as a command-line flag'],
    ['ghcr.io/rocm/dev ', 'contains whitespace'],
    ['ghcr.io/rocm /dev', 'contains whitespace'],
    ['ghcr.io/rocm/\tdev', 'contains a control character (U+0009)'],
    ['ghcr.io/rocm/dev\u0000', 'contains a control character (U+0000)'],
    ['ghcr.io/rocm/dev\u001b[31m', 'contains a control character (U+001B)'],
    ['ghcr.io/rocm/dev\u2028', 'contains a control character (U+2028)'],
    ['ghcr.io/rocm/dev:6.4', 'holds a tag'],
    [`ghcr.io/rocm/dev@sha256:${HEX}`, 'holds a digest'],
    ['ghcr.io/ROCm/dev', 'is not a valid repository path'],
    ['ghcr.io/rocm//dev', 'is not a valid repository path'],
    ['ghcr.io/rocm/dev-', 'is not a valid repository path'],
    ['bad_host.io/rocm', 'invalid registry host'],
    [`ghcr.io/${'a'.repeat(260)}`, 'longer than 255']
  ])('refuses %j: %s', (repository, problem) => {
    expect(findRepositoryProblem(repository)).toContain(problem)
  })
})

describe('findTagProblem', () => {
  it.each(['6.4.4-ubuntu-22.04', 'latest', '_x', 'A.b-C_1'])('accepts %s', tag => {
    expect(findTagProblem(tag)).toBeUndefined()
  })

  it.each([
    ['', 'is empty'],
    ['-v', 'command-line flag'],
    ['6.4 ubuntu', 'contains whitespace'],
    ['6.4\n', 'control character (U+000A)'],
    ['.hidden', 'is not a valid tag'],
    ['a/b', 'is not a valid tag'],
    ['a'.repeat(129), 'longer than 128']
  ])('refuses %j: %s', (tag, problem) => {
    expect(findTagProblem(tag)).toContain(problem)
  })
})

describe('parseImageReference', () => {
  it.each([
    [
      'ghcr.io/rocm/dev:6.4.4-ubuntu-22.04',
      { repository: 'ghcr.io/rocm/dev', tag: '6.4.4-ubuntu-22.04' }
    ],
    ['127.0.0.1:5000/rocm/dev', { repository: '127.0.0.1:5000/rocm/dev' }],
    ['127.0.0.1:5000/rocm/dev:1', { repository: '127.0.0.1:5000/rocm/dev', tag: '1' }],
    [`rocm/dev:6.4@sha256:${HEX}`, { repository: 'rocm/dev', tag: '6.4', digest: `sha256:${HEX}` }]
  ])('splits %s', (value, reference) => {
    expect(parseImageReference(value)).toEqual(reference)
  })

  it.each([
    ['--entrypoint=sh', 'command-line flag'],
    ['ghcr.io/rocm/dev:-x', 'tag `-x` starts with `-`'],
    ['ghcr.io/rocm/dev:6.4 x', 'contains whitespace'],
    ['ghcr.io/Rocm/dev:6.4', 'repository `ghcr.io/Rocm/dev` is not a valid repository path'],
    ['ghcr.io/rocm/dev@', 'empty digest']
  ])('refuses %j: %s', (value, problem) => {
    const parsed = parseImageReference(value)
    expect('problem' in parsed && parsed.problem).toContain(problem)
  })
})

describe('templates', () => {
  it('expands {version} and {os} everywhere they occur', () => {
    expect(
      expandTemplate('docker.io/rocm/dev-{os}:{version}-{os}', { version: '6.4', os: 'ubuntu' })
    ).toBe('docker.io/rocm/dev-ubuntu:6.4-ubuntu')
  })

  it.each([
    ['{versoin}-{os}', 'unknown placeholder `{versoin}`'],
    ['{version', 'unmatched `{` or `}`'],
    ['{version}}', 'unmatched `{` or `}`']
  ])('refuses %j: %s', (template, problem) => {
    expect(findTemplateProblem(template)).toContain(problem)
  })

  it('accepts a template with only known placeholders', () => {
    expect(findTemplateProblem('{version}-{os}')).toBeUndefined()
  })
})

describe('showControlCharacters', () => {
  it.each([
    ['plain `text`', 'plain `text`'],
    ['a\nb\tc\rd', 'a\\nb\\tc\\rd'],
    ['\u001b[31mred', '\\u001b[31mred'],
    ['x\u2028::error::y', 'x\\u2028::error::y']
  ])('shows %j as %j', (text, shown) => {
    expect(showControlCharacters(text)).toBe(shown)
  })
})

describe('terminalSafe: the one escaping of text printed or logged', () => {
  it.each([
    [
      'a workflow command after a line break',
      'bad\n::error::INJECTED',
      'bad\n\\u003a:error::INJECTED'
    ],
    [
      'a workflow command after blanks (the runner trims them)',
      '  ::add-mask::x',
      '  \\u003a:add-mask::x'
    ],
    [
      'terminal escapes and BEL',
      '\u001b]0;title\u0007\u001b[2J',
      '\\u001b]0;title\\u0007\\u001b[2J'
    ],
    ['a carriage return that would overwrite the line', 'ok\rFAKE', 'ok\\rFAKE'],
    ['C1 controls and line separators', '\u009b2J\u2028x', '\\u009b2J\\u2028x'],
    ['plain text and single colons', 'a: b\n:c', 'a: b\n:c']
  ])('%s', (_name, text, expected) => {
    expect(terminalSafe(text)).toBe(expected)
  })
})
