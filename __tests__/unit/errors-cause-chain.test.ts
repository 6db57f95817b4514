import { describe, expect, it } from '@jest/globals'
import { causeChain, InputError } from '../../src/domain/errors.js'

describe('causeChain', () => {
  it('prefixes a code once: not again when the message already starts with it', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'nope.json'"), {
      code: 'ENOENT'
    })
    expect(causeChain(new InputError('cannot read the report', { cause: enoent }))).toEqual([
      'INPUT_INVALID: cannot read the report',
      "ENOENT: no such file or directory, open 'nope.json'"
    ])
  })
})
