import { describe, expect, it } from '@jest/globals'
import {
  findInvalidUtf8,
  locate,
  MAX_ALIAS_EXPANSIONS,
  MAX_CONFIG_BYTES,
  MAX_DEPTH,
  parseYaml,
  sourceText,
  toPointer
} from '../../src/config/yaml.js'

const FILE = 'ci/rocm_matrix.yml'
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('parseYaml', () => {
  it('gives plain data and the line and column of every value and key', () => {
    const parsed = parseYaml(
      bytes('# comment\nrocm:\n  images:\n    - version: "6.4.4"\n      os: ubuntu\n'),
      FILE
    )
    expect(parsed.issues).toEqual([])
    expect(parsed.data).toEqual({ rocm: { images: [{ version: '6.4.4', os: 'ubuntu' }] } })
    expect(locate(parsed, '/rocm/images/0')).toEqual({ file: FILE, line: 4, column: 7 })
    expect(locate(parsed, '/rocm/images/0/os')).toEqual({ file: FILE, line: 5, column: 11 })
    expect(locate(parsed, '/rocm/images/0/os', 'key')).toEqual({ file: FILE, line: 5, column: 7 })
    expect(parsed.document?.get('rocm')).toBeDefined()
  })

  it('falls back to the nearest written ancestor for a value that was not written', () => {
    const parsed = parseYaml(bytes('a:\n  b: 1\n'), FILE)
    expect(locate(parsed, '/a/missing/deeper')).toEqual({ file: FILE, line: 2, column: 3 })
    expect(locate(parsed, '/nothing')).toEqual({ file: FILE, line: 1, column: 1 })
  })

  it('keeps the source text of numbers (6.10 stays 6.10)', () => {
    const parsed = parseYaml(bytes('version: 6.10\n'), FILE)
    expect(parsed.data).toEqual({ version: 6.1 })
    expect(sourceText(parsed, '/version')).toBe('6.10')
  })

  it('reads dates and yes/no as text (YAML 1.2 core schema)', () => {
    expect(parseYaml(bytes('added: 2026-11-20\nflag: yes\n'), FILE).data).toEqual({
      added: '2026-11-20',
      flag: 'yes'
    })
  })

  it('keeps a key named __proto__ as a plain key', () => {
    const data = parseYaml(bytes('__proto__:\n  polluted: true\n'), FILE).data as Record<
      string,
      unknown
    >
    expect(Object.keys(data)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype)
  })

  it('strips a UTF-8 byte order mark without shifting columns', () => {
    const parsed = parseYaml(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('a: b\n')]), FILE)
    expect(parsed.issues).toEqual([])
    expect(locate(parsed, '/a')).toEqual({ file: FILE, line: 1, column: 4 })
  })

  it('follows a few aliases', () => {
    const parsed = parseYaml(bytes('base: &p {key_path: k.pub}\nrow: *p\n'), FILE)
    expect(parsed.issues).toEqual([])
    expect(parsed.data).toEqual({ base: { key_path: 'k.pub' }, row: { key_path: 'k.pub' } })
  })

  describe('refuses', () => {
    it('duplicate keys, naming the first line', () => {
      const parsed = parseYaml(
        bytes('policy:\n  mode: warn\n  digest_ttl: 3\n  mode: strict\n'),
        FILE
      )
      expect(parsed.issues).toEqual([
        {
          code: 'duplicate-key',
          message: 'duplicate key `mode`; it was already set at line 2',
          location: { file: FILE, line: 4, column: 3 }
        }
      ])
    })

    it('a syntax error, at its line', () => {
      const parsed = parseYaml(bytes('policy:\n  mode: warn\n  bad: [1, 2\n'), FILE)
      expect(parsed.data).toBeUndefined()
      expect(parsed.issues[0]?.code).toBe('yaml-syntax')
      expect(parsed.issues[0]?.message).toMatch(/^invalid YAML: /)
      expect(parsed.issues[0]?.location?.line).toBeGreaterThanOrEqual(3)
    })

    it('an unquoted glob starting with * (an alias of no anchor), saying to quote it', () => {
      const parsed = parseYaml(
        bytes('policy:\n  overrides:\n    - match: *-ubuntu-24.04\n      digest_ttl: 3\n'),
        FILE
      )
      const issue = parsed.issues.find(i => i.message.includes('names no anchor'))
      expect(issue?.message).toContain(
        "a value that starts with `*` (a glob) must be quoted: '*-ubuntu-24.04'"
      )
      expect(issue?.location?.line).toBe(3)
    })

    it('a second document', () => {
      const parsed = parseYaml(bytes('a: 1\n---\nb: 2\n'), FILE)
      expect(parsed.issues.map(i => i.code)).toContain('yaml-syntax')
      expect(parsed.issues[0]?.message).toContain('MULTIPLE_DOCS')
      expect(parsed.issues[0]?.location?.line).toBe(2)
    })

    it('an alias bomb (billion laughs), quickly', () => {
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
      for (let i = 1; i < 9; i += 1) {
        const previous = String.fromCharCode(96 + i)
        const name = String.fromCharCode(97 + i)
        levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`)
      }
      const started = Date.now()
      const parsed = parseYaml(bytes(`${levels.join('\n')}\n`), FILE)
      expect(Date.now() - started).toBeLessThan(2000)
      expect(parsed.data).toBeUndefined()
      expect(parsed.issues).toHaveLength(1)
      expect(parsed.issues[0]?.code).toMatch(/^yaml-(alias-bomb|too-large)$/)
      expect(parsed.issues[0]?.message).toContain('alias bomb')
      expect(parsed.issues[0]?.location?.file).toBe(FILE)
    })

    it(`more than ${MAX_ALIAS_EXPANSIONS} alias references`, () => {
      const text = `x: &x 1\nlist: [${Array(MAX_ALIAS_EXPANSIONS + 1)
        .fill('*x')
        .join(', ')}]\n`
      const parsed = parseYaml(bytes(text), FILE)
      expect(parsed.issues).toHaveLength(1)
      expect(parsed.issues[0]).toMatchObject({ code: 'yaml-alias-bomb', location: { line: 2 } })
    })

    it('an oversized file', () => {
      const parsed = parseYaml(new Uint8Array(MAX_CONFIG_BYTES + 1).fill(0x20), FILE)
      expect(parsed.issues).toEqual([
        {
          code: 'file-too-large',
          message: `file is ${MAX_CONFIG_BYTES + 1} bytes; expected at most ${MAX_CONFIG_BYTES} bytes`,
          location: { file: FILE, line: 1, column: 1 }
        }
      ])
    })

    it('bytes that are not UTF-8, at their line and byte column', () => {
      const latin1 = new Uint8Array([...bytes('policy:\n  mode: '), 0xe9, ...bytes('t\n')])
      const parsed = parseYaml(latin1, FILE)
      expect(parsed.issues).toEqual([
        {
          code: 'not-utf8',
          message:
            'expected UTF-8 text, found the byte 0xE9 that is not UTF-8 (column counts bytes)',
          location: { file: FILE, line: 2, column: 9 }
        }
      ])
    })

    it('a UTF-16 file', () => {
      const utf16 = new Uint8Array([
        0xff,
        0xfe,
        ...Array.from(bytes('a: b\n')).flatMap(b => [b, 0])
      ])
      expect(parseYaml(utf16, FILE).issues[0]).toMatchObject({
        code: 'not-utf8',
        location: { line: 1, column: 1 }
      })
    })

    it(`nesting deeper than ${MAX_DEPTH} levels`, () => {
      const text = `${'['.repeat(MAX_DEPTH + 2)}1${']'.repeat(MAX_DEPTH + 2)}\n`
      const parsed = parseYaml(bytes(text), FILE)
      expect(parsed.issues[0]).toMatchObject({ code: 'yaml-too-deep', location: { line: 1 } })
    })

    it('custom tags and binary values', () => {
      const parsed = parseYaml(bytes('a: !shell ls\nb: !!binary aGVsbG8=\n'), FILE)
      expect(parsed.issues.map(i => [i.code, i.location?.line])).toEqual([
        ['yaml-syntax', 1],
        ['yaml-value', 2]
      ])
      expect(parsed.issues[0]?.message).toContain('Unresolved tag: !shell')
      expect(parsed.issues[1]?.message).toContain('found binary data')
    })
  })
})

describe('findInvalidUtf8', () => {
  it.each([
    [[0x61, 0x62], -1],
    [[0xc3, 0xa9], -1],
    [[0xf0, 0x9f, 0x98, 0x80], -1],
    [[0x61, 0xff], 1],
    [[0xc0, 0x80], 0],
    [[0xe0, 0x80, 0x80], 0],
    [[0xed, 0xa0, 0x80], 0],
    [[0x61, 0xe2, 0x82], 1],
    [[0xf4, 0x90, 0x80, 0x80], 0]
  ])('finds the first bad byte of %j at %i', (input, offset) => {
    expect(findInvalidUtf8(new Uint8Array(input))).toBe(offset)
  })
})

describe('toPointer', () => {
  it('escapes like RFC 6901', () => {
    expect(toPointer(['a/b', 'c~d', 0])).toBe('/a~1b/c~0d/0')
  })
})
