/** The action's own version, recorded in every report (kept equal to package.json's by a test). */
export const ACTION_VERSION = '4.0.0'
