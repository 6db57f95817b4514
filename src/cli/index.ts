/** The `rocm-provenance` command's entry point (bundled to dist/cli.js). */
import { main } from './commands.js'

process.exitCode = await main(process.argv.slice(2))
