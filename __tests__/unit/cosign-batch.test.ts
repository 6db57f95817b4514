/**
 * Grouping of `cosign verify` calls (src/adapters/cosign/batch.ts), with a
 * stand-in for cosign that behaves as the real one does with several
 * references: one JSON array per verified image, in order, stopping at the
 * first failure (the real thing: __tests__/integration/cosign-batch.test.ts).
 */
import { describe, expect, it } from '@jest/globals'
import {
  attributeArrays,
  CosignBatcher,
  groupSizeFor,
  splitVerifyOutput,
  type BatchRequest,
  type GroupedRun
} from '../../src/adapters/cosign/batch.js'
import type { Digest } from '../../src/domain/types.js'

interface Run extends GroupedRun {
  stderr: string
  via: 'alone' | 'group'
}

const digestOf = (name: string): Digest => `sha256:${name.padEnd(64, '0')}` as Digest
const entry = (digest: string, type = 'https://sigstore.dev/cosign/sign/v1'): object => ({
  critical: { image: { 'docker-manifest-digest': digest }, type },
  optional: {}
})

/** A fake cosign: `bad` images fail with their own message; `stray` ones print another digest. */
function fakeCosign(bad: Set<string>, stray = new Set<string>()) {
  const calls: string[][] = []
  const run = (references: string[]): Run => {
    calls.push(references)
    let stdout = ''
    for (const reference of references) {
      const name = reference.slice(reference.indexOf('/') + 1, reference.indexOf('@'))
      if (bad.has(name)) {
        const message =
          references.length > 1 ? 'no valid bundles exist in registry' : `${name} is unsigned`
        return { exitCode: 1, stdout, stderr: `Error: ${message}`, via: 'group' }
      }
      const named = stray.has(name) ? digestOf('ff') : digestOf(name)
      stdout += `\n${JSON.stringify([entry(named)])}\n`
    }
    return { exitCode: 0, stdout, stderr: '', via: 'group' }
  }
  const request = (name: string): BatchRequest<Run> => {
    const reference = `r/${name}@${digestOf(name)}`
    return {
      reference,
      digest: digestOf(name),
      alone: () => Promise.resolve({ ...run([reference]), via: 'alone' }),
      together: references => Promise.resolve(run(references)),
      fromGroup: stdout => ({ exitCode: 0, stdout, stderr: '', via: 'group' })
    }
  }
  return { calls, request }
}

describe('splitVerifyOutput', () => {
  it('gives each printed array as text, brackets inside strings included', () => {
    const a = JSON.stringify([{ critical: { type: 'a]b[' } }])
    const b = JSON.stringify([{ x: '\\"]' }])
    expect(splitVerifyOutput(`\n${a}\n\n${b}\n`)).toEqual([a, b])
  })
  it('leaves out an array cut off, and refuses anything that is not arrays', () => {
    expect(splitVerifyOutput('\n[{"a":1}]\n[{"b":')).toEqual(['[{"a":1}]'])
    expect(splitVerifyOutput('Verification for x --\n[]')).toBeUndefined()
  })
})

describe('attributeArrays', () => {
  it('gives the k-th array to the k-th image while it names that image only', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(digestOf)
    const arrays = [[entry(a)], [entry(b), entry(b)], [entry(a)]].map(x => JSON.stringify(x))
    expect(attributeArrays(arrays, [a, b, c])).toBe(2)
    expect(attributeArrays(arrays.slice(0, 2), [b, a])).toBe(0)
  })
})

describe('CosignBatcher', () => {
  it('when images share the key, verifies them in one call and gives each its own array', async () => {
    const cosign = fakeCosign(new Set())
    const sizes: number[] = []
    const batcher = new CosignBatcher<Run>({ windowMs: 5, onGroup: size => sizes.push(size) })
    const runs = await Promise.all(['a', 'b', 'c'].map(n => batcher.submit('k', cosign.request(n))))
    expect(cosign.calls).toHaveLength(1)
    expect(sizes).toEqual([3])
    runs.forEach((run, i) => {
      expect(run.exitCode).toBe(0)
      expect(JSON.parse(run.stdout)).toEqual([entry(digestOf('abc'[i]))])
    })
  })

  it('when keys differ (another signer, registry or flag), calls never mix', async () => {
    const cosign = fakeCosign(new Set())
    const batcher = new CosignBatcher<Run>({ windowMs: 5 })
    await Promise.all([
      batcher.submit('key-a', cosign.request('a')),
      batcher.submit('key-b', cosign.request('b')),
      batcher.submit('key-a', cosign.request('c'))
    ])
    expect(cosign.calls.map(c => c.length).sort()).toEqual([1, 2])
  })

  it('when the group fails, earlier images keep their arrays, the failing one gets its own call and message, the rest are grouped again', async () => {
    const cosign = fakeCosign(new Set(['b']))
    const batcher = new CosignBatcher<Run>({ windowMs: 5 })
    const runs = await Promise.all(
      ['a', 'b', 'c', 'd'].map(n => batcher.submit('k', cosign.request(n)))
    )
    expect(runs.map(r => [r.exitCode, r.via])).toEqual([
      [0, 'group'],
      [1, 'alone'],
      [0, 'group'],
      [0, 'group']
    ])
    expect(runs[1].stderr).toBe('Error: b is unsigned')
    expect(cosign.calls.map(c => c.length)).toEqual([4, 1, 2])
  })

  it('when an array names another digest than its image, that image and the ones after it are verified alone', async () => {
    const cosign = fakeCosign(new Set(), new Set(['b']))
    const batcher = new CosignBatcher<Run>({ windowMs: 5 })
    const runs = await Promise.all(['a', 'b', 'c'].map(n => batcher.submit('k', cosign.request(n))))
    expect(runs.map(r => r.via)).toEqual(['alone', 'alone', 'alone'])
    expect(cosign.calls.map(c => c.length)).toEqual([3, 1, 1, 1])
  })

  it('a full group is called at once; the same reference twice never shares a call', async () => {
    const cosign = fakeCosign(new Set())
    const batcher = new CosignBatcher<Run>({ windowMs: 60_000, maxImages: 2 })
    await Promise.all(['a', 'b'].map(n => batcher.submit('k', cosign.request(n))))
    expect(cosign.calls).toEqual([['r/a@' + digestOf('a'), 'r/b@' + digestOf('b')]])
    const twice = new CosignBatcher<Run>({ windowMs: 5 })
    await Promise.all(['a', 'a'].map(n => twice.submit('k', cosign.request(n))))
    expect(cosign.calls.slice(1).map(c => c.length)).toEqual([1, 1])
  })

  it('a group of one is the image own call', async () => {
    const cosign = fakeCosign(new Set(['a']))
    const run = await new CosignBatcher<Run>({ windowMs: 1 }).submit('k', cosign.request('a'))
    expect(run).toMatchObject({ exitCode: 1, via: 'alone', stderr: 'Error: a is unsigned' })
  })

  it('groups only while at least 4 calls stay in flight, and a group size of 1 never waits', async () => {
    expect([1, 4, 7, 8, 16, 32, 64].map(groupSizeFor)).toEqual([1, 1, 1, 2, 4, 8, 10])
    const cosign = fakeCosign(new Set())
    const batcher = new CosignBatcher<Run>({ windowMs: 600_000, maxImages: groupSizeFor(4) })
    const runs = await Promise.all(['a', 'b'].map(n => batcher.submit('k', cosign.request(n))))
    expect(runs.map(r => r.via)).toEqual(['alone', 'alone'])
  })
})
