import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'
import importX from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'

// The layers of src/ (docs/architecture.md draws them). Each entry: the layer,
// and the layers it must not import. Entry points (action/, cli/) may import
// any layer but each other; pure layers import no adapter and no I/O module.
const LAYERS = ['lib', 'domain', 'config', 'render', 'app', 'adapters', 'action', 'cli']
const MAY_IMPORT = {
  lib: ['lib'],
  domain: ['domain', 'lib'],
  config: ['config', 'domain', 'lib'],
  render: ['render', 'domain', 'lib'],
  app: ['app', 'domain', 'config', 'render', 'lib'],
  adapters: ['adapters', 'app', 'domain', 'config', 'render', 'lib'],
  action: ['action', 'adapters', 'app', 'domain', 'config', 'render', 'lib'],
  cli: ['cli', 'adapters', 'app', 'domain', 'config', 'render', 'lib']
}
const zones = LAYERS.map(layer => ({
  target: `./src/${layer}`,
  from: LAYERS.filter(other => !MAY_IMPORT[layer].includes(other)).map(other => `./src/${other}`),
  message: `the ${layer} layer may import only ${MAY_IMPORT[layer].join(', ')} (docs/architecture.md)`
}))
// Pure layers: no file system, network, processes or @actions/* toolkit.
const PURE = ['lib', 'domain', 'config', 'render', 'app'].map(layer => `src/${layer}/**/*.ts`)

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', 'coverage/', 'src/**/*.generated.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off'
    }
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })]
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones }]
    }
  },
  {
    files: PURE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                '@actions/*',
                'fs',
                'fs/*',
                'child_process',
                'http',
                'https',
                'net'
              ],
              message:
                'pure layers do no I/O: put it in src/adapters/ behind a port (src/app/ports.ts)'
            }
          ]
        }
      ]
    }
  }
)
