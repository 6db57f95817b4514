/** What the action reads from the runner besides its inputs. */
export interface RunnerContext {
  workspace: string
  env: NodeJS.ProcessEnv
  now: Date
}

export function runnerContext(env: NodeJS.ProcessEnv = process.env): RunnerContext {
  return { workspace: env.GITHUB_WORKSPACE || process.cwd(), env, now: new Date() }
}
