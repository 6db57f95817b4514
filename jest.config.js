// ESM jest for TypeScript: the @actions/* packages are ESM-only, so tests run
// as ES modules (NODE_OPTIONS=--experimental-vm-modules, set by scripts/test.sh).
// Two suites: unit (pure code, plain values) and integration (the real cosign,
// crane and registry, loopback stand-ins of GitHub's services, the bundle run
// as the runner runs it). `npm test` runs both; `npm run test:unit` and
// `npm run test:integration` run one.
const base = {
  preset: 'ts-jest/presets/default-esm',
  resolver: 'ts-jest-resolver',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }
    ]
  }
}

export default {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/integration/**/*.test.ts']
    }
  ],
  testTimeout: 60000,
  maxWorkers: 2,
  verbose: false
}
