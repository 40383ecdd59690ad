/**
 * @module controller/translator
 * Public face of the translator: `translate(store, options)` and its result types.
 */

export { translate, DEFAULT_GATEWAY_CONTROLLER_NAME, type TranslateOptions, type TranslationResult } from './translator.ts';
export { formatFailure, type TranslationFailure, type FailureObject } from './failures.ts';
export type { HTTPRouteStatus, RouteParentStatus, RouteCondition } from './gateway.ts';
export type { DeclarativeConfig } from './output.ts';
