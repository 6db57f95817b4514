// Types of scripts/schema-validators.mjs, for the unit test that keeps the generated validators fresh.
export declare const GENERATED_VALIDATORS: string
export declare function validatorsSource(): string
export declare function writeValidators(): void
