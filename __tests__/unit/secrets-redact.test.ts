import { describe, expect, it } from '@jest/globals'
import { SecretRedactor } from '../../src/domain/secrets.js'

describe('SecretRedactor', () => {
  it('redacts a password, its Basic form and tokens in every string of a value, keys and shape kept', () => {
    const secrets = new SecretRedactor()
    secrets.addCredential('ci', 'pa55-word')
    secrets.add('ghs_token123')
    secrets.add('')
    const basic = Buffer.from('ci:pa55-word').toString('base64')
    const value = {
      errors: [`denied: Authorization: Basic ${basic}`, 'token ghs_token123 and pa55-word'],
      nested: { count: 3, ok: true, none: null, text: 'clean' }
    }
    expect(secrets.redactDeep(value)).toEqual({
      errors: ['denied: Authorization: Basic ***', 'token *** and ***'],
      nested: { count: 3, ok: true, none: null, text: 'clean' }
    })
    expect(secrets.size).toBe(3)
  })

  it('leaves a value untouched when nothing is registered', () => {
    const value = { a: 'x' }
    expect(new SecretRedactor().redactDeep(value)).toBe(value)
  })
})
