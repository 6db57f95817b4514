// Types of the validators scripts/schema-validators.mjs generates.
import type { ValidateFunction } from 'ajv'

export declare const policy: ValidateFunction
export declare const matrix: ValidateFunction
