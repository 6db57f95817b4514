import { describe, expect, it } from '@jest/globals'
import {
  compareVersions,
  parseTag,
  parseVersion,
  renderTag,
  selectNewTags,
  type Version
} from '../../src/domain/versions.js'

function version(text: string): Version {
  const parsed = parseVersion(text)
  if (!parsed) throw new Error(`not a version: ${text}`)
  return parsed
}

describe('compareVersions', () => {
  it.each([
    ['6.10', '6.9', 1],
    ['6.4.10', '6.4.9', 1],
    ['7.0', '6.99.99', 1],
    ['6.4', '6.4.0', 0],
    ['6.5.0-rc1', '6.5.0', -1],
    ['6.5.0-rc2', '6.5.0-rc10', -1],
    ['6.5.0-alpha', '6.5.0-beta', -1],
    ['6.5.0-rc.1', '6.5.0rc1', 0],
    ['6.5.0-rc1', '6.4.4', 1],
    ['6.5.0-rc', '6.5.0-rc1', -1]
  ])('%s against %s is %i', (a, b, expected) => {
    expect(compareVersions(version(a), version(b))).toBe(expected)
    expect(compareVersions(version(b), version(a))).toBe(-expected || 0)
  })

  it('sorts numerically, not as strings', () => {
    const sorted = ['6.9', '6.10', '6.2.1', '6.10.0-rc1', '6.1'].map(version).sort(compareVersions)
    expect(sorted.map(v => v.text)).toEqual(['6.1', '6.2.1', '6.9', '6.10.0-rc1', '6.10'])
  })
})

describe('parseVersion', () => {
  it.each(['latest', '6.4.4-1', 'v6.4', '', '6..4', '1234567890.1'])('rejects %j', text => {
    expect(parseVersion(text)).toBeUndefined()
  })
})

describe('parseTag', () => {
  describe('when the OS is in the tag ({version}-{os}, ghcr.io/rocm/dev:6.4.4-ubuntu-22.04)', () => {
    it.each([
      ['6.4.4-ubuntu-22.04', '6.4.4'],
      ['6.5.0-rc1-ubuntu-22.04', '6.5.0-rc1'],
      ['7.0-ubuntu-22.04', '7.0']
    ])('reads %s as %s', (tag, expected) => {
      expect(parseTag(tag, '{version}-{os}', 'ubuntu-22.04')?.text).toBe(expected)
    })

    it.each([
      '6.4.4-ubuntu-24.04',
      '6.4.4-ubuntu-22.04-complete',
      'latest',
      '-ubuntu-22.04',
      'ubuntu-22.04'
    ])('does not fit %s', tag => {
      expect(parseTag(tag, '{version}-{os}', 'ubuntu-22.04')).toBeUndefined()
    })
  })

  describe('when the OS is in the repository ({version}, rocm/dev-ubuntu-22.04:6.4.4)', () => {
    it('reads the whole tag as the version', () => {
      expect(parseTag('6.4.4', '{version}', 'ubuntu-22.04')?.text).toBe('6.4.4')
      expect(parseTag('latest', '{version}', 'ubuntu-22.04')).toBeUndefined()
    })
  })

  it('renders and reads back the same tag', () => {
    const tag = renderTag('rocm{version}_{os}', '6.4.4', 'rhel-9')
    expect(tag).toBe('rocm6.4.4_rhel-9')
    expect(parseTag(tag, 'rocm{version}_{os}', 'rhel-9')?.text).toBe('6.4.4')
  })

  it('cannot read a template without exactly one {version}', () => {
    expect(parseTag('ubuntu-22.04', '{os}', 'ubuntu-22.04')).toBeUndefined()
  })
})

describe('selectNewTags', () => {
  const tags = [
    'latest',
    '6.4.3-ubuntu-22.04',
    '6.4.4-ubuntu-22.04',
    '6.10.0-ubuntu-22.04',
    '6.9.1-ubuntu-22.04',
    '6.9.1-ubuntu-24.04',
    '6.5.0-rc1-ubuntu-22.04',
    '6.5.0-ubuntu-22.04-complete'
  ]

  it('keeps the tags newer than the matrix for that OS, oldest first', () => {
    const found = selectNewTags({
      tags,
      template: '{version}-{os}',
      os: 'ubuntu-22.04',
      knownVersions: ['6.4.4', '6.4.3']
    })
    expect(found.map(f => f.tag)).toEqual(['6.9.1-ubuntu-22.04', '6.10.0-ubuntu-22.04'])
  })

  it('keeps pre-releases only when the matrix already tracks one', () => {
    const found = selectNewTags({
      tags,
      template: '{version}-{os}',
      os: 'ubuntu-22.04',
      knownVersions: ['6.4.4', '6.5.0-rc0']
    })
    expect(found.map(f => f.tag)).toEqual([
      '6.5.0-rc1-ubuntu-22.04',
      '6.9.1-ubuntu-22.04',
      '6.10.0-ubuntu-22.04'
    ])
  })

  it('works on Docker Hub’s layout, where every tag is a version', () => {
    const found = selectNewTags({
      tags: ['6.4.4', '6.4.5', 'latest', '6.10', '6.4.4-complete'],
      template: '{version}',
      os: 'ubuntu-22.04',
      knownVersions: ['6.4.4']
    })
    expect(found.map(f => f.tag)).toEqual(['6.4.5', '6.10'])
  })

  it('finds nothing when the matrix has no version for the OS, or nothing newer exists', () => {
    expect(
      selectNewTags({ tags, template: '{version}-{os}', os: 'ubuntu-22.04', knownVersions: [] })
    ).toEqual([])
    expect(
      selectNewTags({
        tags,
        template: '{version}-{os}',
        os: 'ubuntu-22.04',
        knownVersions: ['6.10']
      })
    ).toEqual([])
  })

  it('keeps one tag per version when two spell it differently', () => {
    const found = selectNewTags({
      tags: ['6.5-ubuntu-22.04', '6.5.0-ubuntu-22.04'],
      template: '{version}-{os}',
      os: 'ubuntu-22.04',
      knownVersions: ['6.4']
    })
    expect(found).toHaveLength(1)
  })
})
