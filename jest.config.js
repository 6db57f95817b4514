// ESM jest for TypeScript: the @actions/* packages are ESM-only, so tests run
// as ES modules (NODE_OPTIONS=--experimental-vm-modules, set by scripts/test.sh).
export default {
  preset: 'ts-jest/presets/default-esm',
  resolver: 'ts-jest-resolver',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }
    ]
  },
  testTimeout: 60000,
  maxWorkers: 2,
  verbose: false
}
